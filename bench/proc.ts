// Running the tools under measurement: wall time from this process, peak RSS, user and system CPU
// from GNU time (/usr/bin/time -f), and sizes with du.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const GNU_TIME = '/usr/bin/time';

export interface Timed {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall-clock seconds, spawn to exit. */
  seconds: number;
  /** Peak resident set size of the command, KiB (GNU time %M). */
  maxRssKb: number;
  userSeconds: number;
  systemSeconds: number;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Throw unless the exit code is one of these. Default [0]. */
  okCodes?: number[];
}

let timeDir: string | undefined;

/** Runs a command under GNU time and measures it. */
export async function timed(
  command: string,
  args: string[],
  options: RunOptions = {},
): Promise<Timed> {
  timeDir ??= await mkdtemp(join(tmpdir(), 'mailvault-bench-time-'));
  const out = join(timeDir, `time-${process.pid}-${Date.now()}-${Math.random()}.txt`);
  const started = performance.now();
  const result = await run(GNU_TIME, ['-f', '%M %U %S', '-o', out, command, ...args], options);
  const seconds = (performance.now() - started) / 1000;
  const fields = (await readFile(out, 'utf8')).trim().split('\n').pop()?.split(' ') ?? [];
  await rm(out, { force: true });
  const timedResult: Timed = {
    ...result,
    seconds,
    maxRssKb: Number(fields[0] ?? 0),
    userSeconds: Number(fields[1] ?? 0),
    systemSeconds: Number(fields[2] ?? 0),
  };
  const ok = options.okCodes ?? [0];
  if (!ok.includes(result.code ?? -1)) {
    throw new Error(
      `${command} ${args.join(' ')} exited with ${result.code}:\n${result.stderr.slice(-4000)}\n${result.stdout.slice(-2000)}`,
    );
  }
  return timedResult;
}

/** Runs a command and collects its output (no measurement). */
export function run(
  command: string,
  args: string[],
  options: RunOptions = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (data: Buffer) => out.push(data));
    child.stderr.on('data', (data: Buffer) => err.push(data));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
  });
}

/**
 * Bytes in the regular files under `path` (what a copy of it transfers). Unlike `du -sb`, the
 * folders themselves do not count: a repository's 256 empty data folders would otherwise add a
 * megabyte to a tiny repository.
 */
export async function fileBytes(path: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) total += await fileBytes(full);
    else if (entry.isFile()) total += (await stat(full)).size;
  }
  return total;
}

export async function cleanupTimeDir(): Promise<void> {
  if (timeDir) await rm(timeDir, { recursive: true, force: true });
}
