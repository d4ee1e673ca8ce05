import type { RestoreFailure, RestoreReport } from '../../../restore/restore-report.js';
import { ExitCode } from '../../exit-codes.js';
import { formatBytes, formatCount, formatDuration, formatTime } from '../../../text/format.js';
import type { Output } from '../../output/output.js';
import { printable } from '../../../text/printable.js';

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
