import type { Command } from 'commander';
import type { SnapshotRow } from '../../../catalog/catalog.js';
import { commandTimeout } from '../../../config/duration.js';
import { parseAt } from '../../../dates/at-spec.js';
import type { DateSpec } from '../../../dates/parse-date.js';
import type { NoticeOutcome } from '../../../notify/notice.js';
import type { CommandRestoreOutcome } from '../../../restore/command-restore.js';
import type { CliContext } from '../../context.js';
import { UsageError } from '../../exit-codes.js';
import type { CommandRunner } from '../../main.js';
import { notified } from '../../../app/notified.js';
import { addNotifyOption, cliRequester } from '../../notify.js';
import { formatBytes, formatDuration, formatTime, shortId } from '../../../text/format.js';
import { checkOwner, snapshotById } from '../../../app/snapshot-at.js';

interface CommandOptions {
  at: string;
  output?: string;
  force?: boolean;
  verify: boolean;
  notify?: string;
}

/** What `restore command --json` prints, and what a 'finished' notice attaches. */
export interface CommandRestoreReport {
  command: string;
  snapshot: string;
  snapshotTime: string;
  /** 'restore command', a file path, or 'stdout'. */
  target: string;
  bytes: number;
  sha256: string;
  verifiedFirst: boolean;
  exitCode: number | null;
  signal: string | null;
  /** The last lines the restore command wrote on its error output. */
  stderrTail: string;
  stoppedReading: boolean;
  seconds: number;
}

