// The s3rver process that test/support/restartable-s3.ts starts, as `node
// --openssl-legacy-provider s3rver-on-port.js DIRECTORY PORT`: like s3rver-process.js, but on a
// port given, so that a server stopped and started again is found where it was (a remote that
// went away and came back). It says it listens on its first line of output and stops cleanly on
// SIGTERM or SIGINT.
import S3rver from 's3rver';

const [directory, port] = process.argv.slice(2);
if (!directory || !port) {
  console.error('usage: node --openssl-legacy-provider s3rver-on-port.js DIRECTORY PORT');
  process.exit(2);
}

const server = new S3rver({ address: '127.0.0.1', port: Number(port), silent: true, directory });
try {
  await server.run();
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(error?.code === 'EADDRINUSE' ? 3 : 1);
}
process.stdout.write(`${JSON.stringify({ port: Number(port) })}\n`);

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
