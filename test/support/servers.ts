// Shared plumbing for the harnesses that start real servers (Dovecot, Radicale, ...) for
// integration tests: finding the binary, free ports, temporary directories, and making sure
// nothing outlives the test process.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync, rmSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface ServerBinary {
  /** What the server is called in messages, e.g. "Dovecot". */
  name: string;
  /** Absolute path of the executable. */
  path: string;
  /** The Debian package that installs it. */
  debianPackage: string;
  /** How to install it, where `apt-get install -y <debianPackage>` is not the way. */
  install?: string;
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function missingMessage(binary: ServerBinary): string {
  return (
    `${binary.name} is not installed (${binary.path} not found): ` +
    (binary.install ?? `run \`apt-get install -y ${binary.debianPackage}\``)
  );
}

/** CI sets CI=true; read at each call so tests of this logic can change it. */
export function onCi(): boolean {
  return process.env.CI === 'true';
}

/**
 * Whether the suites that need `binaries` should run. Outside CI a missing binary skips them
 * with a printed reason, so a developer without the package still gets a green run of the
 * rest. Under CI it returns true anyway: the suite runs, and `assertBinaries` in the start
 * function fails every test with the package to install, because a skipped integration suite
 * on CI would look like a pass.
 */
export function requireBinaries(...binaries: ServerBinary[]): boolean {
  const missing = binaries.filter((binary) => !isExecutable(binary.path));
  if (missing.length === 0 || onCi()) return true;
  for (const binary of missing) console.warn(`Skipping: ${missingMessage(binary)}`);
  return false;
}

/** Throws, naming the Debian package, when one of `binaries` is missing. */
export function assertBinaries(...binaries: ServerBinary[]): void {
  const missing = binaries.filter((binary) => !isExecutable(binary.path));
  if (missing.length > 0) throw new Error(missing.map(missingMessage).join('; '));
}

/** A port on 127.0.0.1 that was free a moment ago; callers retry if they lose the race. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the port of a listening socket'));
        return;
      }
      const { port } = address;
      server.close(() => resolve(port));
    });
  });
}

const TEMP_PREFIX = 'mailvault-test-';
const OWNER_FILE = '.mailvault-owner-pid';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM means it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let swept = false;

// A test process killed with SIGKILL (a vitest timeout, a CI cancel) never runs its exit
// handlers, so its directories stay behind; the next run removes those whose owner is gone.
function sweepStaleTempDirs(): void {
  if (swept) return;
  swept = true;
  let entries: string[];
  try {
    entries = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!entry.startsWith(TEMP_PREFIX)) continue;
    const dir = join(tmpdir(), entry);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, OWNER_FILE), 'utf8'));
    } catch {
      continue; // not one of ours, or still being created
    }
    if (Number.isInteger(owner) && owner > 0 && !processAlive(owner)) {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

const liveDirs = new Set<string>();
const liveProcesses = new Set<ChildProcess>();

/**
 * A fresh directory under os.tmpdir(), mode 755 so that servers dropping privileges (Dovecot's
 * mail processes run as uid 5000) can traverse it. Removed at process exit if still there.
 */
