import { parseDate, type DateSpec } from '../../dates/parse-date.js';
import type { AccountRestoreOutcome } from '../../restore/account-restore.js';
import type { RestoreReport } from '../../restore/restore-report.js';
import { formatTime } from '../../text/format.js';
import { resolveAccount } from '../account-resolution.js';
import { UsageError } from '../errors.js';
import { notified } from '../notified.js';
import { NO_PROGRESS, type ProgressSink } from '../progress.js';
import type { Session } from '../session.js';
import {
  collectionsOfItems,
  restoreCollectionsInto,
  restoreMailInto,
} from './collection-target.js';
import { entryOf } from './item-restore-service.js';
import { buildReport } from './reports.js';
import { restoreOutcome } from './restore-outcome.js';

export interface UndeleteRequest {
  account: string;
  source?: string;
  /** Deleted at or after this date, and at or before this one (dates or ages, as users give them). */
  from: string;
  to: string;
  /** Below this folder instead of their own. */
  intoFolder?: string;
  toAccount?: string;
  toServer?: string;
  requestedBy: string;
  notify?: string;
}

export interface UndeleteResult {
  report: RestoreReport;
  from: Date;
  to: Date;
  /** How many items were deleted in the range, and the keyword the restored messages carry. */
  deleted: number;
  keyword: string;
}

/** The keyword a restored deleted item carries: undelete_DD_MM_YY, for the day of the restore. */
export function undeleteKeyword(day: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `undelete_${pad(day.getDate())}_${pad(day.getMonth() + 1)}_${pad(day.getFullYear() % 100)}`;
}

function moment(spec: DateSpec, option: string): Date {
  if (spec.kind === 'time') return spec.time;
  if (spec.kind === 'first') return new Date(0);
  if (option === '--to') return new Date();
  throw new UsageError(`${option}: give a date or an age`);
}

/**
 * Items deleted between two dates (expunged, or gone with their folder; not moved), back into
 * their folders, messages tagged undelete_DD_MM_YY; events and contacts into their own
 * calendars and address books.
 */
export async function undelete(
  session: Session,
  request: UndeleteRequest,
  progress: ProgressSink = NO_PROGRESS,
): Promise<UndeleteResult> {
  const from = moment(parseDate(request.from, '--from', 'start'), '--from');
  const to = moment(parseDate(request.to, '--to', 'end'), '--to');
  if (to < from)
    throw new UsageError(`--to (${formatTime(to)}) is before --from (${formatTime(from)})`);
  await session.repository(); // the key and index first, as before any restore
  const catalog = await session.catalog();
  const account = await resolveAccount(catalog, request.account, request.source);
  const deleted = await catalog.deletedBetween(account.id, from, to);
  const deletedVersions = await catalog.collections.deletedBetween(account.id, from, to);
  if (deleted.length === 0 && deletedVersions.length === 0) {
    throw new Error(
      `nothing was deleted from ${account.name} between ${formatTime(from)} and ${formatTime(to)} (as far as its backups tell)`,
    );
  }
  const keyword = undeleteKeyword(new Date());
  let unnamed = 0;
  const destinationOf = (folder: string): string => {
    // The catalog knows every folder by name; the fallback keeps a nameless one apart anyway.
    const base = folder || `unknown_${++unnamed}`;
    return request.intoFolder ? `${request.intoFolder}/${base}` : base;
  };
  const targetAccount = request.toAccount ?? account.name;
  const serverName = request.toServer ?? account.source;
  const part = { kind: 'account' as const, source: serverName, name: targetAccount };
  const report = await notified(session, {
    kind: 'restore',
    requestedBy: request.requestedBy,
    title: `undelete in ${account.name}`,
    initiator: request.notify,
    parameters: {
      Account: `${account.source}/${account.name}`,
      Target: `${serverName}/${targetAccount}`,
      'Deleted between': `${formatTime(from)} and ${formatTime(to)}`,
      Keyword: keyword,
    },
    outcome: (done: RestoreReport) => ({ outcome: restoreOutcome(done), report: done }),
    work: async () => {
      progress({ type: 'started', operation: 'restore', parts: 1 });
      progress({ type: 'part-started', part });
      const outcome: AccountRestoreOutcome = { folders: [], failures: [], bytes: 0 };
      await restoreMailInto(
        session,
        { server: serverName, account: targetAccount },
        deleted.map((item) => ({
          folder: item.folder,
          destination: destinationOf(item.folder),
          entry: entryOf(item, [keyword]),
        })),
        outcome,
        progress,
      );
      // Events and contacts go back into their own calendars and address books (a keyword
      // has no DAV equivalent that every client shows, so they are not tagged).
      await restoreCollectionsInto(
        session,
        { server: serverName, account: targetAccount },
        await collectionsOfItems(catalog, deletedVersions),
        outcome,
        progress,
      );
      const done = buildReport(
        {
          account: `${account.source}/${account.name}`,
          target: `${serverName}/${targetAccount}`,
          snapshot: '',
          snapshotTime: '',
        },
        outcome,
      );
      const ok = done.totals.failed === 0;
      progress({ type: 'part-finished', part, ok });
      progress({ type: 'finished', outcome: ok ? 'ok' : 'partial' });
      return done;
    },
  });
  return { report, from, to, deleted: deleted.length + deletedVersions.length, keyword };
}
