import type { Command } from 'commander';
import { parseDurationMs } from '../../config/duration.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import type { CommandRunner } from '../main.js';
import { formatBytes, formatCount, formatTime } from '../../text/format.js';
import { recordRun, startRun } from '../../app/run-record.js';

/** The default grace period: longer than a night's backup of a large server. */
const DEFAULT_GRACE = '24h';
/** A tenth of a pack unneeded is left for later: repacking rewrites the rest. */
const DEFAULT_MAX_UNUSED = '10%';

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
        const graceMs = parseDurationMs(options.grace);
        if (graceMs === null)
          throw new UsageError(
            `--grace ${JSON.stringify(options.grace)}: give a duration such as 24h`,
          );
        const { parseMaxUnused } = await import('../../maintenance/repack.js');
        let maxUnused: number | null;
        try {
          maxUnused = parseMaxUnused(options.maxUnused);
        } catch (error) {
          throw new UsageError((error as Error).message);
        }
        const { planPrune, applyPrune, PruneRefusedError } =
          await import('../../maintenance/prune.js');
        const started = new Date();
        // In the run history from its start: a prune killed halfway shows as interrupted.
        if (!options.dryRun) await startRun(context, 'prune', { started });
        // Taken before the index is loaded: another prune (or a repair) finishing meanwhile
        // would leave this one's index out of date. A dry run only reads, and takes none.
        const lock = options.dryRun ? null : await context.lock('prune');
        let plan;
        let outcome;
        try {
          const repository = await context.repository();
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
        const bytes = (list: Array<{ bytes: number }>) => list.reduce((sum, e) => sum + e.bytes, 0);
        if (outcome) {
          const { repackDamaged, ...counts } = outcome;
          await recordRun(context, {
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
