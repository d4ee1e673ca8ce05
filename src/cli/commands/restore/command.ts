import type { Command } from 'commander';
import type { CommandRunner } from '../../main.js';
import { addNotifyOption, cliRequester } from '../../notify.js';
import { formatBytes, formatDuration, formatTime } from '../../../text/format.js';
import { UsageError } from '../../exit-codes.js';
import type { CliContext } from '../../context.js';

interface CommandOptions {
  at: string;
  output?: string;
  force?: boolean;
  verify: boolean;
  notify?: string;
}

/** `restore command NAME [--at D] [--output FILE]`: a command set's stored output at a date. */
export function registerRestoreCommand(restore: Command, run: CommandRunner): void {
  const command = restore
    .command('command')
    .description(
      "a command's stored output at a date (a database dump), fed to its configured restore command or written to a file",
    )
    .argument('<name>', 'the command set, as named in the configuration')
    .option(
      '--at <date>',
      'as it was at this date, or in this snapshot (its id) (default: last)',
      'last',
    )
    .option(
      '--output <file>',
      'write the stored output to this file instead (- for standard output)',
    )
    .option('--force', 'replace an existing --output file')
    .option(
      '--no-verify',
      'feed the restore command while reading, without reading the stored output through once first',
    );
  addNotifyOption(command).action(async (name: string, options: CommandOptions) =>
    run((context) => restoreCommand(context, name, options)),
  );
}

async function restoreCommand(
  context: CliContext,
  name: string,
  options: CommandOptions,
): Promise<void> {
  const { restoreCommandAt } = await import('../../../app/restore/command-restore-service.js');
  const toStdout = options.output === '-';
  if (toStdout && context.output.json)
    throw new UsageError('--output - writes the stored output on standard output; drop --json');
  const bars = {
    verify: context.output.progress('verify'),
    restore: context.output.progress('restore'),
  };
  const started = Date.now();
  let result;
  try {
    result = await restoreCommandAt(context, {
      name,
      at: options.at,
      output: options.output,
      stdout: context.terminal.stdout,
      force: options.force,
      verify: options.verify,
      showOutput: Boolean(context.globals.verbose),
      onProgress: (phase, bytes, total) => {
        if (phase === 'restore') bars.verify.finish();
        bars[phase].setDetail(`${formatBytes(bytes)} of ${formatBytes(total)}`);
      },
      requestedBy: cliRequester(context.terminal.env),
      notify: options.notify,
    });
  } finally {
    bars.verify.finish();
    bars.restore.finish();
  }
  const { report, size, toCommand, snapshotTime } = result;
  context.output.result(report);
  if (report.stoppedReading)
    context.output.warn(
      `the restore command of ${name} exited with code 0 after reading ${formatBytes(report.bytes)} of ${formatBytes(size)}`,
    );
  if (report.stderrTail.trim() !== '') {
    context.output.note(`the restore command's error output ended with:`);
    for (const text of report.stderrTail.trimEnd().split('\n').slice(-20))
      context.output.note(`  ${text}`);
  }
  // With the dump on standard output, everything else goes to the error output.
  const say = (text: string): void =>
    toStdout ? context.output.note(text) : context.output.line(text);
  say(
    `restored command ${name} as of ${formatTime(snapshotTime)}: ${formatBytes(report.bytes)} ${
      toCommand
        ? `into its restore command (exit code ${String(report.exitCode)})`
        : `to ${report.target}`
    } in ${formatDuration(Date.now() - started)}`,
  );
}
