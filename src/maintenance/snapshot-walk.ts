import {
  collectionLabel,
  readListing as readCollectionListing,
} from '../collections/collection-tree.js';
import { readAccountTree } from '../mailbox/account-tree.js';
import { commandTreeObjects, readCommandTree } from '../command-output/command-tree.js';
import { visitFileSetObjects, type SeenTrees } from '../filesets/stored-tree.js';
import { readListingPage, readListingRoot, type MessageEntry } from '../mailbox/folder-listing.js';
import { readBody, readManifest } from '../mailbox/message-store.js';
import { EntryBits } from '../repository/index/entry-bits.js';
import type { Repository } from '../repository/repository.js';
import type { Snapshot } from '../repository/snapshot/snapshot.js';
import { forKind } from '../repository/snapshot/snapshot-kind.js';

/** Where in a snapshot an object is needed, for naming what a damaged object hurts. */
export interface ObjectUse {
  snapshot: Snapshot;
  folder?: string;
  entry?: MessageEntry;
  /** A calendar or contact item's name (folder is then its collection). */
  item?: string;
}

export interface WalkVisitor {
  /** Called for every object id a snapshot needs, with where; return false to skip reading a tree's children. */
  object(id: string, type: 'tree' | 'data', use: ObjectUse): void;
  /** A tree that could not be read: its children are unknown. */
  unreadable(id: string, use: ObjectUse, error: Error): void;
}

/**
 * Visits every object an account snapshot references: its tree, folder listings and pages, and each
 * message's manifest, header, body tree and chunks. Trees already walked (shared with another
 * snapshot or folder) are visited once per walk, with the first use that reached them.
 */
export class SnapshotWalker {
  private readonly walked: WalkedTrees;

  constructor(
    private readonly repository: Repository,
    private readonly visitor: WalkVisitor,
  ) {
    this.walked = new WalkedTrees(repository);
  }

  /**
   * Throws for a kind this mailvault does not know: passing it over would make its objects look
   * unneeded. Callers decide beforehand what such a snapshot means to them (snapshot-kind.ts).
   */
  async walk(snapshot: Snapshot): Promise<void> {
    const walk = forKind(snapshot, {
      account: () => this.walkAccount(snapshot),
      files: () => this.walkFiles(snapshot),
      command: () => this.walkCommand(snapshot),
    });
    if (!walk)
      throw new Error(
        `snapshot ${snapshot.source}/${snapshot.name} ${snapshot.time} is of kind ${JSON.stringify(snapshot.kind)}, unknown to this mailvault`,
      );
    return walk();
  }

  /** An account: its tree, folder listings and pages, messages, and its collections' items. */
  private async walkAccount(snapshot: Snapshot): Promise<void> {
    const use: ObjectUse = { snapshot };
    this.visitor.object(snapshot.tree, 'tree', use);
    let tree;
    try {
      tree = await readAccountTree(this.repository, snapshot.tree);
    } catch (error) {
      this.visitor.unreadable(snapshot.tree, use, error as Error);
      return;
    }
    for (const folder of tree.folders) {
      if (!folder.listing) continue;
      await this.walkListing(folder.listing, { snapshot, folder: folder.path });
    }
    for (const collection of tree.collections ?? []) {
      const folder = collectionLabel(collection);
      this.visitor.object(collection.listing, 'tree', { snapshot, folder });
      if (!this.firstVisit(collection.listing)) continue;
      const items = await this.read(
        () => readCollectionListing(this.repository, collection.listing),
        collection.listing,
        { snapshot, folder },
      );
      for (const item of items ?? [])
        for (const chunk of item.content.chunks)
          this.visitor.object(chunk, 'data', { snapshot, folder, item: item.name });
    }
  }

  /** A file set: its root, a tree per directory, and each file's chunks (item: the path). */
  private async walkFiles(snapshot: Snapshot): Promise<void> {
    await visitFileSetObjects(
      this.repository,
      snapshot.tree,
      (id, type, path) => this.visitor.object(id, type, { snapshot, item: path }),
      (id, path, error) => this.visitor.unreadable(id, { snapshot, item: path }, error),
      this.walked,
    );
  }

