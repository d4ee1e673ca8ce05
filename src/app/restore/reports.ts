import type { AccountRestoreOutcome } from '../../restore/account-restore.js';
import type { RestoreReport } from '../../restore/restore-report.js';

/** A restore's report: what it restored, named, with its totals. */
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
