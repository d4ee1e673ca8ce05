// What every phase of `npm run bench` shares: the settings (from the environment), progress on
// stderr, the context a phase reads and writes, and small helpers for samples and rates.
import type { DovecotServer } from '../test/support/dovecot.js';
import { run, type Timed } from './proc.js';
import { fmtMiB, fmtSeconds, type Report, type Spread } from './report.js';

export type { Spread } from './report.js';

function envNumber(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number`);
  return n;
}

export interface Settings {
  MESSAGES: number;
  SMALL: number;
  DAYS: number;
  COPIES: number;
  SEED: number;
  PROFILE: boolean;
  CHURN_BASELINES: boolean;
  /** Samples of each noisy throughput figure (first backup, restore and their baselines). */
  SAMPLES: number;
  /** Items in one `restore item` batch. */
  ITEMS: number;
  /** Accounts of the repository restored with `restore external`, and their messages in all. */
  EXTERNAL_ACCOUNTS: number;
  EXTERNAL_MESSAGES: number;
  /** Messages in the synthetic catalog searched, and runs of each query. */
  SEARCH_ROWS: number;
  SEARCH_SAMPLES: number;
  /** Calendar and contact items on the DAV server, in all, and the accounts they belong to. */
  DAV_ITEMS: number;
  DAV_ACCOUNTS: number;
  /** Whether vdirsyncer pulls the same collections side by side (when it is installed). */
  DAV_BASELINE: boolean;
  /** Messages in the account backed up to each remote store, and whether restic runs beside. */
  REMOTE_MESSAGES: number;
  REMOTE_BASELINE: boolean;
  /** Small accounts backed up to each store to count a no-change run's requests, and their size. */
  REMOTE_ACCOUNTS: number;
  REMOTE_ACCOUNT_MESSAGES: number;
  /** Size in MB of the large message of phase large (against one of 1 MB). */
  LARGE_MB: number;
}

/** Numeric settings whose defaults a caller may change (bench:quick's are smaller). */
export type SizeDefaults = Partial<
  Pick<
    Settings,
    | 'MESSAGES'
    | 'SAMPLES'
    | 'ITEMS'
    | 'EXTERNAL_ACCOUNTS'
    | 'EXTERNAL_MESSAGES'
    | 'SEARCH_ROWS'
    | 'SEARCH_SAMPLES'
    | 'DAV_ITEMS'
    | 'DAV_ACCOUNTS'
    | 'REMOTE_MESSAGES'
    | 'REMOTE_ACCOUNTS'
    | 'LARGE_MB'
  >
>;

/** The settings from the environment; `defaults` for what it leaves unset. */
export function readSettings(defaults: SizeDefaults = {}): Settings {
  const MESSAGES = envNumber('BENCH_MESSAGES', defaults.MESSAGES ?? 20_000);
  return {
    MESSAGES,
    SMALL: envNumber('BENCH_SMALL', Math.min(5_000, Math.max(100, Math.floor(MESSAGES / 4)))),
    DAYS: envNumber('BENCH_DAYS', 30),
    COPIES: envNumber('BENCH_COPIES', 100),
    SEED: envNumber('BENCH_SEED', 20251101),
    PROFILE: process.env.BENCH_PROFILE === '1',
    CHURN_BASELINES: process.env.BENCH_CHURN_BASELINES !== '0',
    SAMPLES: envNumber('BENCH_SAMPLES', defaults.SAMPLES ?? 3),
    ITEMS: envNumber(
      'BENCH_ITEMS',
      defaults.ITEMS ?? Math.min(500, Math.max(10, Math.floor(MESSAGES / 10))),
    ),
    EXTERNAL_ACCOUNTS: envNumber('BENCH_EXTERNAL_ACCOUNTS', defaults.EXTERNAL_ACCOUNTS ?? 6),
    EXTERNAL_MESSAGES: envNumber('BENCH_EXTERNAL_MESSAGES', defaults.EXTERNAL_MESSAGES ?? 9_000),
    SEARCH_ROWS: envNumber('BENCH_SEARCH_ROWS', defaults.SEARCH_ROWS ?? 1_000_000),
    SEARCH_SAMPLES: envNumber('BENCH_SEARCH_SAMPLES', defaults.SEARCH_SAMPLES ?? 3),
    DAV_ITEMS: envNumber('BENCH_DAV_ITEMS', defaults.DAV_ITEMS ?? 3_000),
    DAV_ACCOUNTS: envNumber('BENCH_DAV_ACCOUNTS', defaults.DAV_ACCOUNTS ?? 3),
    DAV_BASELINE: process.env.BENCH_DAV_BASELINE !== '0',
    REMOTE_MESSAGES: envNumber(
      'BENCH_REMOTE_MESSAGES',
      defaults.REMOTE_MESSAGES ?? Math.min(5_000, MESSAGES),
    ),
    REMOTE_BASELINE: process.env.BENCH_REMOTE_BASELINE !== '0',
    REMOTE_ACCOUNTS: envNumber('BENCH_REMOTE_ACCOUNTS', defaults.REMOTE_ACCOUNTS ?? 1_000),
    REMOTE_ACCOUNT_MESSAGES: envNumber('BENCH_REMOTE_ACCOUNT_MESSAGES', 5),
    LARGE_MB: envNumber('BENCH_LARGE_MB', defaults.LARGE_MB ?? 64),
  };
}

/** What the phases share: the server, a work folder, the report and the JSON details. */
export interface Bench {
  settings: Settings;
  server: DovecotServer;
  work: string;
  report: Report;
  details: Record<string, unknown>;
  profileDir: string | undefined;
}

const t0 = performance.now();

export function elapsedSeconds(): number {
  return (performance.now() - t0) / 1000;
}

export function progress(message: string): void {
  const s = Math.floor(elapsedSeconds());
  process.stderr.write(
    `[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${message}\n`,
  );
}

export const rate = (count: number, seconds: number): number => (seconds > 0 ? count / seconds : 0);
export const mb = (bytes: number): number => bytes / 1e6;

/**
 * Writes dirty pages out before a timed phase: otherwise the kernel's writeback of what the
 * previous phase wrote (a gigabyte of Maildir) throttles whoever writes next, and the figures
 * depend on the order of the phases more than on the tools.
 */
export async function settle(): Promise<void> {
  await run('sync', []);
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const half = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[half] ?? NaN;
  return ((sorted[half - 1] ?? NaN) + (sorted[half] ?? NaN)) / 2;
}

export function spread(values: number[]): Spread {
  return {
    n: values.length,
    min: Math.min(...values),
    median: median(values),
    max: Math.max(...values),
    values,
  };
}

/** "1,234 msg/s (3 runs: 1,100–1,300)": a median with the range of its samples. */
export function fmtSpread(s: Spread, format: (n: number) => string): string {
  if (s.n < 2) return format(s.median);
  const lo = format(s.min);
  const hi = format(s.max);
  const unit = / [^\d\s]+$/.exec(lo)?.[0];
  const range =
    unit && hi.endsWith(unit)
      ? `${lo.slice(0, -unit.length)}–${hi.slice(0, -unit.length)}`
      : `${lo}–${hi}`;
  return `${format(s.median)} (${s.n} runs: ${range})`;
}

/** The run with the median wall time (the lower middle one for an even count). */
export function medianRun<T extends Timed>(runs: T[]): T {
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
  const middle = sorted[Math.floor((sorted.length - 1) / 2)];
  if (!middle) throw new Error('no runs');
  return middle;
}

export function cpuSeconds(run: Timed): number {
  return run.userSeconds + run.systemSeconds;
}

export function describeRun(run: Timed): string {
  return `${fmtSeconds(run.seconds)}, ${fmtMiB(run.maxRssKb)} peak RSS`;
}

/** Rotates `items` left by `by`: round i of an interleaved measurement starts with item i. */
export function rotate<T>(items: readonly T[], by: number): T[] {
  const n = items.length;
  return items.map((_, i) => items[(i + by) % n] as T);
}
