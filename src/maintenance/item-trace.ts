/**
 * From objects to what a user knows: the messages, calendar and contact items, files and command
 * outputs that need any of a set of objects (damaged ones, missing ones, or ones only a pack's
 * header lists), per account and folder, across snapshots. A folder listing or an account tree
 * among them is named too, as the part of the snapshot it is: every item below it depends on it.
 */
import { forKind } from '../repository/snapshot/snapshot-kind.js';
import {
  collectionLabel,
  readListing as readCollectionListing,
} from '../collections/collection-tree.js';
import { commandTreeObjects, readCommandTree } from '../command-output/command-tree.js';
import { visitFileSetObjects } from '../filesets/stored-tree.js';
import { readAccountTree } from '../mailbox/account-tree.js';
import { readListingPage, readListingRoot } from '../mailbox/folder-listing.js';
import { messageObjects, readManifest } from '../mailbox/message-store.js';
import type { Snapshot } from '../repository/snapshot/snapshot.js';
import type { Repository } from '../repository/repository.js';

/** An item (or a part of a snapshot) that needs some of the objects traced. */
export interface AffectedItem {
  source: string;
  account: string;
  /** The folder, collection, file path, or `output` of a command. */
  folder: string;
  /** Null for calendar and contact items, files and the parts below. */
  uid: number | null;
  date: string | null;
  sha256: string;
  subject: string | null;
  /** Set when the object is not an item's but a structure's: `account tree`, `folder listing`. */
  part?: 'account tree' | 'folder listing';
  snapshots: string[];
}

/** Names what needs the objects of `bad` (hex ids) in the given snapshots. */
export async function traceItems(
  repository: Repository,
  snapshots: ReadonlyArray<{ id: string; snapshot: Snapshot }>,
  bad: ReadonlySet<string>,
): Promise<AffectedItem[]> {
  const tracer = new ItemTracer(repository, bad);
  for (const { id, snapshot } of snapshots) await tracer.trace(id, snapshot);
  return tracer.items();
}

class ItemTracer {
  private readonly found = new Map<string, AffectedItem>();
  /** Whether a message (by manifest) needs a bad object, decided once. */
  private readonly verdict = new Map<string, boolean>();

  constructor(
    private readonly repository: Repository,
    private readonly bad: ReadonlySet<string>,
  ) {}

  items(): AffectedItem[] {
    return [...this.found.values()];
  }

  /** Snapshots of kinds this mailvault does not know are left out: their items are unknown. */
  async trace(id: string, snapshot: Snapshot): Promise<void> {
    await forKind(snapshot, {
      account: () => this.traceAccount(id, snapshot),
      files: () => this.traceFiles(id, snapshot),
      command: () => this.traceCommand(id, snapshot),
    })?.();
  }

  private async traceAccount(id: string, snapshot: Snapshot): Promise<void> {
    if (this.bad.has(snapshot.tree)) this.note(id, snapshot, '', { part: 'account tree' });
    // A tree that cannot be read is named by the structural check; nothing below it is known.
    const tree = await readAccountTree(this.repository, snapshot.tree).catch(() => null);
    for (const folder of tree?.folders ?? []) {
      if (folder.listing) await this.traceFolder(id, snapshot, folder.path, folder.listing);
    }
    for (const collection of tree?.collections ?? []) {
      const folder = collectionLabel(collection);
      if (this.bad.has(collection.listing))
        this.note(id, snapshot, folder, { part: 'folder listing' });
      const listing = await readCollectionListing(this.repository, collection.listing).catch(
        () => [],
      );
      for (const entry of listing) {
        if (!entry.content.chunks.some((chunk) => this.bad.has(chunk))) continue;
        this.note(id, snapshot, folder, {
          key: [entry.name, entry.content.sha256],
          sha256: entry.content.sha256,
          subject: entry.summary.title || entry.name,
        });
      }
    }
  }

  private async traceFolder(
    id: string,
    snapshot: Snapshot,
    folder: string,
    listing: string,
  ): Promise<void> {
    try {
      const root = await readListingRoot(this.repository, listing);
      if (this.bad.has(listing) || root.pages.some((page) => this.bad.has(page.id)))
        this.note(id, snapshot, folder, { part: 'folder listing' });
      for (const page of root.pages) {
        for (const entry of await readListingPage(this.repository, page.id)) {
          if (!(await this.needsBad(entry.manifest))) continue;
          // One item per message across snapshots, whatever UID each gave it.
          const key = [entry.sha256];
          const known = this.found.get(this.keyOf(snapshot, folder, key));
          const subject = known
            ? known.subject
            : await readManifest(this.repository, entry.manifest).then(
                (manifest) => manifest.summary.subject,
                () => null,
              );
          this.note(id, snapshot, folder, {
            key,
            uid: entry.uid,
            date: entry.date,
            sha256: entry.sha256,
            subject,
          });
        }
      }
    } catch {
      // The listing itself cannot be read; the structural check names it.
    }
  }

  /** A file set's files by path; a damaged directory tree is named by the structural check. */
  private async traceFiles(id: string, snapshot: Snapshot): Promise<void> {
    await visitFileSetObjects(
      this.repository,
      snapshot.tree,
      (object, type, path) => {
        if (type === 'data' && this.bad.has(object)) this.note(id, snapshot, path);
      },
      () => undefined,
    );
  }

  /** A command's output as a whole. */
  private async traceCommand(id: string, snapshot: Snapshot): Promise<void> {
    const tree = await readCommandTree(this.repository, snapshot.tree).catch(() => null);
    if (tree && commandTreeObjects(tree).some((object) => this.bad.has(object)))
      this.note(id, snapshot, 'output');
  }

  private async needsBad(manifest: string): Promise<boolean> {
    let known = this.verdict.get(manifest);
    if (known === undefined) {
      try {
        known = (await messageObjects(this.repository, manifest)).some((id) => this.bad.has(id));
      } catch {
        known = true;
      }
      this.verdict.set(manifest, known);
    }
    return known;
  }

  private keyOf(snapshot: Snapshot, folder: string, key: readonly string[]): string {
    return [snapshot.source, snapshot.name, folder, ...key].join('\0');
  }

  /** Records that snapshot `id` has the item, the first time with what describes it. */
  private note(
    id: string,
    snapshot: Snapshot,
    folder: string,
    about: {
      key?: string[];
      uid?: number;
      date?: string;
      sha256?: string;
      subject?: string | null;
      part?: AffectedItem['part'];
    } = {},
  ): void {
    const key = this.keyOf(snapshot, folder, about.key ?? [about.part ?? '']);
    let item = this.found.get(key);
    if (!item) {
      item = {
        source: snapshot.source,
        account: snapshot.name,
        folder,
        uid: about.uid ?? null,
        date: about.date ?? null,
        sha256: about.sha256 ?? '',
        subject: about.subject ?? null,
        ...(about.part ? { part: about.part } : {}),
        snapshots: [],
      };
      this.found.set(key, item);
    }
    if (!item.snapshots.includes(id)) item.snapshots.push(id);
  }
}
