import type { SnapshotRow } from '../../catalog/catalog.js';
import { commandTimeout } from '../../config/duration.js';
import { parseAt } from '../../dates/at-spec.js';
import type { DateSpec } from '../../dates/parse-date.js';
import type { NoticeOutcome } from '../../notify/notice.js';
import type { CommandRestoreOutcome } from '../../restore/command-restore.js';
import { formatBytes, formatTime, shortId } from '../../text/format.js';
import { UsageError } from '../errors.js';
import { notified } from '../notified.js';
import type { Session } from '../session.js';
import { checkOwner, snapshotById } from '../snapshot-at.js';

export interface CommandRestoreRequest {
  /** The command set, as the configuration names it. */
  name: string;
  at: string;
  /** A file (or `-`, standard output: `stdout`) instead of the configured restore command. */
  output?: string;
  stdout: NodeJS.WritableStream;
  /** Replace an existing output file. */
  force?: boolean;
  /** Read the stored output through once before the restore command sees a byte of it. */
  verify: boolean;
  /** Show the restore command's own output as it runs. */
  showOutput?: boolean;
  onProgress?: (phase: 'verify' | 'restore', bytes: number, total: number) => void;
  requestedBy: string;
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

export interface CommandRestoreResult {
  report: CommandRestoreReport;
  /** The stored output's size, and whether it went to the restore command. */
  size: number;
  toCommand: boolean;
  snapshotTime: Date;
}

/**
 * A command's stored output (a database dump) at a date, fed to its configured restore command
 * or written to a file. Usage mistakes are found before the passphrase is asked for.
 */
export async function restoreCommandAt(
  session: Session,
  options: CommandRestoreRequest,
): Promise<CommandRestoreResult> {
  const { name } = options;
  const { checkOutputFile, STDOUT } = await import('../../targets/commands/output-file.js');
  const at = parseAt(options.at);
  const loaded = await session.config();
  const index = loaded.config.commands.findIndex((entry) => entry.name === name);
  const configured = loaded.config.commands[index];
  const output = options.output;
  // Usage mistakes first, before a passphrase is asked for or anything is opened.
  if (configured && output === undefined && configured.restore === undefined)
    throw new UsageError(
      `command ${name} has no restore command: add commands[${index}].restore to the configuration, or write its output to a file with --output FILE`,
    );
  if (output !== undefined) await asUsage(() => checkOutputFile(output, Boolean(options.force)));

  const repository = await session.repository();
  const catalog = await session.catalog();
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

  const { readCommandTree } = await import('../../command-output/command-tree.js');
  const { restoreCommandOutput } = await import('../../restore/command-restore.js');
  const tree = await readCommandTree(repository, snapshot.tree);
  const toCommand = output === undefined;
  const target = toCommand ? 'restore command' : output === STDOUT ? 'stdout' : output;
  const asOf = `${formatTime(snapshot.time)} (snapshot ${shortId(snapshot.id)})`;
  session.notices.note(
    `restoring command ${name} as of ${asOf}, ${formatBytes(tree.stream.size)}, ${
      toCommand
        ? 'into its restore command'
        : output === STDOUT
          ? 'to standard output'
          : `into ${output}`
    }`,
  );

  const started = Date.now();
  const report = await notified(session, {
    kind: 'restore',
    requestedBy: options.requestedBy,
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
      const outcome: CommandRestoreOutcome = await restoreCommandOutput({
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
              showOutput: Boolean(options.showOutput),
            }
          : { kind: 'file', path: output, stdout: options.stdout },
        verifyFirst: toCommand && options.verify,
        onProgress: options.onProgress,
      });
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

  return { report, size: tree.stream.size, toCommand, snapshotTime: snapshot.time };
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