export async function makeTempDir(prefix: string): Promise<string> {
  sweepStaleTempDirs();
  registerExitHandler();
  const dir = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}${prefix}-`));
  await chmod(dir, 0o755);
  await writeFile(join(dir, OWNER_FILE), String(process.pid));
  liveDirs.add(dir);
  return dir;
}

/** Removes a directory made by makeTempDir; tolerates files still being written by a server. */
export async function removeTempDir(dir: string): Promise<void> {
  liveDirs.delete(dir);
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
}

export function removeTempDirSync(dir: string): void {
  liveDirs.delete(dir);
  rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
}

const setpriv = '/usr/bin/setpriv';

/**
 * Spawns a server process that is SIGKILLed when the test process dies, even by SIGKILL:
 * through `setpriv --pdeathsig KILL` where available (util-linux), and the exit handler
 * below otherwise. The PID is the server's own, since setpriv execs it.
 */
export function spawnServer(command: string, args: string[], options: SpawnOptions): ChildProcess {
  registerExitHandler();
  const child = isExecutable(setpriv)
    ? spawn(setpriv, ['--pdeathsig', 'KILL', command, ...args], options)
    : spawn(command, args, options);
  liveProcesses.add(child);
  child.once('exit', () => liveProcesses.delete(child));
  return child;
}

let exitHandlerRegistered = false;

// Synchronous, as 'exit' handlers must be: kill by PID, remove the directories.
function cleanUpNow(): void {
  for (const child of liveProcesses) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  for (const dir of [...liveDirs]) {
    try {
      removeTempDirSync(dir);
    } catch {
      // best effort: the next run's sweep gets it
    }
  }
}

function registerExitHandler(): void {
  if (exitHandlerRegistered) return;
  exitHandlerRegistered = true;
  process.once('exit', cleanUpNow);
  // Vitest ends its worker processes with SIGTERM, which skips 'exit' handlers. Clean up, then
  // let the signal do what it would have done: re-raise it unless someone else handles it.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanUpNow();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/** Resolves when `child` has exited (at once if it already has). */
export function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM, then SIGKILL if the process is still there after `graceMs`. */
export async function stopProcess(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = waitForExit(child);
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), graceMs);
  });
  const late = await Promise.race([exited.then(() => false), timedOut]);
  clearTimeout(timer);
  if (late) {
    child.kill('SIGKILL');
    await exited;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A server could not bind its port (another process took it first): start again on another. */
export class PortInUseError extends Error {}

export interface ReadyCheck {
  /** The server's name in messages. */
  name: string;
  /** Whether it answers as ours (a probe, or a line in its log). */
  ready: () => Promise<boolean>;
  /** What it said so far, for the messages (and to tell a port taken by another server). */
  output: () => string;
  timeoutMs: number;
  portInUse?: RegExp;
  pollMs?: number;
}

/**
 * Waits for a server just started to answer. If it exits first, the port taken by someone else
 * is a PortInUseError (startWithPortRetries tries another), anything else an error with its
 * output; if it stays silent past the timeout, it is stopped and that is an error too.
 */
export async function waitForReady(child: ChildProcess, check: ReadyCheck): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const output = check.output();
      if ((check.portInUse ?? /Address already in use/).test(output))
        throw new PortInUseError(output);
      throw new Error(
        `${check.name} exited during startup (${child.exitCode ?? child.signalCode}):\n${output}`,
      );
    }
    if (await check.ready()) return;
    if (Date.now() - started > check.timeoutMs) {
      await stopProcess(child, 1_000);
      throw new Error(
        `${check.name} did not answer within ${check.timeoutMs} ms:\n${check.output()}`,
      );
    }
    await sleep(check.pollMs ?? 20);
  }
}

/**
 * Starts a server, again on a fresh port when the one it was given was taken between choosing it
 * and binding it (up to five attempts); any other failure is final.
 */
export async function startWithPortRetries<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (!(error instanceof PortInUseError) || attempt >= 5) throw error;
    }
  }
}

export const OPENSSL: ServerBinary = {
  name: 'OpenSSL',
  path: '/usr/bin/openssl',
  debianPackage: 'openssl',
};

/** A self-signed certificate for localhost and 127.0.0.1 in `dir` (cert.pem, key.pem). */
export async function makeCertificate(dir: string): Promise<void> {
  assertBinaries(OPENSSL);
  await mkdir(dir, { recursive: true });
  // EC keys: generated in milliseconds, where RSA-2048 costs up to a second.
  await promisify(execFile)(OPENSSL.path, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '3650',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout',
    join(dir, 'key.pem'),
    '-out',
    join(dir, 'cert.pem'),
  ]);
}