  /** A command's output: its tree and the chunks of the stored stream. */
  private async walkCommand(snapshot: Snapshot): Promise<void> {
    const use: ObjectUse = { snapshot };
    this.visitor.object(snapshot.tree, 'tree', use);
    const tree = await this.read(
      () => readCommandTree(this.repository, snapshot.tree),
      snapshot.tree,
      use,
    );
    if (!tree) return;
    for (const id of commandTreeObjects(tree)) this.visitor.object(id, 'data', use);
  }

  private async walkListing(id: string, use: ObjectUse): Promise<void> {
    this.visitor.object(id, 'tree', use);
    if (!this.firstVisit(id)) return;
    const root = await this.read(() => readListingRoot(this.repository, id), id, use);
    for (const page of root?.pages ?? []) {
      this.visitor.object(page.id, 'tree', use);
      if (!this.firstVisit(page.id)) continue;
      const entries = await this.read(
        () => readListingPage(this.repository, page.id),
        page.id,
        use,
      );
      for (const entry of entries ?? []) await this.walkMessage(entry.manifest, { ...use, entry });
    }
  }

  private async walkMessage(id: string, use: ObjectUse): Promise<void> {
    this.visitor.object(id, 'tree', use);
    if (!this.firstVisit(id)) return;
    const manifest = await this.read(() => readManifest(this.repository, id), id, use);
    if (!manifest) return;
    this.visitor.object(manifest.header, 'data', use);
    if (!manifest.body) return;
    this.visitor.object(manifest.body, 'tree', use);
    if (!this.firstVisit(manifest.body)) return;
    const body = await this.read(
      () => readBody(this.repository, manifest.body ?? ''),
      manifest.body,
      use,
    );
    for (const segment of body?.segments ?? []) {
      if (segment.t !== 'l')
        for (const chunk of segment.chunks) this.visitor.object(chunk, 'data', use);
    }
  }

  private firstVisit(id: string): boolean {
    if (this.walked.has(id)) return false;
    this.walked.add(id);
    return true;
  }

  private async read<T>(load: () => Promise<T>, id: string, use: ObjectUse): Promise<T | null> {
    try {
      return await load();
    } catch (error) {
      this.visitor.unreadable(id, use, error as Error);
      return null;
    }
  }
}

/**
 * The trees a walk has read: a bit per index entry (an eighth of a byte an object, where a set
 * of hex ids held ~40 bytes a tree at a million, and grows with the trees walked). A tree
 * the index does not know (a missing object: rare) goes into a set instead. The bitset grows
 * when the index does (a writer walking while it stores) and starts afresh when the index is
 * cleared and loaded again, since entry numbers then name other objects: the trees walked so
 * far are then read again once, never taken for walked when they are not.
 */
export class WalkedTrees implements SeenTrees {
  private readonly bits = new EntryBits();
  private epoch: number;
  private readonly outside = new Set<string>();

  constructor(private readonly repository: Repository) {
    this.epoch = repository.index.epoch;
  }

  has(id: string): boolean {
    if (this.bits.has(this.entryOf(id))) return true;
    return this.outside.size > 0 && this.outside.has(id);
  }

  add(id: string): void {
    const entry = this.entryOf(id);
    if (entry < 0) this.outside.add(id);
    else this.bits.add(entry);
  }

  /** The id's entry number, or -1 when it is not indexed (or not an id at all). */
  private entryOf(id: string): number {
    const { index } = this.repository;
    if (index.epoch !== this.epoch) {
      this.epoch = index.epoch;
      this.bits.clear();
    }
    const bytes = Buffer.from(id, 'hex');
    // Buffer.from stops at the first character that is not hex: only a whole id may match.
    if (id.length !== 64 || bytes.length !== 32) return -1;
    return index.entryNumber(bytes);
  }
}
