import type { FolderRecord } from '../mailbox/account-tree.js';
import type { FolderStatus } from './mailbox-reader.js';

/** A folder record with the folder's current description and the given content state. */
export function describedBy(
  status: FolderStatus,
  content: Pick<
    FolderRecord,
    'uidValidity' | 'uidNext' | 'highestModseq' | 'count' | 'bytes' | 'listing'
  >,
): FolderRecord {
  return {
    path: status.path,
    delimiter: status.delimiter,
    specialUse: status.specialUse,
    attributes: status.attributes,
    subscribed: status.subscribed,
    uidValidity: content.uidValidity,
    uidNext: content.uidNext,
    highestModseq: content.highestModseq,
    count: content.count,
    bytes: content.bytes,
    listing: content.listing,
  };
}

/**
 * A folder this run could not read, as the snapshot keeps it: its last record (listing and the
 * state it was read in, so that the next run compares against what that listing holds), marked
 * stale since the time that listing was read. Its messages then neither vanish from the snapshot
 * (a restore, `ls`, `search --deleted` and undelete would take them for deleted) nor pass for read
 * today.
 */
export function carriedForward(
  record: FolderRecord,
  readAt: Date,
  reason: string,
  status?: FolderStatus,
): FolderRecord {
  const since = record.stale?.since ?? readAt.toISOString();
  return { ...(status ? describedBy(status, record) : record), stale: { since, reason } };
}
