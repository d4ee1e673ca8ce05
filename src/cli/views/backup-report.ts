import type { RunReport } from '../../backup/backup-run.js';
import type { SetReport } from '../../backup/set-job.js';
import type { BackupResult } from '../../app/backup/backup-service.js';
import {
  backupOutcome,
  failedParts,
  failureMessage,
  isItemFailure,
  setLabel,
} from '../../app/backup/history.js';
import { pendingUploadsMessage } from '../../app/session.js';
import { formatBytes, formatCount, formatDuration } from '../../text/format.js';
import { ExitCode } from '../exit-codes.js';
import type { Output } from '../output/output.js';

/**
 * A backup run as the CLI shows it: its JSON document, the failures and warnings each on a line,
 * a line per file set and command, the summary line, and what waits to upload; then its exit
 * code (a failed run throws, its first reason as the error line).
 */
export function showBackup(output: Output, result: BackupResult): ExitCode {
  const code = exitCodeFor(result.report, output);
  printReport(output, result);
  if (result.pendingUploads.files > 0)
    output.problem(pendingUploadsMessage(result.pendingUploads, result.location));
  return code;
}

/**
 * As for accounts, so for file sets and commands: when everything asked for failed, the backup
 * failed (exit 1, with the first reason and the names of the others); when some of it failed, or
 * some items could not be read, it finished with failures (exit 3), each listed.
 */
function exitCodeFor(report: RunReport, output: Output): ExitCode {
  const outcome = backupOutcome(report);
  if (outcome === 'failed') {
    // The error line gives one reason; the others are worth as much to whoever reads it.
    if (failedParts(report).length > 1) printFailures(output, report);
    throw new Error(failureMessage(report));
  }
  return outcome === 'partial' ? ExitCode.Partial : ExitCode.Ok;
}

function printReport(output: Output, result: BackupResult): void {
  const { report, storageRequests, pendingUploads } = result;
  const seconds = (report.finished.getTime() - report.started.getTime()) / 1000;
  const { totals } = report;
  output.result({
    run: report.run,
    started: report.started.toISOString(),
    finished: report.finished.toISOString(),
    seconds,
    imapCommands: result.imapCommands,
    davRequests: report.totals.davRequests,
    // Requests to the repository's storage (retries included) and bytes moved: on a remote
    // repository, what a run costs.
    storageRequests,
    // Files saved to the local cache that the remote has not taken yet (the next run sends them).
    pendingUploads,
    totals,
    accounts: report.accounts,
    sets: report.sets,
    failures: report.failures,
    warnings: report.warnings,
    hook: result.hook,
  });
  printFailures(output, report);
  for (const set of report.sets.filter((set) => set.ok)) {
    output.line(
      `backed up ${setLabel(set)}: ${formatCount(set.items)} items, ${formatBytes(set.bytesRead)} read, ${formatBytes(set.bytesAdded)} added`,
    );
  }
  output.line(summaryLine(report));
}

function printFailures(output: Output, report: RunReport): void {
  for (const warning of report.warnings)
    output.problem(`WARNING ${where(warning)}: ${warning.reason}`);
  for (const part of failedParts(report)) output.problem(`FAILED  ${part.label}: ${part.error}`);
  for (const failure of report.failures)
    output.problem(`FAILED  ${where(failure)}: ${failure.reason}`);
}

/** The account, then the folder and the message's UID or the item, as far as they are known. */
function where(at: {
  source: string;
  account: string;
  folder?: string;
  uid?: number;
  item?: string;
}): string {
  const item = at.uid !== undefined ? `UID ${at.uid}` : at.item;
  return [`${at.source}/${at.account}`, at.folder, item].filter(Boolean).join(' ');
}

/** "3/3 accounts", "1/2 commands": what succeeded of what was asked, named by kind. */
function fraction(ok: number, total: number, singular: string, plural: string): string {
  return `${formatCount(ok)}/${formatCount(total)} ${total === 1 ? singular : plural}`;
}

/**
 * The run in one line, naming only what it was asked to back up: "backed up 2/2 accounts
 * (1,200 items, 12 new), 1/1 file set (35 items, 2 new), 0/1 command: 4 MB read, 1 MB added in
 * 3.1 s; 3 items could not be read". A run of sets alone says nothing of accounts.
 */
function summaryLine(report: RunReport): string {
  const { totals } = report;
  const elapsed = report.finished.getTime() - report.started.getTime();
  const parts: string[] = [];
  if (totals.accounts > 0)
    parts.push(
      `${fraction(totals.accounts - totals.failedAccounts, totals.accounts, 'account', 'accounts')} ` +
        `(${formatCount(totals.items)} items, ${formatCount(totals.newItems)} new)`,
    );
  const fileSets = report.sets.filter((set) => set.kind === 'files' && set.ok);
  if (totals.fileSets > 0)
    parts.push(
      `${fraction(fileSets.length, totals.fileSets, 'file set', 'file sets')} ` +
        `(${formatCount(sum(fileSets, 'items'))} items, ${formatCount(sum(fileSets, 'newItems'))} new)`,
    );
  if (totals.commands > 0)
    parts.push(
      fraction(totals.commands - totals.failedCommands, totals.commands, 'command', 'commands'),
    );
  const what = parts.length > 0 ? parts.join(', ') : 'nothing (no accounts, file sets or commands)';
  const items = report.failures.filter(isItemFailure).length;
  const notRead = report.failures.length - items;
  const unread =
    (notRead > 0
      ? `; ${formatCount(notRead)} folder${notRead === 1 ? '' : 's'} or part${notRead === 1 ? '' : 's'} of accounts not backed up`
      : '') +
    (items > 0 ? `; ${formatCount(items)} item${items === 1 ? '' : 's'} could not be read` : '');
  return (
    `backed up ${what}: ${formatBytes(totals.bytesRead)} read, ${formatBytes(totals.bytesAdded)} added ` +
    `in ${formatDuration(elapsed)}${unread}`
  );
}

function sum(sets: SetReport[], key: 'items' | 'newItems'): number {
  return sets.reduce((total, set) => total + set[key], 0);
}
