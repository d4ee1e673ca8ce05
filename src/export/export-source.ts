import type { Kysely } from 'kysely';
import { itemsEver, lastSeen, type HistoryFolder, type HistoryState } from '../catalog/history.js';
import type { CatalogSchema } from '../catalog/schema.js';
import type { AccountTree } from '../mailbox/account-tree.js';
import { readListing } from '../mailbox/folder-listing.js';
import type { Repository } from '../repository/repository.js';
import type { ExportFolder, ExportMessage } from './export-writer.js';

/** An item's life, for the --all-versions manifest. */
export interface ItemHistory {
  key: string;
  firstSeen: number;
  /** The latest snapshot that had it; null while it is still there. */
  lastSeen: number | null;
  /** The first snapshot that no longer had it; null while it is still there. */
  goneSince: number | null;
  states: HistoryState[];
  subject: string;
  from: string;
  messageId: string;
}

export interface SourceMessage extends ExportMessage {
  history?: ItemHistory;
}

/** What an export reads: folders in order, and each folder's messages as a stream. */
export interface ExportSource {
  folders: ExportFolder[];
  messages(folder: ExportFolder): AsyncIterable<SourceMessage>;
}

/** `inbox` in any case is INBOX, as IMAP has it. */
export function folderName(name: string): string {
  return /^inbox$/i.test(name) ? 'INBOX' : name;
}

/** Whether a folder is one of those asked for; a named folder includes its subfolders. */
export function isWanted(folder: ExportFolder, wanted: readonly string[]): boolean {
  if (wanted.length === 0) return true;
  return wanted.some(
    (name) =>
      folder.path === name ||
      (folder.delimiter !== null && folder.path.startsWith(name + folder.delimiter)),
  );
}

/** The names asked for that are none of these folders. */
export function unknownFolders(
  folders: readonly ExportFolder[],
  wanted: readonly string[],
): string[] {
  return wanted.filter((name) => !folders.some((folder) => isWanted(folder, [name])));
}

/**
 * The account as one snapshot saw it, read from the repository as a restore reads it: folders
 * that hold messages (not \Noselect ones), each listing read page by page.
 */
export function snapshotSource(
  repository: Repository,
  tree: AccountTree,
  wanted: readonly string[],
  exactly = false,
): ExportSource {
  const listings = new Map<string, string>();
  const folders: ExportFolder[] = [];
  for (const record of tree.folders) {
    if (record.listing === null) continue;
    const chosen = exactly ? wanted.includes(record.path) : isWanted(record, wanted);
    if (!chosen) continue;
    listings.set(record.path, record.listing);
    folders.push({ path: record.path, delimiter: record.delimiter });
  }
  return {
    folders,
    async *messages(folder) {
      const listing = listings.get(folder.path);
      if (!listing) return;
      for await (const entry of readListing(repository, listing)) {
        yield {
          folder: folder.path,
          uid: entry.uid,
          flags: entry.flags,
          internalDate: new Date(entry.date),
          size: entry.size,
          sha256: entry.sha256,
          manifest: entry.manifest,
        };
      }
    },
  };
}

/**
 * Every item the account ever held, deleted ones included, from the catalog: each with its
 * latest flags and UID and its whole history.
 */
export function historySource(
  db: Kysely<CatalogSchema>,
  folders: readonly HistoryFolder[],
  snapshotTimes: readonly number[],
  wanted: readonly string[],
  exactly = false,
): ExportSource {
  const byPath = new Map(folders.map((folder) => [folder.path, folder]));
  const chosen = folders.filter(
    (folder) =>
      folder.selectable && (exactly ? wanted.includes(folder.path) : isWanted(folder, wanted)),
  );
  return {
    folders: chosen.map((folder) => ({ path: folder.path, delimiter: folder.delimiter })),
    async *messages(folder) {
      const record = byPath.get(folder.path);
      if (!record) return;
      for await (const item of itemsEver(db, record)) {
        const latest = item.states[item.states.length - 1] as HistoryState;
        const seen = lastSeen(item.states, snapshotTimes);
        yield {
          folder: folder.path,
          uid: latest.uid,
          flags: latest.flags,
          internalDate: new Date(item.internalDate),
          size: item.size,
          sha256: item.sha256,
          manifest: item.manifest,
          history: {
            key: item.key,
            firstSeen: item.states[0]?.from ?? latest.from,
            lastSeen: seen,
            goneSince: seen === null ? null : Math.max(...item.states.map((s) => s.until ?? 0)),
            states: item.states,
            subject: item.subject,
            from: item.from,
            messageId: item.messageId,
          },
        };
      }
    },
  };
}
