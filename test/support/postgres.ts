// Starts a real PostgreSQL 15 for integration tests and benchmarks: one per call, from its own
// temporary directory, on 127.0.0.1 and a free port, following the recipe in
// shared/TEST-SERVERS.md. initdb and the server refuse to run as root, so as root they run as
// `nobody` (setpriv); the client tools (psql, pg_dump, pg_restore) run as whoever we are and
// reach the server over TCP with a password, exactly as a configured backup command would.
import { spawn, type ChildProcess } from 'node:child_process';
import { chown, mkdir, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerBinary } from './servers.js';
import {
  PortInUseError,
  startWithPortRetries,
  assertBinaries,
  freePort,
  isExecutable,
  makeTempDir,
  removeTempDir,
  requireBinaries,
  waitForExit,
} from './servers.js';

export const POSTGRES_BIN = '/usr/lib/postgresql/15/bin';

function tool(name: string): ServerBinary {
  return {
    name: `PostgreSQL ${name}`,
    path: join(POSTGRES_BIN, name),
    debianPackage: 'postgresql',
  };
}

const BINARIES = ['initdb', 'postgres', 'psql', 'pg_dump', 'pg_restore'].map(tool);
const SETPRIV = '/usr/bin/setpriv';

/**
 * For `describe.skipIf(!havePostgres)`: false only when PostgreSQL 15 is missing outside CI (a
 * reason is printed); under CI it stays true so that startPostgres fails the tests instead.
 */
export const havePostgres: boolean = requireBinaries(...BINARIES);

/** The server runs as this user when we are root (initdb refuses root). */
const UNPRIVILEGED = { uid: 65534, gid: 65534, name: 'nobody' };

export type PostgresTool = 'psql' | 'pg_dump' | 'pg_restore' | 'createdb' | 'dropdb';

export interface ToolResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export interface PostgresServer {
  host: string;
  port: number;
  /** The server's temporary directory. */
  dir: string;
  user: string;
  password: string;
  /**
   * PGHOST, PGPORT, PGUSER and PGPASSWORD: with these in its environment a libpq client
   * (psql, pg_dump, pg_restore, a backup command run by mailvault) reaches the server.
   */
  env: Record<string, string>;
  /** Absolute path of a client tool. */
  bin(name: PostgresTool): string;
  /** Runs a client tool with `env`; throws (with its error output) unless it exits 0. */
  run(name: PostgresTool, args: string[], input?: Buffer | string): Promise<ToolResult>;
  /** Runs SQL (several statements allowed) in a database; stops at the first error. */
  sql(database: string, sql: string): Promise<string>;
  /** `COPY (query) TO STDOUT`: the rows as PostgreSQL's own text format, byte-exact. */
  copyOut(database: string, query: string): Promise<Buffer>;
  createDatabase(name: string): Promise<void>;
  dropDatabase(name: string): Promise<void>;
  /** The server's log so far. */
  log(): string;
  /** Fast shutdown, then the directory is removed. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;

/** Starts a server, retrying on another port if the one picked is taken meanwhile. */
export async function startPostgres(): Promise<PostgresServer> {
  assertBinaries(...BINARIES);
  const dir = await makeTempDir('postgres');
  try {
    const data = await initialize(dir);
    return await startWithPortRetries(async () => Instance.start(dir, data, await freePort()));
  } catch (error) {
    await removeTempDir(dir);
    throw error;
  }
}

const asRoot = (): boolean => process.getuid?.() === 0;

/** The argument list that runs `command` as the unprivileged user when we are root. */
function unprivileged(command: string, args: string[]): [string, string[]] {
  if (!asRoot()) return [command, args];
  if (!isExecutable(SETPRIV))
    throw new Error(`PostgreSQL cannot run as root and ${SETPRIV} (util-linux) is missing`);
  return [
    SETPRIV,
    [
      // Set after the change of user, so it survives it: the server dies with the test process.
      '--pdeathsig',
      'KILL',
      `--reuid=${UNPRIVILEGED.uid}`,
      `--regid=${UNPRIVILEGED.gid}`,
      '--clear-groups',
      command,
      ...args,
    ],
  ];
}

const PASSWORD = 'mailvault-test-pw';

/** initdb into `dir/pg/data` (about 0.6 s), owned by the user the server runs as. */
async function initialize(dir: string): Promise<string> {
  const pg = join(dir, 'pg');
  await mkdir(pg, { mode: 0o700 });
  await writeFile(join(pg, 'pw'), `${PASSWORD}\n`, { mode: 0o600 });
  if (asRoot()) {
    await chown(pg, UNPRIVILEGED.uid, UNPRIVILEGED.gid);
    await chown(join(pg, 'pw'), UNPRIVILEGED.uid, UNPRIVILEGED.gid);
  }
  const data = join(pg, 'data');
  const [command, args] = unprivileged(join(POSTGRES_BIN, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=scram-sha-256',
    `--pwfile=${join(pg, 'pw')}`,
    '--no-sync',
    '--no-instructions',
    '-E',
    'UTF8',
    '--locale=C.UTF-8',
  ]);
  const result = await collect(
    spawn(command, args, { cwd: pg, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  if (result.code !== 0)
    throw new Error(
      `initdb failed (exit ${result.code}):\n${result.stderr}\n${result.stdout.toString()}`,
    );
  return data;
}

function collect(child: ChildProcess, input?: Buffer | string): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (data: Buffer) => out.push(data));
    child.stderr?.on('data', (data: Buffer) => err.push(data));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }),
    );
    if (child.stdin) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    }
  });
}

