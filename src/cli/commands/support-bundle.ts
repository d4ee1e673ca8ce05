import type { Command } from 'commander';
import { parseAt } from '../../dates/at-spec.js';
import type { SupportBundleOutcome } from '../../export/support-bundle.js';
import { UsageError } from '../exit-codes.js';
import type { CommandRunner } from '../main.js';
import { formatCount, formatTime } from '../../text/format.js';
import { PROGRAM } from '../program-name.js';
import { fileSetsAt } from '../../app/restore/files-restore-service.js';

interface SupportBundleOptions {
  output: string;
  at: string;
  set?: string[];
  force?: boolean;
}

/** Output mistakes (an existing file, not a .zip) are usage errors: exit 2, nothing written. */
async function asUsage<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof Error && error.name === 'OutputError') throw new UsageError(error.message);
    throw error;
  }
}

/** `support-bundle --output FILE.zip [--at D] [--set NAME...]`: configuration with secrets redacted. */
export function registerSupportBundle(program: Command, run: CommandRunner): void {
  program
    .command('support-bundle')
    .description(
      'the configuration files of the file sets at a date as a .zip for a bug report, with secrets redacted and private keys left out (listed in its MANIFEST.txt)',
    )
    .requiredOption('--output <file>', 'the .zip file to write')
    .option('--at <date>', 'as they were at this date (default: last)', 'last')
    .option('--set <name...>', 'only these file sets (default: every set backed up by then)')
    .option('--force', 'replace an existing output file')
    .action(async (options: SupportBundleOptions) =>
      run(async (context) => {
        const { checkBundleOutput, writeSupportBundle } =
          await import('../../export/support-bundle.js');
        const at = parseAt(options.at);
        await asUsage(() => checkBundleOutput(options.output, Boolean(options.force)));
        const repository = await context.repository();
        const sets = await fileSetsAt(context, options.set, at, options.at);
        const outcome: SupportBundleOutcome = await asUsage(() =>
          writeSupportBundle({
            repository,
            sets: sets.map((set) => ({
              name: set.name,
              snapshot: set.snapshot.id,
              time: set.snapshot.time,
              root: set.root,
            })),
            output: options.output,
            force: Boolean(options.force),
            program: PROGRAM,
          }),
        );
        context.output.result(outcome);
        for (const set of sets)
          context.output.note(
            `file set ${set.name} as of ${formatTime(set.snapshot.time)} (snapshot ${set.snapshot.id.slice(0, 12)})`,
          );
        for (const file of outcome.leftOut)
          context.output.line(`LEFT OUT  ${JSON.stringify(file.path)}: ${file.reason}`);
        for (const file of outcome.redacted)
          context.output.line(
            `REDACTED  ${JSON.stringify(file.path)}: ${formatCount(file.redactions.length)} value(s)`,
          );
        context.output.line(
          `wrote ${outcome.output}: ${formatCount(outcome.files)} files, ${formatCount(outcome.redacted.length)} with values redacted, ` +
            `${formatCount(outcome.leftOut.length)} left out (see MANIFEST.txt inside)`,
        );
      }),
    );
}
