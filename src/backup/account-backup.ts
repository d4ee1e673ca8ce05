import type { PartName } from './part-claims.js';
import type { Logger } from 'pino';
import type { CollectionRecord } from '../collections/collection-tree.js';
import { writeAccountTree, type AccountTree, type FolderRecord } from '../mailbox/account-tree.js';
import type { MessageEntry } from '../mailbox/folder-listing.js';
import type { ByteTally } from '../repository/object-writer.js';
import {
  afterDrop,
  backupFolder,
  isUnchanged,
  newFolderProgress,
  type FolderBackupContext,
} from './folder-backup.js';
import type { ItemFailure } from './item-failure.js';
import type { CollectionReader } from './collection-reader.js';
import { backupCollections } from './collections-backup.js';
import { carriedForward, describedBy } from './folder-records.js';
import type { FolderStatus, MailboxReader } from './mailbox-reader.js';
import { SummaryHints } from './summary-hints.js';

/** Entries of new listings kept for the catalog, at most. */
const LISTING_HINT_LIMIT = 50_000;

export interface AccountJob {
  source: string;
  account: string;
  /** Opens a fresh connection; called again after a dropped one. */
  openReader: () => Promise<MailboxReader>;
  /** Opens the account's calendars and address books, when its server has a DAV source. */
  openCollections?: () => Promise<CollectionReader>;
  /**
   * The account's previous snapshot, the base of the incremental run (`treeId`: its tree's id;
   * `time`: when it was taken).
   */
  parent: { id: string; treeId: string; tree: AccountTree; time: Date } | null;
  /** Connection attempts after a drop before the account is given up. */
  retries: number;
}

export interface AccountResult {
  tree: string;
  time: Date;
  folders: number;
  items: number;
  bytes: number;
  newItems: number;
  bytesRead: number;
  /** Bytes added to the repository: final once the writer has flushed. */
  added: ByteTally;
  failures: ItemFailure[];
  /** Items kept but worth a look (calendars and contacts that do not parse). */
  warnings: ItemFailure[];
  /** Calendars and address books, and their items (also counted in items and bytes). */
  collections: number;
  collectionItems: number;
  /** HTTP requests made to the DAV server. */
  davRequests: number;
  /** New listings (as many as the cap allows), handed to the catalog so it need not read them back. */
  listings: Map<string, MessageEntry[]>;
  /** Summaries of the messages stored, for the same purpose. */
  summaries: SummaryHints;
}

export interface AccountBackupContext extends Omit<FolderBackupContext, 'summaries' | 'tally'> {
  log: Logger;
  /** A dropped connection or an unreachable server: worth another connection. */
  isRetryable: (error: unknown) => boolean;
  /**
   * The server refused to open or read one folder (it went away meanwhile, or its name is one it
   * lists but cannot open) while the connection stays good: that folder fails, not the account.
   */
  isFolderRefusal: (error: unknown) => boolean;
  onFolder?: (part: PartName, folder: string) => void;
}

/**
 * Backs up one account: lists its folders with their status in one round trip, passes over the
 * folders whose status proves them unchanged, brings the others up to date, and writes the
 * account's tree. A dropped connection is reopened and the folder resumed. A folder the server
 * will not open fails alone: the snapshot keeps its last record (see carriedForward) and lists the
 * failure. Mail and calendars-and-contacts succeed or fail apart: when one cannot be read, the
 * other is still backed up, and the snapshot keeps the previous state of the part that failed;
 * only when neither can be read does the account fail.
 */