/** The snapshot in force at a date: the latest taken at or before it (rows oldest first). */
export function snapshotAtDate(rows: readonly SnapshotRow[], at: DateSpec): SnapshotRow | null {
  if (at.kind === 'first') return rows[0] ?? null;
  if (at.kind === 'last') return rows.at(-1) ?? null;
  let found: SnapshotRow | null = null;
  for (const row of rows) if (row.time.getTime() <= at.time.getTime()) found = row;
  return found;
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
  const { checkOutputFile, STDOUT } = await import('../../../targets/commands/output-file.js');
  const at = parseAt(options.at);
  const loaded = await context.config();
  const index = loaded.config.commands.findIndex((entry) => entry.name === name);
  const configured = loaded.config.commands[index];
  const output = options.output;
  // Usage mistakes first, before a passphrase is asked for or anything is opened.
  if (configured && output === undefined && configured.restore === undefined)
    throw new UsageError(
      `command ${name} has no restore command: add commands[${index}].restore to the configuration, or write its output to a file with --output FILE`,
    );
  if (output === STDOUT && context.output.json)
    throw new UsageError('--output - writes the stored output on standard output; drop --json');
  if (output !== undefined) await asUsage(() => checkOutputFile(output, Boolean(options.force)));

  const repository = await context.repository();
  const catalog = await context.catalog();
  const rows = await catalog.snapshots({ source: 'commands', account: name });
  if (!configured) {
    const known = loaded.config.commands.map((entry) => entry.name);
    if (rows.length === 0)
      throw new UsageError(
        `unknown command ${name}: the configuration's commands are ${known.length > 0 ? known.join(', ') : '(none)'}, and no backup of ${name} is known`,
      );
    if (output === undefined)
      throw new UsageError(
        `command ${name} is no longer in the configuration, so it has no restore command: write its output to a file with --output FILE`,
      );
  }
  let snapshot: SnapshotRow | null;
  if (at.kind === 'snapshot') {
    const row = await snapshotById(catalog, at.id);
    checkOwner(row, { source: 'commands', account: name });
    snapshot = row;
  } else snapshot = snapshotAtDate(rows, at);
  if (!snapshot) {
    const first = rows[0];
    throw new Error(
      first
        ? `no backup of command ${name} at ${options.at}: its first backup is from ${formatTime(first.time)}`
        : `command ${name} has never been backed up`,
    );
  }

  const { readCommandTree } = await import('../../../command-output/command-tree.js');
  const { restoreCommandOutput } = await import('../../../restore/command-restore.js');
  const tree = await readCommandTree(repository, snapshot.tree);
  const toCommand = output === undefined;
  const target = toCommand ? 'restore command' : output === STDOUT ? 'stdout' : output;
  // With the dump on standard output, everything else goes to the error output.
  const say = (text: string): void =>
    output === STDOUT ? context.output.note(text) : context.output.line(text);
  const asOf = `${formatTime(snapshot.time)} (snapshot ${shortId(snapshot.id)})`;
  context.output.note(
    `restoring command ${name} as of ${asOf}, ${formatBytes(tree.stream.size)}, ${
      toCommand
        ? 'into its restore command'
        : output === STDOUT
          ? 'to standard output'
          : `into ${output}`
    }`,
  );

  const started = Date.now();
  const report = await notified(context, {
    kind: 'restore',
    requestedBy: cliRequester(context.terminal.env),
    title: `restore of command ${name}`,
    initiator: options.notify,
    parameters: {
      Command: name,
      // Not the command line itself: it may carry more than a notice should.
      Target: toCommand ? `its restore command (commands[${index}].restore)` : target,
      'As of': asOf,
    },
    outcome: (result: CommandRestoreReport) => ({ outcome: noticeOutcome(result), report: result }),
    work: async (): Promise<CommandRestoreReport> => {
      const bars = {
        verify: context.output.progress('verify'),
        restore: context.output.progress('restore'),
      };
      let outcome: CommandRestoreOutcome;
      try {
        outcome = await restoreCommandOutput({
          repository,
          tree,
          target: toCommand
            ? {
                kind: 'command',
                command: {
                  name,
                  restore: configured?.restore ?? '',
                  // The dump's own limit: a restore that hangs is stopped the same way.
                  ...(configured ? { timeout: commandTimeout(configured, index) } : {}),
                },
                cwd: loaded.directory,
                showOutput: Boolean(context.globals.verbose),
              }
            : { kind: 'file', path: output, stdout: context.terminal.stdout },
          verifyFirst: toCommand && options.verify,
          onProgress: (phase, bytes, total) => {
            if (phase === 'restore') bars.verify.finish();
            bars[phase].setDetail(`${formatBytes(bytes)} of ${formatBytes(total)}`);
          },
        });
      } finally {
        bars.verify.finish();
        bars.restore.finish();
      }
      return {
        command: name,
        snapshot: snapshot.id,
        snapshotTime: snapshot.time.toISOString(),
        target,
        bytes: outcome.bytes,
        sha256: outcome.sha256,
        verifiedFirst: outcome.verifiedFirst,
        exitCode: outcome.exit?.code ?? null,
        signal: outcome.exit?.signal ?? null,
        stderrTail: outcome.exit?.stderrTail ?? '',
        stoppedReading: outcome.stoppedReading,
        seconds: (Date.now() - started) / 1000,
      };
    },
  });

  context.output.result(report);
  if (report.stoppedReading)
    context.output.warn(
      `the restore command of ${name} exited with code 0 after reading ${formatBytes(report.bytes)} of ${formatBytes(tree.stream.size)}`,
    );
  if (report.stderrTail.trim() !== '') {
    context.output.note(`the restore command's error output ended with:`);
    for (const text of report.stderrTail.trimEnd().split('\n').slice(-20))
      context.output.note(`  ${text}`);
  }
  say(
    `restored command ${name} as of ${formatTime(snapshot.time)}: ${formatBytes(report.bytes)} ${
      toCommand ? `into its restore command (exit code ${String(report.exitCode)})` : `to ${target}`
    } in ${formatDuration(Date.now() - started)}`,
  );
}

function noticeOutcome(report: CommandRestoreReport): NoticeOutcome {
  return {
    rowLabel: 'command',
    columns: ['bytes restored'],
    rows: [
      {
        name: report.command,
        counts: [report.bytes],
        ...(report.exitCode !== null ? { note: `exit code ${report.exitCode}` } : {}),
      },
    ],
    totals: [report.bytes],
    failures: [],
    notes: [
      `written to ${report.target}`,
      ...(report.verifiedFirst
        ? ['the stored output was verified before the restore started']
        : []),
    ],
  };
}

/** An --output that may not be written is a usage error: exit 2, nothing written. */
async function asUsage<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof Error && error.name === 'OutputFileError')
      throw new UsageError(error.message);
    throw error;
  }
}
