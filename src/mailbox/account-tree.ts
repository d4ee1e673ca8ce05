import type { ObjectWriter } from '../repository/object-writer.js';
import type { Repository } from '../repository/repository.js';
import type { CollectionRecord } from '../collections/collection-tree.js';

/**
 * The root tree of an account snapshot: its folder tree with each folder's IMAP identity and
 * synchronisation state (what the next incremental run compares against), and its subscriptions.
 */
export interface FolderRecord {
  /** Full folder name, decoded to UTF-8, with the server's hierarchy separator. */
  path: string;
  delimiter: string | null;
  specialUse: string | null;
  /** LIST attributes other than special-use, e.g. \Noselect. */
  attributes: string[];
  subscribed: boolean;
  /** Decimal strings: UIDVALIDITY and MODSEQ are 32- and 63-bit values. */
  uidValidity: string | null;
  uidNext: number | null;
  highestModseq: string | null;
  count: number;
  bytes: number;
  /** Listing root id; null for a folder that cannot hold messages. */
  listing: string | null;
  /**
   * Present when this run could not read the folder (the server listed it but refused to open
   * it, or it went away while the run was under way): the record, listing included, is the one
   * read at `since`, carried forward so that its messages do not look deleted. The next run reads
   * the folder again.
   */
  stale?: StaleState;
}

/** Why a folder's record was carried forward instead of read, and since when it was. */
export interface StaleState {
  /** When the listing was last read from the server (ISO 8601 UTC). */
  since: string;
  /** What the server said when it was not. */
  reason: string;
}

export interface AccountTree {
  v: 1;
  folders: FolderRecord[];
  /** Subscribed names that are not folders (a subscription may outlive its folder). */
  orphanSubscriptions: string[];
  /** Calendars, task lists and address books (absent when the account has no DAV source). */
  collections?: CollectionRecord[];
}

export async function writeAccountTree(writer: ObjectWriter, tree: AccountTree): Promise<string> {
  return (await writer.save('tree', Buffer.from(JSON.stringify(tree)))).id.toString('hex');
}

export async function readAccountTree(repository: Repository, id: string): Promise<AccountTree> {
  const tree = await repository.readTree<AccountTree>(Buffer.from(id, 'hex'));
  if (tree.v !== 1) throw new Error(`account tree ${id}: unsupported version ${String(tree.v)}`);
  return tree;
}
