import type { Command } from 'commander';
import { DEFAULT_GRACE, DEFAULT_MAX_UNUSED } from '../../app/maintenance/prune-service.js';
import { ExitCode } from '../exit-codes.js';
import type { CommandRunner } from '../main.js';
import { formatBytes, formatCount, formatTime } from '../../text/format.js';

export function registerPrune(program: Command, run: CommandRunner): void {
  program
    .command('prune')
    .description(
      'free the space of packs no snapshot needs: they are condemned first, and deleted by a later prune once the grace period has passed (backups running meanwhile stay whole); packs mostly unneeded are repacked',
    )
    .option(
      '--dry-run',
      'say what would be condemned, repacked, deleted and taken back; change nothing',
    )
    .option(
      '--grace <duration>',
      `how long a condemned pack waits before it is deleted; longer than the longest backup (default ${DEFAULT_GRACE})`,
      DEFAULT_GRACE,
    )
    .option(
      '--max-unused <percent>',
      `repack a pack still needed when more than this share of its bytes is unneeded (such as 10%, or unlimited: never) (default ${DEFAULT_MAX_UNUSED})`,
      DEFAULT_MAX_UNUSED,
    )
    .action(async (options: { dryRun?: boolean; grace: string; maxUnused: string }) =>
      run(async (context) => {
        const { prune } = await import('../../app/maintenance/prune-service.js');
        const { graceMs, maxUnused, plan, outcome } = await prune(context, options);
        const bytes = (list: Array<{ bytes: number }>) => list.reduce((sum, e) => sum + e.bytes, 0);
        context.output.result({
          dryRun: Boolean(options.dryRun),
          graceMs,
          maxUnused,
          ...plan,
          outcome,
        });
        const verb = options.dryRun ? 'would be' : 'were';
        context.output.line(
          `${formatCount(plan.stats.objects)} objects in ${formatCount(plan.stats.packs)} packs, ${formatCount(plan.stats.usedObjects)} needed by ${formatCount(plan.stats.snapshots)} snapshots`,
        );
        context.output.line(
          `condemned now: ${plan.condemn.length} pack(s), ${formatBytes(bytes(plan.condemn))} (${plan.condemn.filter((c) => c.reason === 'unindexed').length} in no index)`,
        );
        context.output.line(
          `deleted: ${plan.remove.length} pack(s) ${verb} deleted, ${formatBytes(bytes(plan.remove))} freed`,
        );
        if (plan.repack.length > 0 || maxUnused !== null) {
          const unused = plan.repack.reduce((sum, e) => sum + e.unusedBytes, 0);
          const copies = plan.repack.reduce((sum, e) => sum + e.copyBytes, 0);
          context.output.line(
            `repacked: ${plan.repack.length} sparse pack(s) ${verb} repacked, ${formatBytes(bytes(plan.repack))} of which ${formatBytes(unused)} unneeded` +
              (copies > 0
                ? ` and ${formatBytes(copies)} of copies of objects other packs hold (left by an interrupted prune, or by two backups at once)`
                : '') +
              (outcome && outcome.packsRepacked + outcome.repackDamaged.length > 0
                ? `; ${formatCount(outcome.objectsRepacked)} objects copied (read ${formatBytes(outcome.repackBytesRead)}, wrote ${formatBytes(outcome.repackBytesWritten)} in ${formatCount(outcome.packsWritten)} new pack(s)); the old packs are condemned`
                : ''),
          );
        }
        for (const pack of outcome?.repackDamaged ?? [])
          context.output.warn(
            `pack ${pack} was not repacked: an object a snapshot needs in it is damaged; run mailvault check --read-data`,
          );
        const temporary = plan.temporaryFiles;
        if (temporary.remove.length + temporary.waiting > 0)
          context.output.line(
            `temporary files left by interrupted writes: ${temporary.remove.length} ${verb} deleted, ${formatBytes(bytes(temporary.remove))} freed` +
              (temporary.waiting > 0
                ? `; ${temporary.waiting} written within the grace period left (a backup may be writing them)`
                : ''),
          );
        if (plan.pardon.length > 0)
          context.output.line(
            `taken back: ${plan.pardon.length} condemned pack(s) a snapshot needs again`,
          );
        if (plan.waiting.length > 0) {
          const first = Math.min(...plan.waiting.map((w) => w.since.getTime())) + graceMs;
          context.output.line(
            `waiting: ${plan.waiting.length} condemned pack(s), ${formatBytes(bytes(plan.waiting))}, deleted by a prune from ${formatTime(new Date(first))} on`,
          );
        }
        if (options.dryRun) context.output.note('dry run: nothing was changed');
        return ExitCode.Ok;
      }),
    );
}
