// A temporary mailvault installation for a test: a configuration naming a Dovecot test server,
// a repository and a catalog in a temporary folder, and a way to run the real CLI on it.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DovecotServer } from './dovecot.js';
import { runInProcess } from './in-process-cli.js';
import { makeTempDir, removeTempDir } from './servers.js';

const checkout = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MAILVAULT_BIN = join(checkout, 'bin', 'mailvault.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json runs). */
  json<T = unknown>(): T;
}

export interface WorkspaceOptions {
  accounts: string[];
  auth?: 'master' | 'authzid';
  concurrency?: number;
  batchSize?: number;
  /** Extra YAML appended to the configuration. */
  extra?: string;
  /** The repository's URL (default: a folder in the workspace) and lines below `repository:`. */
  repository?: { url: string; extra?: string[] };
}

export interface Workspace {
  dir: string;
  config: string;
  repository: string;
  catalog: string;
  run(args: string[], options?: CliRunOptions): Promise<CliResult>;
  /** Starts the CLI without waiting, for tests that kill it. */
  spawn(args: string[]): ChildProcess;
  remove(): Promise<void>;
}

/** What a configuration needs of an IMAP test server (Dovecot's harness, or Cyrus's). */
export type ImapTestServer = Pick<DovecotServer, 'host' | 'port' | 'master'>;

export function configYaml(server: ImapTestServer, dir: string, options: WorkspaceOptions): string {
  const auth = options.auth ?? 'authzid';
  return [
    'repository:',
    `  url: ${options.repository?.url ?? join(dir, 'repo')}`,
    `  passwordFile: ${join(dir, 'repo.pass')}`,
    ...(options.repository?.extra ?? []).map((line) => `  ${line}`),
    'catalog:',
    `  url: ${join(dir, 'catalog.sqlite')}`,
    'servers:',
    '  - name: mail1',
    `    imap: { host: ${server.host}, port: ${server.port}, tls: none, timeout: 20, auth: { mode: ${auth}, user: ${server.master.user}, passwordFile: ${join(dir, 'admin.pass')} } }`,
    `    accounts: { list: [${options.accounts.join(', ')}] }`,
    `backup: { concurrency: ${options.concurrency ?? 4} }`,
    `restore: { batchSize: ${options.batchSize ?? 100} }`,
    options.extra ?? '',
  ].join('\n');
}

export async function createWorkspace(
  server: ImapTestServer,
  options: WorkspaceOptions,
): Promise<Workspace> {
  const dir = await makeTempDir('mailvault-ws-');
  const config = join(dir, 'mailvault.yml');
  await writeFile(join(dir, 'repo.pass'), 'correct horse battery staple\n');
  await writeFile(join(dir, 'admin.pass'), `${server.master.password}\n`);
  await writeFile(config, configYaml(server, dir, options));
  const argv = (args: string[]): string[] => [
    MAILVAULT_BIN,
    '--config',
    config,
    '--no-progress',
    ...args,
  ];
  return {
    dir,
    config,
    repository: join(dir, 'repo'),
    catalog: join(dir, 'catalog.sqlite'),
    run: (args, runOptions = {}) => runCli(config, args, runOptions),
    spawn: (args) =>
      spawn(process.execPath, argv(args), { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv({}) }),
    remove: () => removeTempDir(dir),
  };
}

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (!('MAILVAULT_PASSWORD' in extra)) delete env.MAILVAULT_PASSWORD;
  delete env.MAILVAULT_CONFIG;
  return env;
}

export function runNode(
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<CliResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: cleanEnv(env),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (data: Buffer) => out.push(data));
    child.stderr.on('data', (data: Buffer) => err.push(data));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      resolveRun({
        code,
        stdout,
        stderr,
        json: <T>() => parseJson<T>(code, stdout, stderr),
      });
    });
  });
}

export interface CliRunOptions {
  /** Variables added to the environment; a run given any gets a process of its own. */
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Run the binary in a process of its own even without `env`. */
  process?: boolean;
}

/**
 * Runs the CLI on a configuration file. A run with nothing of its own in the environment calls
 * the built CLI's main() in this process (in-process-cli.ts); the others spawn bin/mailvault.js,
 * whose environment the test can set without touching this process's.
 */
export async function runCli(
  config: string,
  args: string[],
  options: CliRunOptions = {},
): Promise<CliResult> {
  const argv = ['--config', config, '--no-progress', ...args];
  const timeoutMs = options.timeoutMs ?? 120_000;
  const env = options.env ?? {};
  if (options.process || Object.keys(env).length > 0)
    return runNode([MAILVAULT_BIN, ...argv], env, timeoutMs);
  const { code, stdout, stderr } = await runInProcess(checkout, argv, cleanEnv({}), timeoutMs);
  return { code, stdout, stderr, json: () => parseJson(code, stdout, stderr) };
}

function parseJson<T>(code: number | null, stdout: string, stderr: string): T {
  try {
    return JSON.parse(stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${code}):\n${stdout}\n${stderr}`);
  }
}

/**
 * A configuration written by configYaml with the IMAP server's host and port replaced (a proxy,
 * a closed port), and `imapExtra` (e.g. "retries: 1") added to the server's imap settings.
 */
export function withImapEndpoint(
  yaml: string,
  endpoint: { host: string; port: number },
  imapExtra = '',
): string {
  const changed = yaml.replace(
    /imap: \{ host: [^,]+, port: \d+,/,
    `imap: { host: ${endpoint.host}, port: ${endpoint.port},${imapExtra ? ` ${imapExtra},` : ''}`,
  );
  if (changed === yaml) throw new Error('no IMAP endpoint found in the configuration');
  return changed;
}

/** A CLI run as an assertion's message shows it: its exit code, then the start of each output. */
export function shown(result: { code: number | null; stdout: string; stderr: string }): string {
  return `exit ${result.code}\nstdout:\n${result.stdout.slice(0, 4000)}\nstderr:\n${result.stderr.slice(0, 4000)}`;
}
