// An s3rver for tests of a remote that goes away and comes back: like test/support/s3.ts, but
// on a port chosen once, so that shutDown() and startAgain() stop the server (its port closed,
// its connections gone) and start it again where clients look for it, with its objects kept on
// disk. Started as s3.ts starts its own, with --openssl-legacy-provider (see s3rver-process.js).
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  PortInUseError,
  freePort,
  makeTempDir,
  removeTempDir,
  spawnServer,
  startWithPortRetries,
  stopProcess,
} from './servers.js';

const SCRIPT = fileURLToPath(new URL('./s3rver-process.js', import.meta.url));
const READY_TIMEOUT_MS = 15_000;
/** s3rver-process.js exits with this when the port is taken. */
const EXIT_PORT_IN_USE = 3;

export interface RestartableS3 {
  endpoint: string;
  port: number;
  /** Where s3rver keeps its buckets: an object is the file `<bucket>/<key>._S3rver_object`. */
  dir: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Stops the server, keeping its objects and port for startAgain. */
  shutDown(): Promise<void>;
  /** Starts it again after shutDown, on the same port with the same objects. */
  startAgain(): Promise<void>;
  /** Stops the server process (SIGSTOP): its connections stay open and answer nothing. */
  freeze(): void;
  /** Lets it go on (SIGCONT). */
  thaw(): void;
  /** Stops it and removes its folder. */
  stop(): Promise<void>;
}

class Instance implements RestartableS3 {
  readonly accessKeyId = 'S3RVER';
  readonly secretAccessKey = 'S3RVER';
  private child: ChildProcess | null = null;

  constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async startAgain(): Promise<void> {
    if (this.child) return;
    const child = spawnServer(
      process.execPath,
      ['--openssl-legacy-provider', SCRIPT, this.dir, String(this.port)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    try {
      await listening(child);
    } catch (error) {
      this.child = null;
      await stopProcess(child, 1_000);
      throw error;
    }
  }

  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  async shutDown(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    await stopProcess(child, 2_000);
  }

  async stop(): Promise<void> {
    await this.shutDown();
    await removeTempDir(this.dir);
  }

  async createBucket(name: string): Promise<void> {
    const client = new S3Client({
      endpoint: this.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: this.accessKeyId, secretAccessKey: this.secretAccessKey },
    });
    try {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    } finally {
      client.destroy();
    }
  }
}

/** Resolves once the process says it listens; a port taken is a PortInUseError. */
function listening(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onStdout);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve();
    };
    const onStdout = (chunk: string): void => {
      if (chunk.includes('\n')) finish();
    };
    const onExit = (code: number | null): void =>
      finish(
        code === EXIT_PORT_IN_USE
          ? new PortInUseError(stderr)
          : new Error(`s3rver exited during startup (${code}):\n${stderr}`),
      );
    const timer = setTimeout(
      () => finish(new Error(`s3rver did not listen within ${READY_TIMEOUT_MS} ms:\n${stderr}`)),
      READY_TIMEOUT_MS,
    );
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      if (stderr.length < 64 * 1024) stderr += chunk;
    });
    child.stdout?.on('data', onStdout);
    child.once('exit', onExit);
  });
}

/** Starts a server with `buckets` made. */
export async function startRestartableS3(
  options: { buckets?: string[] } = {},
): Promise<RestartableS3> {
  return startWithPortRetries(async () => {
    const server = new Instance(await makeTempDir('s3rver'), await freePort());
    try {
      await server.startAgain();
      for (const bucket of options.buckets ?? []) await server.createBucket(bucket);
      return server;
    } catch (error) {
      await server.stop();
      throw error;
    }
  });
}
