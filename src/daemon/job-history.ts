/**
 * How a scheduled job went, told from the command's exit and from its own record in the run
 * history. A job stopped by a signal is not simply "failed": if its run had recorded its end
 * already (the signal came while it closed), that end is how it went; if not, the run is
 * recorded as interrupted, with the signal, so that `status` does not take it for running, nor
 * for a run that ended.
 */
import { hostname } from 'node:os';
import { newRunId, type RunEntry, type RunHistory } from '../catalog/run-history.js';
import type { JobOutcome } from './job-process.js';

export type JobState = 'ok' | 'partial' | 'failed' | 'interrupted';

export interface JobVerdict {
  state: JobState;
  /** Why it did not go well (the command's last error line, or what stopped it). */
  error: string | null;
  /** The run the job recorded itself, if it got that far. */
  run: string | null;
}

/** A run of the job's kind that started this long before the daemon saw the job start is its own. */
const START_SLACK_MS = 1_000;

export async function settleJob(
  history: Pick<RunHistory, 'recent' | 'start' | 'interrupt' | 'record'>,
  outcome: JobOutcome,
  errorLine: string,
): Promise<JobVerdict> {
  const own = await ownRun(history, outcome);
  if (outcome.signal !== null) {
    if (own && (own.outcome === 'ok' || own.outcome === 'partial' || own.outcome === 'failed'))
      return { state: own.outcome, error: own.error, run: own.id };
    const reason = `stopped by ${outcome.signal} before it finished`;
    const id = own?.id ?? newRunId(outcome.started);
    if (!own)
      // Stopped before it could record its start: recorded here, so that it is seen at all.
      await history.start({
        id,
        kind: outcome.kind,
        started: outcome.started,
        host: hostname(),
        pid: process.pid,
      });
    await history.interrupt(id, outcome.finished, reason);
    return { state: 'interrupted', error: reason, run: id };
  }
  const state: JobState = outcome.code === 0 ? 'ok' : outcome.code === 3 ? 'partial' : 'failed';
  const error = state === 'ok' ? null : errorLine || `exit code ${String(outcome.code)}`;
  if (state === 'failed' && (!own || own.outcome === 'running' || own.outcome === 'interrupted')) {
    // It failed before it could record itself (a wrong passphrase, an unreadable configuration):
    // without this, `status` would say all is well.
    const id = own?.id ?? newRunId(outcome.started);
    await history.record({
      id,
      kind: outcome.kind,
      started: own?.started ?? outcome.started,
      finished: outcome.finished,
      outcome: 'failed',
      counts: {},
      error,
      hook: null,
    });
    return { state, error, run: id };
  }
  return { state, error, run: own?.id ?? null };
}

/** The newest run of the job's kind that started with the job. */
async function ownRun(
  history: Pick<RunHistory, 'recent'>,
  outcome: JobOutcome,
): Promise<RunEntry | undefined> {
  const recent = await history.recent({ kind: outcome.kind, limit: 5 });
  return recent.find((run) => run.started.getTime() >= outcome.started.getTime() - START_SLACK_MS);
}
