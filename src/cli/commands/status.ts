import type { Command } from 'commander';
import type { Status } from '../../status/collect-status.js';
import { ExitCode } from '../exit-codes.js';
import type { CommandRunner } from '../main.js';
import { clip, formatBytes, formatCount, formatDuration, formatTime } from '../../text/format.js';
import type { Output } from '../output/output.js';

/**
 * `mailvault status`: is the backup healthy? Exits 3 when something needs a look (an account
 * whose last backup failed or that has none, a last run that failed, finished with failures or
 * was interrupted, a failed hook, a schedule line that does not parse), so that a monitoring check can run it as
 * it is; 0 when all is well.
 */
export function registerStatus(program: Command, run: CommandRunner): void {
  program
    .command('status')
    .description(
      'last backup of each account, failures, last runs, next scheduled runs, repository size (exit 3 when something needs a look)',
    )
    .action(async () =>
      run(async (context) => {
        const { backupStatus } = await import('../../app/browse/status-service.js');
        const status = await backupStatus(context);
        context.output.result(status);
        printStatus(context.output, status);
        return status.healthy ? ExitCode.Ok : ExitCode.Partial;
      }),
    );
}

const time = (iso: string | null): string => (iso ? formatTime(new Date(iso)) : 'never');

function printStatus(output: Output, status: Status): void {
  const { repository } = status;
  output.line(
    repository.error
      ? `repository: cannot be listed (${repository.error})`
      : `repository: ${formatBytes(repository.packBytes)} in ${formatCount(repository.packs)} packs (${formatBytes(repository.totalBytes)} in all)`,
  );
  output.line();
  output.table(
    ['ACCOUNT', 'STATE', 'LAST BACKUP', 'LAST ATTEMPT', 'NOTE'],
    status.accounts.map((account) => [
      `${account.source}/${account.account}`,
      account.state === 'failed' ? 'FAILED' : account.state,
      time(account.lastBackup),
      account.lastAttempt ? time(account.lastAttempt.started) : '-',
      account.lastAttempt?.error
        ? clip(account.lastAttempt.error, 60)
        : account.goneSince
          ? `gone from its server since ${time(account.goneSince)}`
          : account.configured === false
            ? 'no longer configured'
            : '',
    ]),
  );
  output.line();
  if (status.runs.length === 0) output.line('no runs recorded yet');
  else
    output.table(
      ['RUN', 'LAST STARTED', 'OUTCOME', 'TOOK', 'LAST OK', 'ID'],
      status.runs.map((run) => [
        run.kind,
        time(run.started),
        run.outcome === 'ok' ? 'ok' : run.outcome.toUpperCase(),
        run.seconds === null ? '-' : formatDuration(Math.round(run.seconds * 1000)),
        time(run.lastOk),
        run.id,
      ]),
    );
  for (const run of status.runs.filter((each) => each.running && each.running.id !== each.id))
    output.line(
      `${run.kind} running since ${time(run.running?.started ?? null)} (run ${run.running?.id ?? ''}${run.running?.pid ? `, process ${run.running.pid} on ${run.running.host ?? '?'}` : ''})`,
    );
  output.line();
  if (status.schedule.jobs.length === 0) output.line('no schedule configured');
  else
    output.table(
      ['SCHEDULED', 'CRON', `NEXT RUN (cron read in ${status.schedule.timezone})`],
      status.schedule.jobs.map((job) => [
        job.kind,
        job.cron,
        job.nextRuns[0] ? formatTime(new Date(job.nextRuns[0])) : 'cannot be read',
      ]),
    );
  output.line();
  if (status.healthy) output.line('healthy: nothing needs a look');
  else {
    const count = status.problems.length;
    output.problem(`${count} problem${count === 1 ? '' : 's'}:`);
    for (const problem of status.problems) output.problem(`  ${problem}`);
  }
}
