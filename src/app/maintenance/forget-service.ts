import type { AccountPurge, ForgetOutcome, ForgetPlan } from '../../maintenance/forget.js';
import { UsageError } from '../errors.js';
import { recordRun, startRun } from '../run-record.js';
import type { Session } from '../session.js';

export interface ForgetResult {
  plan: ForgetPlan;
  /** Kept snapshots that left out items deleted before `deletedBefore` (retention.deletedItems). */
  purges: AccountPurge[];
  deletedBefore: Date | null;
  forgotten: number;
  purgedItems: number;
  /** What was done (null for a dry run). */
  outcome: ForgetOutcome | null;
}

/**
 * Applies the retention policy: forgets the snapshots it does not keep, saying why each kept one
 * stays, and leaves out of kept snapshots the items deleted long enough ago; the catalog follows.
 * Prune then frees the space.
 */
export async function forget(
  session: Session,
  options: { dryRun?: boolean },
): Promise<ForgetResult> {
  const { config } = await session.config();
  if (!config.retention)
    throw new UsageError(
      'no retention policy in the configuration: add `retention:` (keepWithin, keepDaily, keepWeekly, keepMonthly, keepYearly, legalHold)',
    );
  const { planForget, planDeletedItems, applyForget } = await import('../../maintenance/forget.js');
  const { ageCutoff, retentionPolicy } = await import('../../retention/policy-from-config.js');
  const now = new Date();
  const deletedBefore =
    config.retention.deletedItems === undefined
      ? null
      : ageCutoff(config.retention.deletedItems, now);
  // In the run history from its start: a forget killed halfway shows as interrupted.
  if (!options.dryRun) await startRun(session, 'forget', { started: now });
  // Two forgets at once would both write the same rewrites and run files; a prune
  // meanwhile would not see the rewritten snapshots. A dry run only reads, and takes none.
  const lock = options.dryRun ? null : await session.lock('forget');
  let plan;
  let purges;
  let outcome;
  let repository;
  try {
    repository = await session.repository();
    plan = await planForget(repository, retentionPolicy(config.retention, now), { now });
    purges = deletedBefore
      ? await planDeletedItems(repository, plan, deletedBefore, {
          legalHold: config.retention.legalHold,
          dryRun: Boolean(options.dryRun),
        })
      : [];
    lock?.assertHeld();
    outcome = lock ? await applyForget(repository, plan, purges) : null;
  } finally {
    await lock?.release();
  }
  const forgotten = plan.groups.flatMap((group) => group.decisions.filter((d) => !d.keep));
  const purgedItems = purges.reduce(
    (sum, account) => sum + account.snapshots.reduce((n, s) => n + s.items, 0),
    0,
  );
  if (outcome) {
    // The catalog follows: the accounts that lost snapshots have their history replayed.
    await (await session.catalog({ sync: false })).sync(repository);
    await recordRun(session, {
      kind: 'forget',
      started: now,
      outcome: plan.unreadable.length > 0 ? 'partial' : 'ok',
      counts: {
        forgotten: forgotten.length,
        deletedItemsLeftOut: purgedItems,
        unreadable: plan.unreadable.length,
        ...outcome,
      },
      error:
        plan.unreadable.length > 0
          ? `${plan.unreadable.length} unreadable file(s) left alone`
          : null,
    });
  }
  return { plan, purges, deletedBefore, forgotten: forgotten.length, purgedItems, outcome };
}