class Instance implements PostgresServer {
  readonly host = '127.0.0.1';
  readonly user = 'postgres';
  readonly password = PASSWORD;
  readonly env: Record<string, string>;
  private stderr = '';
  private stopped = false;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    this.env = {
      PGHOST: this.host,
      PGPORT: String(port),
      PGUSER: this.user,
      PGPASSWORD: PASSWORD,
      PGCONNECT_TIMEOUT: '10',
    };
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      if (this.stderr.length < 256 * 1024) this.stderr += text;
    });
  }

  static async start(dir: string, data: string, port: number): Promise<Instance> {
    const [command, args] = unprivileged(join(POSTGRES_BIN, 'postgres'), [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      join(dir, 'pg'),
      '-c',
      'listen_addresses=127.0.0.1',
      // A test database need not survive a crash of the machine.
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'logging_collector=off',
    ]);
    const child = spawn(command, args, {
      cwd: join(dir, 'pg'),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    track(child);
    const instance = new Instance(dir, port, child);
    await instance.ready();
    return instance;
  }

  /** Resolves once the server logs that it accepts connections. */
  private async ready(): Promise<void> {
    const started = Date.now();
    for (;;) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        if (/could not bind|Address already in use/.test(this.stderr))
          throw new PortInUseError(this.stderr);
        throw new Error(`PostgreSQL exited during startup:\n${this.stderr}`);
      }
      if (this.stderr.includes('database system is ready to accept connections')) return;
      if (Date.now() - started > READY_TIMEOUT_MS) {
        this.child.kill('SIGKILL');
        throw new Error(`PostgreSQL was not ready within ${READY_TIMEOUT_MS} ms:\n${this.stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  bin(name: PostgresTool): string {
    return join(POSTGRES_BIN, name);
  }

  async run(name: PostgresTool, args: string[], input?: Buffer | string): Promise<ToolResult> {
    const child = spawn(this.bin(name), args, {
      env: { ...process.env, ...this.env },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const result = await collect(child, input);
    if (result.code !== 0)
      throw new Error(`${name} ${args.join(' ')} failed (exit ${result.code}): ${result.stderr}`);
    return result;
  }

  async sql(database: string, sql: string): Promise<string> {
    const result = await this.run(
      'psql',
      ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', database, '-f', '-'],
      sql,
    );
    return result.stdout.toString('utf8');
  }

  async copyOut(database: string, query: string): Promise<Buffer> {
    const result = await this.run('psql', [
      '-X',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      '-d',
      database,
      '-c',
      `COPY (${query}) TO STDOUT`,
    ]);
    return result.stdout;
  }

  async createDatabase(name: string): Promise<void> {
    await this.sql('postgres', `CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  }

  async dropDatabase(name: string): Promise<void> {
    await this.sql(
      'postgres',
      `DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}" WITH (FORCE)`,
    );
  }

  log(): string {
    try {
      return this.stderr + readFileSync(join(this.dir, 'pg', 'log'), 'utf8');
    } catch {
      return this.stderr;
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = waitForExit(this.child);
      // SIGINT is PostgreSQL's fast shutdown (SIGTERM would wait for every session to end).
      this.child.kill('SIGINT');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await removeTempDir(this.dir);
  }
}

const live = new Set<ChildProcess>();
let exitHandler = false;

/** Killed at exit if still running (setpriv's parent-death signal covers a killed test process). */
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (exitHandler) return;
  exitHandler = true;
  process.once('exit', () => {
    for (const server of live) {
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    }
  });
}
