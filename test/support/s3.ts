// Starts s3rver, a small S3 server written in JavaScript, for integration tests: one per call,
// from its own temporary directory, on 127.0.0.1, following shared/TEST-SERVERS.md. It runs in
// a child node process started with --openssl-legacy-provider (see s3rver-process.js for why).
// s3rver stands in for the protocol, not for S3's behaviour: what passes here must use only
// calls that AWS, MinIO, Ceph and Garage all answer alike.
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { makeTempDir, onCi, removeTempDir, spawnServer, stopProcess } from './servers.js';

const SCRIPT = fileURLToPath(new URL('./s3rver-process.js', import.meta.url));
const READY_TIMEOUT_MS = 15_000;

function s3rverInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('s3rver');
    return true;
  } catch {
    return false;
  }
}

const MISSING = 's3rver is not installed: run `npm install` (it is a devDependency)';

/**
 * For `describe.skipIf(!haveS3rver)`. False only when s3rver is missing outside CI (a reason is
 * printed); under CI it stays true so that startS3rver fails the tests instead of skipping them.
 */
export const haveS3rver: boolean = s3rverInstalled() || onCi();
if (!s3rverInstalled() && !onCi()) console.warn(`Skipping: ${MISSING}`);

export interface S3rverServer {
  /** For a client's `endpoint`, e.g. http://127.0.0.1:41234; buckets go in the path. */
  endpoint: string;
  port: number;
  dir: string;
  /** s3rver's one account: any other key is refused with 403. */
  accessKeyId: string;
  secretAccessKey: string;
  /** A client for the test's own look at the server (path style, s3rver's keys, us-east-1). */
  client: S3Client;
  createBucket(name: string): Promise<void>;
  /** What the server process wrote to stderr so far. */
  log(): string;
  stop(): Promise<void>;
}

class Instance implements S3rverServer {
  readonly accessKeyId = 'S3RVER';
  readonly secretAccessKey = 'S3RVER';
  private output = '';
  private stopped = false;
  private clientInstance: S3Client | undefined;

  constructor(
    readonly dir: string,
    private readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      if (this.output.length < 1024 * 1024) this.output += chunk;
    });
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get client(): S3Client {
    this.clientInstance ??= new S3Client({
      endpoint: this.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: this.accessKeyId, secretAccessKey: this.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    return this.clientInstance;
  }

  async createBucket(name: string): Promise<void> {
    await this.client.send(new CreateBucketCommand({ Bucket: name }));
  }

  log(): string {
    return this.output;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.clientInstance?.destroy();
    await stopProcess(this.child, 2_000);
    await removeTempDir(this.dir);
  }
}

/**
 * Starts a server and creates `buckets` (default: none). The server picks its own port and
 * reports it, so there is no race for a free one.
 */
export async function startS3rver(options: { buckets?: string[] } = {}): Promise<S3rverServer> {
  if (!s3rverInstalled()) throw new Error(MISSING);
  const dir = await makeTempDir('s3rver');
  const child = spawnServer(process.execPath, ['--openssl-legacy-provider', SCRIPT, dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let server: Instance | undefined;
  try {
    server = new Instance(dir, child, await announcedPort(child));
    for (const bucket of options.buckets ?? []) await server.createBucket(bucket);
    return server;
  } catch (error) {
    if (server) await server.stop();
    else {
      await stopProcess(child, 1_000);
      await removeTempDir(dir);
    }
    throw error;
  }
}

/** The port from the process's first line of output, once it listens. */
function announcedPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const finish = (error: Error | undefined, line = ''): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onStdout);
      child.stderr?.off('data', onStderr);
      child.off('exit', onExit);
      child.off('error', finish);
      if (error) return reject(error);
      const port = portIn(line);
      if (port !== undefined) resolve(port);
      else reject(new Error(`s3rver announced no port: ${line}`));
    };
    const onStdout = (chunk: string): void => {
      stdout += chunk;
      const end = stdout.indexOf('\n');
      if (end >= 0) finish(undefined, stdout.slice(0, end));
    };
    const onStderr = (chunk: string): void => {
      stderr += chunk;
    };
    const onExit = (): void =>
      finish(
        new Error(
          `s3rver exited during startup (${child.exitCode ?? child.signalCode}):\n${stderr}`,
        ),
      );
    const timer = setTimeout(
      () => finish(new Error(`s3rver did not listen within ${READY_TIMEOUT_MS} ms:\n${stderr}`)),
      READY_TIMEOUT_MS,
    );
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', onStdout);
    child.stderr?.on('data', onStderr);
    child.once('exit', onExit);
    child.once('error', finish);
  });
}

function portIn(line: string): number | undefined {
  try {
    const port: unknown = (JSON.parse(line) as { port?: unknown }).port;
    return typeof port === 'number' ? port : undefined;
  } catch {
    return undefined;
  }
}
