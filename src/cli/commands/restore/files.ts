import type { Command } from 'commander';
import type { FileSetRestoreReport } from '../../../restore/files-restore.js';
import { totalsOf } from '../../../app/restore/files-restore-service.js';
import { ExitCode } from '../../exit-codes.js';
import type { CommandRunner } from '../../main.js';
import { addNotifyOption, cliRequester } from '../../notify.js';
import { progressView } from '../../output/progress-view.js';
import { formatBytes, formatCount, formatDuration, formatTime } from '../../../text/format.js';
import type { Output } from '../../output/output.js';
import type { CliContext } from '../../context.js';

interface FilesOptions {
  at: string;
  target?: string;
  force?: boolean;
  set?: string[];
  notify?: string;
}

export function registerRestoreFiles(restore: Command, run: CommandRunner): void {
  const command = restore
    .command('files')
    .description(
      'configuration files as they were at a date, below a new directory keeping their absolute paths; in place with --target /',
    )
    .argument('[path...]', 'only these paths, each with everything below it (default: everything)')
    .option(
      '--at <date>',
      'as they were at this date, or in this snapshot (its id) (default: last)',
      'last',
    )
    .option(
      '--target <dir>',
      'restore below this directory (default: a new ./mailvault-restore-<set>-<time> per set; / restores in place)',
    )
    .option('--force', 'replace existing files and links whose content or target differs')
    .option('--set <name...>', 'only these file sets (default: every set backed up by then)');
  addNotifyOption(command).action(async (paths: string[], options: FilesOptions) =>
    run((context) => restoreFiles(context, paths, options)),
  );
}

async function restoreFiles(
  context: CliContext,
  paths: string[],
  options: FilesOptions,
): Promise<ExitCode> {
  const { restoreFilesAt } = await import('../../../app/restore/files-restore-service.js');
  const progress = progressView(context.output, 'restore');
  let result;
  try {
    result = await restoreFilesAt(
      context,
      {
        ...options,
        paths,
        cwd: context.terminal.cwd,
        requestedBy: cliRequester(context.terminal.env),
      },
      progress.sink,
    );
  } finally {
    progress.finish();
  }
  const { reports, started } = result;
  printFilesReport(context.output, reports, Date.now() - started.getTime());
  return reports.some((report) => report.skipped + report.failed > 0)
    ? ExitCode.Partial
    : ExitCode.Ok;
}

function printFilesReport(
  output: Output,
  reports: readonly FileSetRestoreReport[],
  elapsedMs: number,
): void {
  const totals = totalsOf(reports);
  output.result({ sets: reports, totals, seconds: elapsedMs / 1000 });
  for (const report of reports)
    output.note(
      `restoring file set ${report.set} as of ${formatTime(new Date(report.snapshotTime))} into ${report.target}`,
    );
  output.table(
    ['FILE SET', 'RESTORED', 'ALREADY THERE', 'SKIPPED', 'FAILED', 'TARGET'],
    reports.map((report) => [
      report.set,
      formatCount(report.restored),
      formatCount(report.alreadyPresent),
      formatCount(report.skipped),
      formatCount(report.failed),
      report.target,
    ]),
    [1, 2, 3, 4],
  );
  for (const report of reports)
    for (const item of report.items)
      output.problem(
        `${item.outcome.toUpperCase().padEnd(7)} ${JSON.stringify(item.path)}: ${item.reason}`,
      );
  for (const note of new Set(reports.flatMap((report) => report.notes))) output.note(note);
  output.line(
    `restored ${formatCount(totals.restored)} ${totals.restored === 1 ? 'entry' : 'entries'} (${formatBytes(totals.bytes)}), ${formatCount(totals.alreadyPresent)} already there, ` +
      `${formatCount(totals.skipped)} skipped, ${formatCount(totals.failed)} failed, in ${formatDuration(elapsedMs)}`,
  );
}
