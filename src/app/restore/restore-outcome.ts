import type { RestoreReport } from '../../restore/restore-report.js';
import type { NoticeOutcome } from '../../notify/notice.js';

/** A restore report as the table of a 'finished' notice. */
export function restoreOutcome(report: RestoreReport): NoticeOutcome {
  const created = report.totals.foldersCreated;
  return {
    rowLabel: 'folder',
    columns: ['restored', 'already present', 'failed'],
    rows: report.folders.map((folder) => ({
      name: folder.target,
      counts: [folder.restored, folder.alreadyPresent, folder.failed],
      ...(folder.created ? { note: 'created' } : {}),
    })),
    totals: [report.totals.restored, report.totals.alreadyPresent, report.totals.failed],
    failures: report.failures.map((failure) => ({
      where: [
        failure.folder,
        failure.uid !== undefined ? `UID ${failure.uid}` : '',
        failure.item ? `item ${failure.item}` : '',
      ]
        .filter(Boolean)
        .join(' '),
      reason: failure.reason,
    })),
    notes: created > 0 ? [`${created} folder${created === 1 ? '' : 's'} created`] : [],
  };
}
