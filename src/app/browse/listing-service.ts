import type { FolderRow, ItemRow, SnapshotRow } from '../../catalog/rows.js';
import type { CollectionItemRow, CollectionRow } from '../../catalog/collection-queries.js';
import { parseCollectionName } from '../../collections/collection-tree.js';
import { parseAt } from '../../dates/at-spec.js';
import { formatTime } from '../../text/format.js';
import { resolveAccount } from '../account-resolution.js';
import type { Session } from '../session.js';
import { accountSnapshotAt } from '../snapshot-at.js';

export interface ListingRequest {
  account: string;
  source?: string;
  /** `last`, a date, or a snapshot's id. */
  at: string;
  /** A folder, or calendar:NAME or contacts:NAME: its items; none: the account's folders. */
  folder?: string;
  /** Items that were in the folder before the date and no longer are. */
  deleted?: boolean;
}

/** An account as it was at a date: its folders and collections, or one of them's items. */
export type Listing = {
  account: Awaited<ReturnType<typeof resolveAccount>>;
  snapshot: SnapshotRow;
} & (
  | { kind: 'account'; folders: FolderRow[]; collections: CollectionRow[] }
  | { kind: 'collection'; collection: string; items: CollectionItemRow[] }
  | { kind: 'folder'; folder: string; items: ItemRow[] }
);

/** What `ls` shows and the console browses: from the catalog alone. */
export async function listAt(session: Session, request: ListingRequest): Promise<Listing> {
  const at = parseAt(request.at);
  const catalog = await session.catalog();
  const account = await resolveAccount(catalog, request.account, request.source);
  const snapshot = await accountSnapshotAt(catalog, account, at);
  if (!snapshot)
    throw new Error(`no backup of ${request.account} at ${request.at}: its first backup is later`);
  const time = snapshot.time.getTime();
  const { folder } = request;
  if (folder === undefined) {
    const folders = await catalog.foldersAt(account.id, time);
    const collections = await catalog.collections.collectionsAt(account.id, time);
    return { account, snapshot, kind: 'account', folders, collections };
  }
  const collection = parseCollectionName(folder);
  if (collection) {
    const known = (await catalog.collections.collectionsAt(account.id, time)).some(
      (c) => c.kind === collection.kind && c.name === collection.name,
    );
    const items = await catalog.collections.itemsAt(account.id, collection, time);
    if (!known && items.length === 0)
      throw new Error(`${account.name} had no ${folder} at ${formatTime(snapshot.time)}`);
    return { account, snapshot, kind: 'collection', collection: folder, items };
  }
  const path = /^inbox$/i.test(folder) ? 'INBOX' : folder;
  const items = request.deleted
    ? await catalog.deletedItemsAt(account.id, path, time)
    : await catalog.itemsAt(account.id, path, time);
  if (
    !request.deleted &&
    items.length === 0 &&
    !(await catalog.foldersAt(account.id, time)).some((f) => f.path === path)
  ) {
    throw new Error(`${account.name} had no folder ${folder} at ${formatTime(snapshot.time)}`);
  }
  return { account, snapshot, kind: 'folder', folder: path, items };
}
