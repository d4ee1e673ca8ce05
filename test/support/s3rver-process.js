// The s3rver process that test/support/s3.ts starts, as `node --openssl-legacy-provider
// s3rver-process.js DIRECTORY`: s3rver makes its ListObjectsV2 continuation tokens with DES,
// which OpenSSL 3 offers only through its legacy provider, so paginated listings fail (HTTP
// 500) in any process started without the flag. It listens on 127.0.0.1 and a port the system
// picks, says which on its first line of output, and stops cleanly on SIGTERM or SIGINT.
import S3rver from 's3rver';

const directory = process.argv[2];
if (!directory) {
  console.error('usage: node --openssl-legacy-provider s3rver-process.js DIRECTORY');
  process.exit(2);
}

const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    server.close().then(
      () => process.exit(0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
