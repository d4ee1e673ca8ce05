import type { Command } from 'commander';
import type { LoadedConfig } from '../../config/loaded-config.js';
import type { ConfiguredAccounts, Status } from '../../status/collect-status.js';
import type { CliContext } from '../context.js';
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
        const { collectStatus } = await import('../../status/collect-status.js');
        const loaded = await context.config();
        const catalog = await context.catalog();
        const status = await collectStatus({
          history: catalog.runs,
          storage: await context.storage(),
          schedule: loaded.config.schedule,
          configured: await configuredAccounts(context, loaded),
          now: new Date(),
        });
        context.output.result(status);
        printStatus(context.output, status);
        return status.healthy ? ExitCode.Ok : ExitCode.Partial;
      }),
    );
}

/** Accounts, file sets and commands of the configuration, as the catalog names their sources. */
async function configuredAccounts(
  context: CliContext,
  loaded: LoadedConfig,
): Promise<ConfiguredAccounts> {
  try {
    const refs = await context.accounts();
    return [
      ...refs.map((ref) => ({ source: ref.server.name, name: ref.account.name })),
      ...loaded.config.files.map((set) => ({ source: 'files', name: set.name })),
      ...loaded.config.commands.map((command) => ({ source: 'commands', name: command.name })),
    ];
  } catch (error) {
    // An account list that cannot be read (its command fails) is one problem among others.
    return { error: error instanceof Error ? error.message : String(error) };
  }
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
