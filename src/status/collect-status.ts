import type { HookRecord, RunHistory, RunState } from '../catalog/run-history.js';
import { nextRuns, readSchedule, zoneName } from '../scheduler/schedule.js';
import type { FileKind, Storage } from '../storage/storage.js';
import { accountStates, type AccountStatus, type ConfiguredAccounts } from './account-states.js';

/**
 * Is the backup healthy? What `mailvault status` prints and the daemon's health endpoint serves:
 * a plain object of strings, numbers and booleans (times as ISO 8601), gathered from the
 * catalog's run history, the schedule and the repository's storage.
 */

export type { AccountStatus, ConfiguredAccounts };

export interface RunStatus {
  kind: string;
  /** The latest run of this kind that is over (or, when none is yet, the one running). */
  id: string;
  started: string;
  /** Null when it was interrupted (or still runs). */
  finished: string | null;
  seconds: number | null;
  /** interrupted: it never recorded its end (stopped, killed, or its machine went down). */
  outcome: RunState;
  error: string | null;
  counts: Record<string, number>;
  hook: HookRecord | null;
  /** When the latest run of this kind that went well started. */
  lastOk: string | null;
  /** The run of this kind in progress now, if any. */
  running: RunningStatus | null;
}

export interface RunningStatus {
  id: string;
  started: string;
  host: string | null;
  pid: number | null;
  /** When it last said it was running. */
  lastSeen: string | null;
}

export interface ScheduledRun {
  kind: string;
  cron: string;
  /** The next moments it runs (none when the line cannot be read). */
  nextRuns: string[];
  error: string | null;
}

export interface RepositoryStatus {
  /** Packs and their bytes: what the repository's data takes. */
  packs: number;
  packBytes: number;
  /** Packs, indexes, snapshot, run and key files. */
  totalBytes: number;
  error: string | null;
}

export interface Status {
  time: string;
  /** No problem found (the CLI's `status` exits 3 otherwise). */
  healthy: boolean;
  /** Each thing that needs an administrator's look, in one line. */
  problems: string[];
  accounts: AccountStatus[];
  runs: RunStatus[];
  schedule: { timezone: string; jobs: ScheduledRun[] };
  repository: RepositoryStatus;
}

export interface StatusSources {
  history: Pick<RunHistory, 'lastAttempts' | 'lastBackups' | 'lastOfEachKind'>;
  storage: Pick<Storage, 'list'>;
  schedule: Readonly<Record<string, string>> | undefined;
  configured: ConfiguredAccounts;
  now: Date;
  /** Next runs given per scheduled job (3). */
  nextCount?: number;
}

export async function collectStatus(sources: StatusSources): Promise<Status> {
  const problems: string[] = [];
  const accounts = accountStates(
    await sources.history.lastBackups(),
    await sources.history.lastAttempts(),
    sources.configured,
    problems,
  );
  const runs: RunStatus[] = [];
  for (const { last, lastOk, running } of await sources.history.lastOfEachKind()) {
    const shown = last ?? running;
    if (!shown) continue;
    const run: RunStatus = {
      kind: shown.kind,
      id: shown.id,
      started: shown.started.toISOString(),
      finished: shown.finished?.toISOString() ?? null,
      seconds: shown.finished ? (shown.finished.getTime() - shown.started.getTime()) / 1000 : null,
      outcome: shown.outcome,
      error: shown.error,
      counts: shown.counts,
      hook: shown.hook,
      lastOk: lastOk?.toISOString() ?? null,
      running: running
        ? {
            id: running.id,
            started: running.started.toISOString(),
            host: running.host,
            pid: running.pid,
            lastSeen: running.lastSeen?.toISOString() ?? null,
          }
        : null,
    };
    problems.push(...runProblems(run));
    runs.push(run);
  }
  const schedule = scheduledRuns(sources.schedule, sources.now, sources.nextCount ?? 3);
  for (const job of schedule.jobs) if (job.error) problems.push(job.error);
  const repository = await repositorySize(sources.storage);
  if (repository.error) problems.push(`cannot list the repository: ${repository.error}`);
  return {
    time: sources.now.toISOString(),
    healthy: problems.length === 0,
    problems,
    accounts,
    runs,
    schedule,
    repository,
  };
}

function runProblems(run: RunStatus): string[] {
  const problems: string[] = [];
  const which = `the last ${run.kind} run (${run.id}, started ${run.started})`;
  if (run.outcome === 'failed') problems.push(`${which} failed: ${run.error ?? 'no reason given'}`);
  else if (run.outcome === 'interrupted')
    problems.push(`${which} did not finish: ${run.error ?? 'interrupted'}`);
  else if (run.outcome === 'partial')
    problems.push(`${which} finished with failures${run.error ? `: ${run.error}` : ''}`);
  if (run.hook && (run.hook.exitCode !== 0 || run.hook.error))
    problems.push(`the hook after ${which} failed: ${run.hook.error ?? 'no reason given'}`);
  return problems;
}

function scheduledRuns(
  configured: Readonly<Record<string, string>> | undefined,
  now: Date,
  count: number,
): Status['schedule'] {
  const schedule = readSchedule(configured);
  return {
    timezone: zoneName(schedule.timezone),
    jobs: schedule.jobs.map((job) => {
      try {
        const next = nextRuns(job, schedule.timezone, now, count);
        return { ...job, nextRuns: next.map((date) => date.toISOString()), error: null };
      } catch (error) {
        return { ...job, nextRuns: [], error: (error as Error).message };
      }
    }),
  };
}

/** The config is one small file, and locks come and go: neither says how big a repository is. */
const LISTED_KINDS: readonly FileKind[] = ['keys', 'data', 'index', 'snapshots', 'runs'];

async function repositorySize(storage: Pick<Storage, 'list'>): Promise<RepositoryStatus> {
  const size: RepositoryStatus = { packs: 0, packBytes: 0, totalBytes: 0, error: null };
  try {
    for (const kind of LISTED_KINDS) {
      for await (const file of storage.list(kind)) {
        size.totalBytes += file.size;
        if (kind === 'data') {
          size.packs++;
          size.packBytes += file.size;
        }
      }
    }
  } catch (error) {
    size.error = error instanceof Error ? error.message : String(error);
  }
  return size;
}
