/**
 * `retention.deletedItems`: how long an item deleted from the server stays restorable. Every
 * snapshot stands alone, so an item deleted long ago lives on in each old snapshot that held it;
 * to let it go, those snapshots are written again without it (new listing pages, account tree
 * and snapshot file, the old file removed), and `prune` then frees what nothing needs any more.
 *
 * When an item was deleted is read from the kept snapshots themselves, not from the catalog, so
 * the rule holds however the catalog was kept. For one account, take the newest kept snapshot at
 * or before the cutoff (`now - deletedItems`), the boundary: an item in it or in any later kept
 * snapshot was still on the server at the boundary or later, so it stays. An item only in older
 * snapshots had gone by the boundary, more than `deletedItems` ago: it leaves them. Mail is
 * identified by its bytes (a message moved to another folder is not deleted), calendar and
 * contact items by their collection and name (an edited event keeps its older versions).
 */
import {
  collectionLabel,
  readListing as readCollectionListing,
  writeListing as writeCollectionListing,
  type CollectionItem,
  type CollectionRecord,
} from '../collections/collection-tree.js';
import { readAccountTree, writeAccountTree, type FolderRecord } from '../mailbox/account-tree.js';
import {
  readListingPage,
  readListingRoot,
  writeListing,
  type MessageEntry,
} from '../mailbox/folder-listing.js';
import type { ObjectWriter } from '../repository/object-writer.js';
import type { Repository } from '../repository/repository.js';
import type { RewriteNote, Snapshot } from '../repository/snapshot/snapshot.js';

/** A kept snapshot of one account, oldest first in the lists given here. */
export interface KeptSnapshot {
  id: string;
  snapshot: Snapshot;
}

/** One snapshot that holds items deleted too long ago. */
export interface SnapshotPurge {
  id: string;
  time: string;
  /** Messages, and calendar and contact items, that leave it. */
  items: number;
  bytes: number;
  /** The snapshot written in its place (absent in a dry run). */
  replacement?: Snapshot;
}

/** Bits of a message's SHA-256 kept in the sets below: collisions only ever keep an item. */
const KEY_LENGTH = 32;

/**
 * Finds the kept snapshots of one account that hold items deleted before `cutoff`, and unless
 * `dryRun` writes their replacements' objects with `writer` (the caller flushes the writer, then
 * saves the replacements and removes the old files, in that order).
 */
export async function purgeDeletedItems(
  repository: Repository,
  kept: readonly KeptSnapshot[],
  cutoff: Date,
  writer: ObjectWriter | null,
): Promise<SnapshotPurge[]> {
  const ordered = [...kept].sort(
    (a, b) => Date.parse(a.snapshot.time) - Date.parse(b.snapshot.time),
  );
  let boundary = -1;
  ordered.forEach(({ snapshot }, index) => {
    if (Date.parse(snapshot.time) <= cutoff.getTime()) boundary = index;
  });
  if (boundary <= 0) return [];

  const present = await presentSince(repository, ordered.slice(boundary));
  const rewriter = new TreeRewriter(repository, present, writer);
  const purges: SnapshotPurge[] = [];
  for (const { id, snapshot } of ordered.slice(0, boundary)) {
    if (snapshot.kind !== 'account') continue;
    const result = await rewriter.rewriteAccount(snapshot.tree);
    if (result.items === 0) continue;
    const purge: SnapshotPurge = {
      id,
      time: snapshot.time,
      items: result.items,
      bytes: result.bytes,
    };
    if (result.tree !== null) {
      const rewritten: RewriteNote = {
        from: id,
        reason: 'deletedItems',
        deletedBefore: cutoff.toISOString(),
        items: result.items,
        bytes: result.bytes,
      };
      purge.replacement = {
        ...snapshot,
        tree: result.tree,
        summary: {
          ...snapshot.summary,
          items: Math.max(0, (snapshot.summary.items ?? 0) - result.items),
          bytes: Math.max(0, (snapshot.summary.bytes ?? 0) - result.bytes),
        },
        rewritten,
      };
    }
    purges.push(purge);
  }
  return purges;
}

/** What the boundary snapshot and every later one hold: the items that stay. */
interface Present {
  messages: Set<string>;
  /** `label\nname` of calendar and contact items. */
  collectionItems: Set<string>;
}

