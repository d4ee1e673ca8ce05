import { parseDurationMs } from '../../config/duration.js';
import type { PruneOutcome, PrunePlan } from '../../maintenance/prune.js';
import { UsageError } from '../errors.js';
import { recordRun, startRun } from '../run-record.js';
import type { Session } from '../session.js';

/** The default grace period: longer than a night's backup of a large server. */
export const DEFAULT_GRACE = '24h';
/** A tenth of a pack unneeded is left for later: repacking rewrites the rest. */
export const DEFAULT_MAX_UNUSED = '10%';

export interface PruneRequest {
  /** Say what would be done; change nothing (and take no lock). */
  dryRun?: boolean;
  /** How long a condemned pack waits before it is deleted, such as 24h. */
  grace: string;
  /** Repack a pack still needed above this share of unneeded bytes, such as 10%, or unlimited. */
  maxUnused: string;
}

export interface PruneResult {
  graceMs: number;
  maxUnused: number | null;
  plan: PrunePlan;
  /** What was done (null for a dry run). */
  outcome: PruneOutcome | null;
}

/**
 * Frees the space of packs no snapshot needs: condemned first, deleted by a later prune once the
 * grace period has passed, so that backups running meanwhile stay whole; sparse packs repacked.
 * Holds the repository's lock throughout, and is in the run history from its start.
 */
export async function prune(session: Session, options: PruneRequest): Promise<PruneResult> {
  const graceMs = parseDurationMs(options.grace);
  if (graceMs === null)
    throw new UsageError(`--grace ${JSON.stringify(options.grace)}: give a duration such as 24h`);
  const { parseMaxUnused } = await import('../../maintenance/repack.js');
  let maxUnused: number | null;
  try {
    maxUnused = parseMaxUnused(options.maxUnused);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { planPrune, applyPrune, PruneRefusedError } = await import('../../maintenance/prune.js');
  const started = new Date();
  // In the run history from its start: a prune killed halfway shows as interrupted.
  if (!options.dryRun) await startRun(session, 'prune', { started });
  // Taken before the index is loaded: another prune (or a repair) finishing meanwhile
  // would leave this one's index out of date. A dry run only reads, and takes none.
  const lock = options.dryRun ? null : await session.lock('prune');
  let plan;
  let outcome;
  try {
    const repository = await session.repository();
    try {
      plan = await planPrune(repository, { graceMs, now: started, maxUnused });
    } catch (error) {
      if (error instanceof PruneRefusedError) throw new UsageError(error.message);
      throw error;
    }
    outcome = lock
      ? await applyPrune(repository, plan, { assertLocked: () => lock.assertHeld() })
      : null;
  } finally {
    await lock?.release();
  }
  if (outcome) {
    const { repackDamaged, ...counts } = outcome;
    await recordRun(session, {
      kind: 'prune',
      started,
      outcome: 'ok',
      counts: {
        condemned: plan.condemn.length,
        pardoned: plan.pardon.length,
        waiting: plan.waiting.length,
        ...counts,
        repackDamaged: repackDamaged.length,
      },
      error: null,
    });
  }
  return { graceMs, maxUnused, plan, outcome };
}
