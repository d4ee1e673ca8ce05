import type { Command } from 'commander';
import type { ExportOutcome } from '../../export/export-account.js';
import type { ExportDescription } from '../../export/export-writer.js';
import type { CliContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import type { ExportRequest } from '../../app/export/export-service.js';
import type { CommandRunner } from '../main.js';
import { addNotifyOption, cliRequester } from '../notify.js';
import { withProgressView } from '../output/progress-view.js';
import { formatBytes, formatCount, formatDuration } from '../../text/format.js';
import { printable } from '../../text/printable.js';

type ExportOptions = Omit<ExportRequest, 'account' | 'requestedBy'>;

export function registerExport(program: Command, run: CommandRunner): void {
  const command = program
    .command('export')
    .description(
      'write an account as it was at a date, or every item it ever held, as mbox, Maildir or .eml files, or .ics and .vcf files',
    )
    .argument('<account>', 'the account')
    .requiredOption(
      '--format <format>',
      'mbox, maildir or eml (mail); ics (calendars and task lists) or vcf (address books)',
    )
    .requiredOption(
      '--output <path>',
      'a new directory; or a .mbox file (mbox, one --folder); or a .zip file (eml)',
    )
    .option('--at <date>', 'as it was at this date, or in this snapshot (its id) (default: last)')
    .option('--folder <folder...>', 'only these folders (with their subfolders)')
    .option(
      '--all-versions',
      'every message ever backed up, deleted ones included, with a manifest (JSON and CSV) beside the export',
    )
    .option('--force', 'replace an existing output file, or an earlier export in the directory')
    .option('--source <server>', 'the server, when the account name exists on several');
  addNotifyOption(command).action(async (name: string, options: ExportOptions) =>
    run(async (context) => {
      if (options.format === 'ics' || options.format === 'vcf') {
        const { exportCollectionsCommand } = await import('./export-collections.js');
        return exportCollectionsCommand(context, name, { ...options, format: options.format });
      }
      const { exportAccountAt } = await import('../../app/export/export-service.js');
      const started = Date.now();
      const result = await withProgressView(context.output, 'export', (sink) =>
        exportAccountAt(
          context,
          { account: name, ...options, requestedBy: cliRequester(context.terminal.env) },
          sink,
        ),
      );
      const { description, where, outcome } = result;
      printOutcome(context, description, where, outcome, Date.now() - started);
      return outcome.failures.length > 0 ? ExitCode.Partial : ExitCode.Ok;
    }),
  );
}

function printOutcome(
  context: CliContext,
  description: ExportDescription,
  where: string,
  outcome: ExportOutcome,
  elapsedMs: number,
): void {
  const { output } = context;
  const failed = outcome.failures.length;
  output.result({
    ...description,
    output: outcome.output,
    manifest: outcome.manifest,
    folders: outcome.folders,
    failures: outcome.failures,
    warnings: outcome.warnings,
    totals: {
      messages: outcome.messages,
      folders: outcome.folders.length,
      bytes: outcome.bytes,
      failed,
    },
    seconds: elapsedMs / 1000,
  });
  for (const warning of outcome.warnings) output.warn(warning);
  output.note(`exporting ${where} as ${description.format}`);
  output.table(
    ['FOLDER', 'MESSAGES', 'SIZE', 'FAILED'],
    outcome.folders.map((f) => [
      f.folder,
      formatCount(f.messages),
      formatBytes(f.bytes),
      formatCount(f.failed),
    ]),
    [1, 2, 3],
  );
  for (const failure of outcome.failures)
    output.problem(`FAILED  ${printable(failure.folder)} UID ${failure.uid}: ${failure.reason}`);
  output.line(
    `exported ${formatCount(outcome.messages)} messages (${formatBytes(outcome.bytes)}) from ${outcome.folders.length} folder(s)` +
      `${failed > 0 ? `, ${formatCount(failed)} failed` : ''}, to ${outcome.output} in ${formatDuration(elapsedMs)}`,
  );
  if (outcome.manifest)
    output.line(`manifest: ${outcome.manifest.json} and ${outcome.manifest.csv}`);
}