async function presentSince(
  repository: Repository,
  snapshots: readonly KeptSnapshot[],
): Promise<Present> {
  const present: Present = { messages: new Set(), collectionItems: new Set() };
  // Snapshots of one account share most of their listings and pages: each is read once.
  const seen = new Set<string>();
  const firstTime = (id: string): boolean => !seen.has(id) && Boolean(seen.add(id));
  for (const { snapshot } of snapshots) {
    if (snapshot.kind !== 'account' || !firstTime(snapshot.tree)) continue;
    const tree = await readAccountTree(repository, snapshot.tree);
    for (const folder of tree.folders) {
      if (!folder.listing || !firstTime(folder.listing)) continue;
      const root = await readListingRoot(repository, folder.listing);
      for (const page of root.pages) {
        if (!firstTime(page.id)) continue;
        for (const entry of await readListingPage(repository, page.id))
          present.messages.add(entry.sha256.slice(0, KEY_LENGTH));
      }
    }
    for (const collection of tree.collections ?? []) {
      if (!firstTime(collection.listing)) continue;
      const label = collectionLabel(collection);
      for (const item of await readCollectionListing(repository, collection.listing))
        present.collectionItems.add(`${label}\n${item.name}`);
    }
  }
  return present;
}

interface Rewritten {
  /** The new listing or tree id; null when nothing is written (a dry run). */
  id: string | null;
  items: number;
  bytes: number;
}

/**
 * Writes trees again without the items that are not present. Old snapshots of an account share
 * their listings, so each listing is rewritten once and its result remembered.
 */
class TreeRewriter {
  private readonly listings = new Map<string, Rewritten>();

  constructor(
    private readonly repository: Repository,
    private readonly present: Present,
    private readonly writer: ObjectWriter | null,
  ) {}

  async rewriteAccount(
    treeId: string,
  ): Promise<{ tree: string | null; items: number; bytes: number }> {
    const tree = await readAccountTree(this.repository, treeId);
    let items = 0;
    let bytes = 0;
    const folders: FolderRecord[] = [];
    for (const folder of tree.folders) {
      const result = folder.listing ? await this.rewriteFolder(folder.listing) : null;
      if (!result || result.items === 0) {
        folders.push(folder);
        continue;
      }
      items += result.items;
      bytes += result.bytes;
      folders.push({
        ...folder,
        listing: result.id,
        count: Math.max(0, folder.count - result.items),
        bytes: Math.max(0, folder.bytes - result.bytes),
      });
    }
    const collections: CollectionRecord[] = [];
    for (const collection of tree.collections ?? []) {
      const result = await this.rewriteCollection(collection);
      if (result.items === 0) {
        collections.push(collection);
        continue;
      }
      items += result.items;
      bytes += result.bytes;
      collections.push({
        ...collection,
        listing: result.id ?? collection.listing,
        count: Math.max(0, collection.count - result.items),
        bytes: Math.max(0, collection.bytes - result.bytes),
      });
    }
    if (items === 0 || !this.writer) return { tree: null, items, bytes };
    const id = await writeAccountTree(this.writer, {
      ...tree,
      folders,
      ...(tree.collections ? { collections } : {}),
    });
    return { tree: id, items, bytes };
  }

  private async rewriteFolder(listing: string): Promise<Rewritten> {
    const known = this.listings.get(listing);
    if (known) return known;
    const root = await readListingRoot(this.repository, listing);
    const staying: MessageEntry[] = [];
    let items = 0;
    let bytes = 0;
    for (const page of root.pages) {
      for (const entry of await readListingPage(this.repository, page.id)) {
        if (this.present.messages.has(entry.sha256.slice(0, KEY_LENGTH))) {
          staying.push(entry);
        } else {
          items++;
          bytes += entry.size;
        }
      }
    }
    const id =
      items === 0 ? listing : this.writer ? await writeListing(this.writer, staying) : null;
    const result = { id, items, bytes };
    this.listings.set(listing, result);
    return result;
  }

  private async rewriteCollection(collection: CollectionRecord): Promise<Rewritten> {
    const label = collectionLabel(collection);
    const key = `${label}\n${collection.listing}`;
    const known = this.listings.get(key);
    if (known) return known;
    const all = await readCollectionListing(this.repository, collection.listing);
    const staying: CollectionItem[] = [];
    let items = 0;
    let bytes = 0;
    for (const item of all) {
      if (this.present.collectionItems.has(`${label}\n${item.name}`)) {
        staying.push(item);
      } else {
        items++;
        bytes += item.content.size;
      }
    }
    const id =
      items === 0
        ? collection.listing
        : this.writer
          ? await writeCollectionListing(this.writer, staying)
          : null;
    const result = { id, items, bytes };
    this.listings.set(key, result);
    return result;
  }
}