export async function backupAccount(
  context: AccountBackupContext,
  job: AccountJob,
): Promise<AccountResult> {
  const time = new Date();
  const result: AccountResult = {
    tree: '',
    time,
    folders: 0,
    items: 0,
    bytes: 0,
    newItems: 0,
    bytesRead: 0,
    added: { bytes: 0 },
    failures: [],
    warnings: [],
    collections: 0,
    collectionItems: 0,
    davRequests: 0,
    listings: new Map(),
    summaries: new SummaryHints(),
  };
  let mail: MailPart;
  try {
    mail = await mailOf(context, job, result);
  } catch (error) {
    // Without calendars and contacts to back up, the account has failed as it always did.
    if (!job.openCollections) throw error;
    // What the mail part counted before it failed is not in the snapshot (what it stored is in
    // the repository, and its bytes in result.added).
    Object.assign(result, { items: 0, bytes: 0, newItems: 0, failures: [] });
    result.listings.clear();
    const collections = await collectionsOf(context, job, result);
    if (!collections.read) throw error;
    mail = keptMail(context, job, result, error);
    return finish(context, result, { ...mail, collections: collections.records });
  }
  if (!job.openCollections) return finish(context, result, mail);
  const collections = await collectionsOf(context, job, result);
  return finish(context, result, { ...mail, collections: collections.records });
}

type MailPart = Pick<AccountTree, 'folders' | 'orphanSubscriptions'>;

async function finish(
  context: AccountBackupContext,
  result: AccountResult,
  tree: MailPart & Pick<AccountTree, 'collections'>,
): Promise<AccountResult> {
  result.folders = tree.folders.length;
  result.tree = await writeAccountTree(context.writer, { v: 1, ...tree });
  return result;
}

/**
 * The mail could not be read at all (the server refused the login, or stayed out of reach):
 * the previous snapshot's folders are kept, each marked stale, and the account is reported as
 * failed in part.
 */
function keptMail(
  context: AccountBackupContext,
  job: AccountJob,
  result: AccountResult,
  error: unknown,
): MailPart {
  const message = error instanceof Error ? error.message : String(error);
  const parent = job.parent;
  const reason = `mail not backed up${parent ? " (the previous snapshot's folders are kept)" : ''}: ${message}`;
  context.log.error({ account: job.account, err: error }, reason);
  result.failures.push({ source: job.source, account: job.account, reason });
  if (!parent) return { folders: [], orphanSubscriptions: [] };
  for (const folder of parent.tree.folders) {
    result.items += folder.count;
    result.bytes += folder.bytes;
  }
  return {
    folders: parent.tree.folders.map((folder) =>
      folder.listing === null ? folder : carriedForward(folder, parent.time, message),
    ),
    orphanSubscriptions: parent.tree.orphanSubscriptions,
  };
}

/** The account's folders, each brought up to date or, when the server refused it, kept. */
async function mailOf(
  context: AccountBackupContext,
  job: AccountJob,
  result: AccountResult,
): Promise<MailPart> {
  const previous = new Map((job.parent?.tree.folders ?? []).map((folder) => [folder.path, folder]));
  const folderContext: FolderBackupContext = {
    ...context,
    summaries: result.summaries,
    tally: result.added,
  };
  let listedEntries = 0;
  let reader: MailboxReader | undefined;
  /**
   * Runs work on a connection, reconnecting after a drop. Connecting has its own retries, so a
   * server that cannot be reached is not tried again here. `progressed` says whether the failed
   * attempt got anywhere: an attempt that did starts the count afresh.
   */
  const retrying = async <T>(
    what: string,
    work: (reader: MailboxReader) => Promise<T>,
    progressed: () => boolean = () => false,
  ): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      if (!reader || !reader.usable) {
        await reader?.close().catch(() => undefined);
        reader = await job.openReader();
      }
      try {
        return await work(reader);
      } catch (error) {
        if (!context.isRetryable(error)) throw error;
        if (progressed()) attempt = -1;
        else if (attempt >= job.retries) throw error;
        context.log.warn(
          { account: job.account, attempt: attempt + 1 },
          `${what}: ${(error as Error).message}; reconnecting`,
        );
        await reader?.close().catch(() => undefined);
        reader = undefined;
      }
    }
  };
  try {
    const listed = await retrying('listing folders', (r) => r.folders());
    const records: FolderRecord[] = [];
    for (const status of listed.folders) {
      const before = previous.get(status.path);
      if (!status.selectable) {
        records.push(
          describedBy(status, {
            uidValidity: null,
            uidNext: null,
            highestModseq: null,
            count: 0,
            bytes: 0,
            listing: null,
          }),
        );
        continue;
      }
      if (isUnchanged(before, status)) {
        records.push(describedBy(status, before));
        result.items += before.count;
        result.bytes += before.bytes;
        continue;
      }
      context.onFolder?.({ source: job.source, name: job.account }, status.path);
      const progress = newFolderProgress();
      let folder;
      try {
        folder = await retrying(
          `folder ${status.path}`,
          (r) => backupFolder(folderContext, r, status, before, progress),
          () => afterDrop(progress),
        );
      } catch (error) {
        if (!context.isFolderRefusal(error)) throw error;
        const kept = keptFolder(context, job, result, status, previous.get(status.path), error);
        if (kept) records.push(kept);
        continue;
      }
      records.push(folder.record);
      // Hints are a convenience: past the cap the catalog reads listings back instead.
      if (folder.record.listing && listedEntries + folder.entries.length <= LISTING_HINT_LIMIT) {
        result.listings.set(folder.record.listing, folder.entries);
        listedEntries += folder.entries.length;
      }
      result.items += folder.record.count;
      result.bytes += folder.record.bytes;
      result.newItems += folder.newMessages;
      result.bytesRead += folder.bytesRead;
      for (const uid of folder.undelivered) {
        result.failures.push({
          source: job.source,
          account: job.account,
          folder: status.path,
          uid,
          reason: 'the server listed this message but did not deliver its content',
        });
      }
      for (const { uid, reason } of folder.altered)
        result.warnings.push({
          source: job.source,
          account: job.account,
          folder: status.path,
          uid,
          item: `UID ${uid}`,
          reason,
        });
    }
    return { folders: records, orphanSubscriptions: listed.orphanSubscriptions };
  } finally {
    await reader?.close().catch(() => undefined);
  }
}

