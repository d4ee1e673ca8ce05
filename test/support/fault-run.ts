// Runs the real CLI with the fault preload (fault-preload.mjs): once to list every step a command
// takes on disk, then again killed with SIGKILL right after a chosen step.
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAILVAULT_BIN } from './workspace.js';

export const FAULT_PRELOAD = join(dirname(fileURLToPath(import.meta.url)), 'fault-preload.mjs');

/** One step that changes the repository or the catalog, as the preload counted it. */
export interface FaultStep {
  n: number;
  /** 'open', 'write', 'fsync', 'link', 'rename', 'unlink', 'rm', 'mkdir', 'commit …'. */
  op: string;
  /** Label and path, e.g. 'repo:data/3f/.tmp-0123…' or 'catalog:-wal'. */
  where: string;
}

export interface FaultOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The steps taken, in order; with killAt, the last is the one after which it was killed. */
  steps: FaultStep[];
  /** Whether the preload killed the process (at killAt). */
  killed: boolean;
}

export interface FaultRunOptions {
  /** The configuration file the CLI runs with. */
  config: string;
  /** What is watched: a label for the trace, and the absolute path of a folder or a file. */
  paths: Record<string, string>;
  /** Kill right after this step (1 = the first); absent: run to the end, counting. */
  killAt?: number;
  /** Where the trace goes (removed first). */
  trace: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** Runs `mailvault --config … args` under the preload and reads back the steps it took. */
export async function runCounted(args: string[], options: FaultRunOptions): Promise<FaultOutcome> {
  await rm(options.trace, { force: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    FAULT_PATHS: JSON.stringify(
      Object.fromEntries(
        Object.entries(options.paths).map(([label, path]) => [label, resolve(path)]),
      ),
    ),
    FAULT_TRACE: options.trace,
  };
  if (options.killAt !== undefined) env.FAULT_KILL_AT = String(options.killAt);
  else delete env.FAULT_KILL_AT;
  if (!options.env || !('MAILVAULT_PASSWORD' in options.env)) delete env.MAILVAULT_PASSWORD;
  delete env.MAILVAULT_CONFIG;
  const child = spawn(
    process.execPath,
    [
      '--import',
      FAULT_PRELOAD,
      MAILVAULT_BIN,
      '--config',
      options.config,
      '--no-progress',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env },
  );
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (data: Buffer) => out.push(data));
  child.stderr.on('data', (data: Buffer) => err.push(data));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const { code, signal } = await new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
  }>((done, fail) => {
    child.on('error', fail);
    child.on('close', (exitCode, exitSignal) => done({ code: exitCode, signal: exitSignal }));
  });
  clearTimeout(timer);
  const lines = (await readFile(options.trace, 'utf8').catch(() => '')).split('\n');
  const steps: FaultStep[] = [];
  for (const line of lines) {
    const [n, op, where] = line.split('\t');
    if (n && op && where !== undefined) steps.push({ n: Number(n), op, where });
  }
  return {
    code,
    signal,
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
    steps,
    killed: lines.includes('KILL') && signal === 'SIGKILL',
  };
}

/** A step as a failure message names it: "step 17 (link repo:data/3f/.tmp-… -> repo:data/3f/3fab…)". */
export function describeStep(step: FaultStep | undefined): string {
  return step ? `step ${step.n} (${step.op} ${step.where})` : 'no step';
}
