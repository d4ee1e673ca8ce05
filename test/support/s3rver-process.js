// The s3rver process the S3 test harnesses start, as `node --openssl-legacy-provider
// s3rver-process.js DIRECTORY [PORT]`: s3rver makes its ListObjectsV2 continuation tokens with
// DES, which OpenSSL 3 offers only through its legacy provider, so paginated listings fail (HTTP
// 500) in any process started without the flag. It listens on 127.0.0.1, on PORT when given (so
// that a server stopped and started again is found where it was: test/support/restartable-s3.ts)
// or on a port the system picks (test/support/s3.ts), says which on its first line of output,
// exits with 3 when PORT is taken, and stops cleanly on SIGTERM or SIGINT.
import S3rver from 's3rver';

const [directory, portArgument] = process.argv.slice(2);
if (!directory) {
  console.error('usage: node --openssl-legacy-provider s3rver-process.js DIRECTORY [PORT]');
  process.exit(2);
}

const server = new S3rver({
  address: '127.0.0.1',
  port: Number(portArgument ?? 0),
  silent: true,
  directory,
});
let port;
try {
  ({ port } = await server.run());
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(error?.code === 'EADDRINUSE' ? 3 : 1);
}
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
