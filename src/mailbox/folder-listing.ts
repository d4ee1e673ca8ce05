import type { ObjectWriter } from '../repository/object-writer.js';
import type { Repository } from '../repository/repository.js';
import { checkVersion } from './tree-version.js';

/** One message as a folder held it: its IMAP state and the manifest of its bytes. */
export interface MessageEntry {
  uid: number;
  /** Flags and keywords, sorted. */
  flags: string[];
  /** INTERNALDATE, ISO 8601 (with the server's offset where it gave one). */
  date: string;
  size: number;
  /** SHA-256 of the message bytes: what identifies the message across folders and servers. */
  sha256: string;
  /** Id of the message manifest object. */
  manifest: string;
}

/**
 * A folder's messages are stored as pages of about 16 entries sorted by UID, cut where a hash of
 * the UID says so: a new message changes only the last page, a flag change only its own, so a
 * large folder that changes a little costs little new in each snapshot.
 */
export interface ListingRoot {
  v: 1;
  count: number;
  bytes: number;
  pages: Array<{ id: string; first: number; last: number; count: number }>;
}

type PackedEntry = [number, string[], string, number, string, string];

interface ListingPage {
  v: 1;
  entries: PackedEntry[];
}

/**
 * Small pages: flag changes and deletions land on random pages, and each one rewrites its page; a
 * page of 16 costs ~2 KB, the root ~80 bytes a page.
 */
const MAX_PAGE = 128;

function endsPage(uid: number): boolean {
  let h = Math.imul(uid ^ 0x9e3779b9, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h & 15) === 0;
}

/** Stores a folder's entries (sorted by UID) and returns the listing root's id. */
export async function writeListing(
  writer: ObjectWriter,
  entries: readonly MessageEntry[],
): Promise<string> {
  const root: ListingRoot = { v: 1, count: entries.length, bytes: 0, pages: [] };
  let page: MessageEntry[] = [];
  const flush = async (): Promise<void> => {
    if (page.length === 0) return;
    const encoded: ListingPage = {
      v: 1,
      entries: page.map((e) => [e.uid, e.flags, e.date, e.size, e.sha256, e.manifest]),
    };
    const saved = await writer.save('tree', Buffer.from(JSON.stringify(encoded)));
    root.pages.push({
      id: saved.id.toString('hex'),
      first: page[0]?.uid ?? 0,
      last: page[page.length - 1]?.uid ?? 0,
      count: page.length,
    });
    page = [];
  };
  let previousUid = 0;
  for (const entry of entries) {
    if (entry.uid <= previousUid)
      throw new Error(`listing entries must be sorted by UID (${entry.uid} after ${previousUid})`);
    previousUid = entry.uid;
    root.bytes += entry.size;
    page.push(entry);
    if (endsPage(entry.uid) || page.length >= MAX_PAGE) await flush();
  }
  await flush();
  return (await writer.save('tree', Buffer.from(JSON.stringify(root)))).id.toString('hex');
}

export async function readListingRoot(repository: Repository, id: string): Promise<ListingRoot> {
  return checkVersion(
    await repository.readTree<ListingRoot>(Buffer.from(id, 'hex')),
    'folder listing',
    id,
  );
}

export async function readListingPage(repository: Repository, id: string): Promise<MessageEntry[]> {
  const page = checkVersion(
    await repository.readTree<ListingPage>(Buffer.from(id, 'hex')),
    'listing page',
    id,
  );
  return page.entries.map(([uid, flags, date, size, sha256, manifest]) => ({
    uid,
    flags,
    date,
    size,
    sha256,
    manifest,
  }));
}

export async function* readListing(
  repository: Repository,
  id: string,
): AsyncIterable<MessageEntry> {
  const root = await readListingRoot(repository, id);
  for (const page of root.pages) yield* await readListingPage(repository, page.id);
}

export async function readAllEntries(
  repository: Repository,
  id: string | null,
): Promise<MessageEntry[]> {
  const entries: MessageEntry[] = [];
  if (id) for await (const entry of readListing(repository, id)) entries.push(entry);
  return entries;
}
