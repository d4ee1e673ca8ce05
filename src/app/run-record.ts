import { hostname } from 'node:os';
import type { RunPart, RunRecord } from '../catalog/run-history.js';
import { isBadRequest } from './errors.js';
import type { Session } from './session.js';

/**
 * A command's run in the catalog's history, for `status` and the daemon: recorded when it starts
 * (so that a run killed before its end still shows, as interrupted), kept alive while it runs,
 * and recorded again when it ends, however it ends. A catalog that cannot take it (a backup
 * holding it, a catalog of another repository) costs a warning, never the command's own outcome.
 */

interface TrackedRun {
  id: string;
  kind: string;
  started: Date;
  timer: NodeJS.Timeout;
}

/** The runs each session started and has not ended, by kind. */
const tracked = new WeakMap<Session, Map<string, TrackedRun>>();

/**
 * Records that a run of `kind` starts now (with `id` when the run has one already, as a backup
 * does). The command ends it with recordRun; if it fails first, it is recorded as failed when the
 * context closes (as bad usage, it is forgotten: a mistyped command line is no run).
 */
export async function startRun(
  context: Session,
  kind: string,
  options: { id?: string; started?: Date } = {},
): Promise<{ id: string; started: Date }> {
  const { newRunId } = await import('../catalog/run-history.js');
  const { HEARTBEAT_MS } = await import('../catalog/run-history-liveness.js');
  const started = options.started ?? new Date();
  const id = options.id ?? newRunId(started);
  const catalog = await context.catalog({ sync: false });
  try {
    await catalog.runs.start({ id, kind, started, host: hostname(), pid: process.pid });
  } catch (error) {
    warnUnrecorded(context, kind, error);
    return { id, started };
  }
  const timer = setInterval(() => {
    catalog.runs.beat(id, new Date()).catch(() => undefined);
  }, HEARTBEAT_MS);
  timer.unref();
  const run: TrackedRun = { id, kind, started, timer };
  let runs = tracked.get(context);
  if (!runs) {
    runs = new Map();
    tracked.set(context, runs);
    context.onClose((failure) => endUnended(context, failure));
  }
  runs.set(kind, run);
  return { id, started };
}

/**
 * Records a command's run as it ended: the run startRun began for this kind, if any (its id and
 * start are kept), else a new one.
 */
export async function recordRun(
  context: Session,
  run: Omit<RunRecord, 'id' | 'finished' | 'hook'> &
    Partial<Pick<RunRecord, 'id' | 'finished' | 'hook'>>,
  parts: readonly RunPart[] = [],
): Promise<void> {
  const open = takeOpen(context, run.kind);
  try {
    const { newRunId } = await import('../catalog/run-history.js');
    const catalog = await context.catalog({ sync: false });
    await catalog.runs.record(
      {
        ...run,
        id: open?.id ?? run.id ?? newRunId(run.started),
        started: open?.started ?? run.started,
        finished: run.finished ?? new Date(),
        hook: run.hook ?? null,
      },
      parts,
    );
  } catch (error) {
    warnUnrecorded(context, run.kind, error);
  }
}

/** A run the command failed in before it could record its end. */
async function endUnended(context: Session, failure: unknown): Promise<void> {
  const runs = tracked.get(context);
  if (!runs) return;
  for (const kind of [...runs.keys()]) {
    const open = takeOpen(context, kind);
    if (!open) continue;
    try {
      const catalog = await context.catalog({ sync: false });
      if (failure === undefined || isBadRequest(failure)) {
        await catalog.runs.discard(open.id);
        continue;
      }
      await catalog.runs.record({
        id: open.id,
        kind,
        started: open.started,
        finished: new Date(),
        outcome: 'failed',
        counts: {},
        error: failure instanceof Error ? failure.message : String(failure),
        hook: null,
      });
    } catch (error) {
      warnUnrecorded(context, kind, error);
    }
  }
}

function takeOpen(context: Session, kind: string): TrackedRun | undefined {
  const runs = tracked.get(context);
  const open = runs?.get(kind);
  if (!open) return undefined;
  runs?.delete(kind);
  clearInterval(open.timer);
  return open;
}

function warnUnrecorded(context: Session, kind: string, error: unknown): void {
  context.notices.warn(
    `the ${kind} could not be recorded in the catalog's history: ${error instanceof Error ? error.message : String(error)}`,
  );
}
