import type { Command } from 'commander';
import { parseDurationMs } from '../../config/duration.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import type { CommandRunner } from '../main.js';
import { formatBytes, formatCount, formatTime } from '../output/format.js';
import { recordRun } from '../record-run.js';

/** The default grace period: longer than a night's backup of a large server. */
const DEFAULT_GRACE = '24h';

export function registerPrune(program: Command, run: CommandRunner): void {
  program
    .command('prune')
    .description(
      'free the space of packs no snapshot needs: they are condemned first, and deleted by a later prune once the grace period has passed (backups running meanwhile stay whole)',
    )
    .option('--dry-run', 'say what would be condemned, deleted and taken back; change nothing')
    .option(
      '--grace <duration>',
      `how long a condemned pack waits before it is deleted; longer than the longest backup (default ${DEFAULT_GRACE})`,
      DEFAULT_GRACE,
    )
    .action(async (options: { dryRun?: boolean; grace: string }) =>
      run(async (context) => {
        const graceMs = parseDurationMs(options.grace);
        if (graceMs === null)
          throw new UsageError(
            `--grace ${JSON.stringify(options.grace)}: give a duration such as 24h`,
          );
        const { planPrune, applyPrune, PruneRefusedError } =
          await import('../../maintenance/prune.js');
        const started = new Date();
        const repository = await context.repository();
        let plan;
        try {
          plan = await planPrune(repository, { graceMs, now: started });
        } catch (error) {
          if (error instanceof PruneRefusedError) throw new UsageError(error.message);
          throw error;
        }
        const outcome = options.dryRun ? null : await applyPrune(repository, plan);
        const bytes = (list: Array<{ bytes: number }>) => list.reduce((sum, e) => sum + e.bytes, 0);
        if (outcome)
          await recordRun(context, {
            kind: 'prune',
            started,
            outcome: 'ok',
            counts: {
              condemned: plan.condemn.length,
              pardoned: plan.pardon.length,
              waiting: plan.waiting.length,
              ...outcome,
            },
            error: null,
          });
        context.output.result({ dryRun: Boolean(options.dryRun), graceMs, ...plan, outcome });
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
