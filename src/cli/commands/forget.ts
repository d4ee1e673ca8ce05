import type { Command } from 'commander';
import { ExitCode } from '../exit-codes.js';
import type { CommandRunner } from '../main.js';
import { formatBytes, formatTime } from '../../text/format.js';

export function registerForget(program: Command, run: CommandRunner): void {
  program
    .command('forget')
    .description(
      'apply the retention policy: forget the snapshots it does not keep, saying why each kept one stays (prune then frees their space)',
    )
    .option('--dry-run', 'show what would be forgotten, and change nothing')
    .action(async (options: { dryRun?: boolean }) =>
      run(async (context) => {
        const { forget } = await import('../../app/maintenance/forget-service.js');
        const { plan, purges, deletedBefore, forgotten, purgedItems, outcome } = await forget(
          context,
          options,
        );
        context.output.result({
          dryRun: Boolean(options.dryRun),
          groups: plan.groups,
          forgotten,
          kept: plan.groups.reduce((sum, group) => sum + group.decisions.length, 0) - forgotten,
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
            ? `dry run: ${forgotten} snapshot(s) would be forgotten; nothing was changed`
            : `${forgotten} snapshot(s) forgotten; run \`mailvault prune\` to free the space they held`,
        );
        return plan.unreadable.length > 0 ? ExitCode.Partial : ExitCode.Ok;
      }),
    );
}
