import type { AccountRestoreOutcome } from '../../../restore/account-restore.js';
import type { RestoreFailure, RestoreReport } from '../../../restore/restore-report.js';
import { ExitCode } from '../../exit-codes.js';
import { formatBytes, formatCount, formatDuration, formatTime } from '../../../text/format.js';
import type { Output } from '../../output/output.js';
import { printable } from '../../../text/printable.js';

export function buildReport(
  what: Pick<RestoreReport, 'account' | 'target' | 'snapshot' | 'snapshotTime'>,
  outcome: AccountRestoreOutcome,
): RestoreReport {
  return {
    ...what,
    folders: outcome.folders,
    failures: outcome.failures,
    totals: {
      restored: outcome.folders.reduce((sum, f) => sum + f.restored, 0),
      alreadyPresent: outcome.folders.reduce((sum, f) => sum + f.alreadyPresent, 0),
      failed: outcome.failures.length,
      foldersCreated: outcome.folders.filter((f) => f.created).length,
      bytes: outcome.bytes,
    },
  };
}

/** Several reports (one per target account) as one, for a single notice. */
export function combined(reports: readonly RestoreReport[]): RestoreReport {
  const first = reports[0];
  return {
    account: reports.map((report) => report.account).join(', '),
    target: reports.map((report) => report.target).join(', '),
    snapshot: first?.snapshot ?? '',
    snapshotTime: first?.snapshotTime ?? '',
    folders: reports.flatMap((report) => report.folders),
    failures: reports.flatMap((report) => report.failures),
    totals: {
      restored: reports.reduce((sum, report) => sum + report.totals.restored, 0),
      alreadyPresent: reports.reduce((sum, report) => sum + report.totals.alreadyPresent, 0),
      failed: reports.reduce((sum, report) => sum + report.totals.failed, 0),
      foldersCreated: reports.reduce((sum, report) => sum + report.totals.foldersCreated, 0),
      bytes: reports.reduce((sum, report) => sum + report.totals.bytes, 0),
    },
  };
}

export function exitCodeOf(report: RestoreReport): ExitCode {
  return report.totals.failed > 0 ? ExitCode.Partial : ExitCode.Ok;
}

export function printRestoreReport(output: Output, report: RestoreReport, elapsedMs: number): void {
  output.result({ ...report, seconds: elapsedMs / 1000 });
  output.note(
    `restoring ${report.account}${report.snapshotTime ? ` as of ${formatTime(new Date(report.snapshotTime))}` : ''} into ${report.target}`,
  );
  output.table(
    ['FOLDER', 'RESTORED', 'ALREADY THERE', 'FAILED', ''],
    report.folders.map((f) => [
      f.target,
      formatCount(f.restored),
      formatCount(f.alreadyPresent),
      formatCount(f.failed),
      f.created ? 'created' : '',
    ]),
    [1, 2, 3],
  );
  for (const failure of report.failures) output.problem(`FAILED  ${failureLine(failure)}`);
  const { totals } = report;
  output.line(
    `restored ${formatCount(totals.restored)} items (${formatBytes(totals.bytes)}), ${formatCount(totals.alreadyPresent)} already there, ` +
      `${formatCount(totals.failed)} failed, ${totals.foldersCreated} folder(s) created, in ${formatDuration(elapsedMs)}`,
  );
}

/** Where a failure happened: the folder or collection, then the message's UID or the item's name. */
export function failureLine(failure: RestoreFailure): string {
  const where = [
    printable(failure.folder),
    ...(failure.uid ? [`UID ${failure.uid}`] : []),
    ...(failure.item ? [`item ${printable(failure.item)}`] : []),
  ];
  return `${where.join(' ')}: ${failure.reason}`;
}
