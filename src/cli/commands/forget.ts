import type { Command } from 'commander';
import { ExitCode, UsageError } from '../exit-codes.js';
import type { CommandRunner } from '../main.js';
import { formatBytes, formatTime } from '../../text/format.js';
import { recordRun, startRun } from '../../app/run-record.js';

export function registerForget(program: Command, run: CommandRunner): void {
  program
    .command('forget')
    .description(
      'apply the retention policy: forget the snapshots it does not keep, saying why each kept one stays (prune then frees their space)',
    )
    .option('--dry-run', 'show what would be forgotten, and change nothing')
    .action(async (options: { dryRun?: boolean }) =>
      run(async (context) => {
        const { config } = await context.config();
        if (!config.retention)
          throw new UsageError(
            'no retention policy in the configuration: add `retention:` (keepWithin, keepDaily, keepWeekly, keepMonthly, keepYearly, legalHold)',
          );
        const { planForget, planDeletedItems, applyForget } =
          await import('../../maintenance/forget.js');
        const { ageCutoff, retentionPolicy } =
          await import('../../retention/policy-from-config.js');
        const now = new Date();
        const deletedBefore =
          config.retention.deletedItems === undefined
            ? null
            : ageCutoff(config.retention.deletedItems, now);
        // In the run history from its start: a forget killed halfway shows as interrupted.
        if (!options.dryRun) await startRun(context, 'forget', { started: now });
        // Two forgets at once would both write the same rewrites and run files; a prune
        // meanwhile would not see the rewritten snapshots. A dry run only reads, and takes none.
        const lock = options.dryRun ? null : await context.lock('forget');
        let plan;
        let purges;
        let outcome;
        let repository;
        try {
          repository = await context.repository();
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
          await (await context.catalog({ sync: false })).sync(repository);
          await recordRun(context, {
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
        context.output.result({
          dryRun: Boolean(options.dryRun),
          groups: plan.groups,
          forgotten: forgotten.length,
          kept:
            plan.groups.reduce((sum, group) => sum + group.decisions.length, 0) - forgotten.length,
          unreadable: plan.unreadable,
          deletedItems: deletedBefore && {
            deletedBefore: deletedBefore.toISOString(),
            items: purgedItems,
            accounts: purges.map(({ source, name, snapshots }) => ({
              source,
              name,
              snapshots: snapshots.map(({ id, time, items, bytes }) => ({
                id,
                time,
                items,
                bytes,
              })),
            })),
          },
          ...(outcome ?? {}),
        });
        for (const group of plan.groups) {
          const gone = group.decisions.filter((decision) => !decision.keep).length;
          context.output.line(
            `${group.source}/${group.name}: ${group.decisions.length - gone} kept, ${gone} ${options.dryRun ? 'to forget' : 'forgotten'}`,
          );
          for (const decision of group.decisions) {
            context.output.line(
              `  ${decision.keep ? 'keep  ' : 'forget'}  ${formatTime(new Date(decision.time))}  ${decision.id.slice(0, 8)}  ${decision.reasons.join('; ')}`,
            );
          }
        }
        if (deletedBefore) {
          context.output.line(
            `deleted items: ${purgedItems} item(s) gone from the server before ${formatTime(deletedBefore)} ${options.dryRun ? 'would leave' : 'left'} ${purges.reduce((n, a) => n + a.snapshots.length, 0)} kept snapshot(s)`,
          );
          for (const account of purges)
            for (const purge of account.snapshots)
              context.output.line(
                `  ${account.source}/${account.name}  ${formatTime(new Date(purge.time))}  ${purge.id.slice(0, 8)}  ${purge.items} item(s), ${formatBytes(purge.bytes)} left out`,
              );
        }
        for (const file of plan.unreadable)
          context.output.warn(`${file.file} cannot be read and was left alone: ${file.error}`);
        context.output.note(
          options.dryRun
            ? `dry run: ${forgotten.length} snapshot(s) would be forgotten; nothing was changed`
            : `${forgotten.length} snapshot(s) forgotten; run \`mailvault prune\` to free the space they held`,
        );
        return plan.unreadable.length > 0 ? ExitCode.Partial : ExitCode.Ok;
      }),
    );
}