/**
 * A folder the server refused to open or read: the failure is listed, and its last record is
 * carried forward, stale, when it has one. One never backed up is left out: an empty record would
 * say it was empty.
 */
function keptFolder(
  context: AccountBackupContext,
  job: AccountJob,
  result: AccountResult,
  status: FolderStatus,
  last: FolderRecord | undefined,
  error: unknown,
): FolderRecord | null {
  const message = error instanceof Error ? error.message : String(error);
  const parent = job.parent;
  const kept = parent && last?.listing ? carriedForward(last, parent.time, message, status) : null;
  const keeping = kept?.stale ? ` (its messages as backed up at ${kept.stale.since} are kept)` : '';
  result.failures.push({
    source: job.source,
    account: job.account,
    folder: status.path,
    reason: `folder not backed up${keeping}: ${message}`,
  });
  context.log.error({ account: job.account, folder: status.path, err: error }, message);
  if (kept) {
    result.items += kept.count;
    result.bytes += kept.bytes;
  }
  return kept;
}

/**
 * The account's calendars and address books, brought up to date. When the DAV server cannot be
 * read, the previous snapshot's collections are kept (so nothing looks deleted) and the account
 * is reported as failed in part.
 */
async function collectionsOf(
  context: AccountBackupContext,
  job: AccountJob,
  result: AccountResult,
): Promise<{ records: CollectionRecord[]; read: boolean }> {
  const previous = job.parent?.tree.collections ?? [];
  let reader: CollectionReader | undefined;
  try {
    reader = await (job.openCollections as () => Promise<CollectionReader>)();
    const done = await backupCollections(
      {
        repository: context.repository,
        writer: context.writer,
        log: context.log,
        tally: result.added,
        source: job.source,
        account: job.account,
      },
      reader,
      previous,
    );
    result.collections = done.records.length;
    result.collectionItems = done.items;
    result.items += done.items;
    result.bytes += done.bytes;
    result.newItems += done.newItems;
    result.bytesRead += done.bytesRead;
    result.failures.push(...done.failures);
    result.warnings.push(...done.broken);
    result.davRequests = done.requests;
    return { records: done.records, read: true };
  } catch (error) {
    const reason = `calendars and contacts not backed up (the previous snapshot's are kept): ${error instanceof Error ? error.message : String(error)}`;
    context.log.error({ account: job.account, err: error }, reason);
    result.failures.push({ source: job.source, account: job.account, reason });
    result.davRequests = reader?.requests ?? 0;
    return { records: previous, read: false };
  } finally {
    await reader?.close().catch(() => undefined);
  }
}
