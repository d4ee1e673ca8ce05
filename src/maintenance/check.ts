import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { readAccountTree } from '../mailbox/account-tree.js';
import { readListing } from '../mailbox/folder-listing.js';
import { messageObjects, readManifest } from '../mailbox/message-store.js';
import { parseKeyFile } from '../repository/crypto/key-file.js';
import { decodePackHeader, type PackEntry } from '../repository/pack/pack-format.js';
import type { ObjectIndex } from '../repository/index/object-index.js';
import type { Repository } from '../repository/repository.js';
import type { Snapshot } from '../repository/snapshot/snapshot.js';
import {
  describeUnknownKind,
  isKnownKind,
  refuseUnknownKinds,
} from '../repository/snapshot/snapshot-kind.js';
import { SnapshotWalker } from './snapshot-walk.js';
import { commandTreeObjects, readCommandTree } from '../command-output/command-tree.js';
import { visitFileSetObjects } from '../filesets/stored-tree.js';
import {
  collectionLabel,
  readListing as readCollectionListing,
} from '../collections/collection-tree.js';

export interface CheckOptions {
  /** Read every pack and authenticate every object. */
  readData: boolean;
  /**
   * With readData: which of the repository's packs to read (check --read-data-subset), given
   * the names the check lists anyway.
   */
  readPacks?: (packs: readonly string[]) => ReadonlySet<string>;
  log: Logger;
  onProgress?: (phase: string, done: number, total: number) => void;
  /**
   * The check is for a repair (check --repair): a snapshot of a kind this mailvault does not
   * know refuses it (UnknownSnapshotKindError) before anything else is read.
   */
  repair?: boolean;
}

/** A message that cannot be restored as it was backed up, and why. */
export interface DamagedItem {
  source: string;
  account: string;
  folder: string;
  /** Null for calendar and contact items. */
  uid: number | null;
  date: string | null;
  sha256: string;
  subject: string | null;
  snapshots: string[];
}

export interface CheckReport {
  ok: boolean;
  errors: string[];
  warnings: string[];
  damagedObjects: string[];
  damagedItems: DamagedItem[];
  stats: {
    keys: number;
    indexes: number;
    packs: number;
    snapshots: number;
    objects: number;
    packsRead: number;
    bytesRead: number;
  };
}

/**
 * Verifies a repository. The structural check reads keys, indexes, pack headers and every tree
 * that a snapshot reaches, and makes sure every object a snapshot needs is indexed in a pack that
 * exists. With readData it also reads every pack, checks its hash and authenticates every object.
 * Damaged or missing objects are traced back to the messages they belong to.
 */
export async function checkRepository(
  repository: Repository,
  options: CheckOptions,
): Promise<CheckReport> {
  const report: CheckReport = {
    ok: true,
    errors: [],
    warnings: [],
    damagedObjects: [],
    damagedItems: [],
    stats: { keys: 0, indexes: 0, packs: 0, snapshots: 0, objects: 0, packsRead: 0, bytesRead: 0 },
  };
  const error = (message: string): void => {
    report.errors.push(message);
  };
  const storage = repository.storage;

  // Snapshot and run files first, so that a repair refuses before the long part; their problems
  // are reported where they always were, after the packs'.
  const snapshots: Array<{ id: string; snapshot: Snapshot }> = [];
  const snapshotErrors: string[] = [];
  const label = { snapshots: 'snapshot', runs: 'run file' } as const;
  for await (const entry of repository.snapshots((file, failure) =>
    snapshotErrors.push(`${label[file.kind]} ${file.name}: ${failure.message}`),
  ))
    snapshots.push(entry);
  if (options.repair)
    refuseUnknownKinds(
      'check --repair',
      snapshots,
      'What a snapshot of a kind it does not know needs cannot be told, so check --repair can neither find its damage nor repair it',
    );

  for await (const name of storage.names('keys')) {
    report.stats.keys++;
    try {
      parseKeyFile(await storage.load({ kind: 'keys', name }), name);
    } catch (failure) {
      error(`key ${name}: ${(failure as Error).message}`);
    }
  }

  // Indexes: which pack holds what, loaded as every command loads them (superseded files left
  // out, condemned packs noted); an unreadable index file is an error, a condemned file a warning.
  const loaded = await repository.loadIndex();
  report.stats.indexes = loaded.files;
  for (const file of loaded.damaged) {
    if (file.kind === 'index') error(`index ${file.name}: ${file.error}`);
    else report.warnings.push(`condemned file ${file.name}: ${file.error}`);
  }
  // A pack at a time, by entry number: an object per indexed object would take hundreds of
  // megabytes at a million objects, gigabytes at tens of millions.
  const { index } = repository;
  const packsInIndex = index.packGroups();
  report.stats.objects = index.size;
  const damaged = new Set<string>();
  const damageAll = (entries: Uint32Array): void => {
    for (const entry of entries) damaged.add(index.idAt(entry).toString('hex'));
  };

  const packSizes = new Map<string, number>();
  for await (const file of storage.list('data')) packSizes.set(file.name, file.size);
  report.stats.packs = packSizes.size;
  const toRead = options.readPacks?.([...packSizes.keys()]);
  let done = 0;
  for (const { pack, entries } of packsInIndex) {
    options.onProgress?.('pack headers', ++done, packsInIndex.length);
    const size = packSizes.get(pack);
    if (size === undefined) {
      error(`pack ${pack} is listed in an index but missing`);
      damageAll(entries);
      continue;
    }
    let header: PackEntry[];
    try {
      header = await readPackHeader(repository, pack, size);
    } catch (failure) {
      error(`pack ${pack}: header unreadable: ${(failure as Error).message}`);
      damageAll(entries);
      continue;
    }
    for (const id of misplacedObjects(index, entries, header)) {
      error(`pack ${pack}: object ${id} is not where the index says`);
      damaged.add(id);
    }
  }
  const indexed = new Set(packsInIndex.map((group) => group.pack));
  const unindexed = [...packSizes.keys()].filter((pack) => !indexed.has(pack));
  if (unindexed.length > 0) {
    report.warnings.push(
      `${unindexed.length} pack(s) are in no index (left by an interrupted backup; harmless, prune removes them)`,
    );
  }

  if (options.readData) {
    done = 0;
    for (const { pack, entries } of packsInIndex) {
      options.onProgress?.('reading data', ++done, packsInIndex.length);
      if (!packSizes.has(pack) || (toRead && !toRead.has(pack))) continue;
      let bytes: Buffer;
      try {
        bytes = await storage.load({ kind: 'data', name: pack });
      } catch (failure) {
        error(`pack ${pack}: cannot read: ${(failure as Error).message}`);
        damageAll(entries);
        continue;
      }
      report.stats.packsRead++;
      report.stats.bytesRead += bytes.length;
      if (createHash('sha256').update(bytes).digest('hex') !== pack)
        error(`pack ${pack}: its content does not match its name (damaged)`);
      for (const entry of entries) {
        const id = index.idAt(entry);
        const location = index.locationAt(entry);
        try {
          repository.openObject(
            id,
            location,
            bytes.subarray(location.offset, location.offset + location.length),
            true,
          );
        } catch (failure) {
          damaged.add(id.toString('hex'));
          error((failure as Error).message);
        }
      }
    }
  }

  // Snapshots: everything they reach must be indexed (and, after a data read, undamaged).
  for (const message of snapshotErrors) error(message);
  report.stats.snapshots = snapshots.length;
  // A kind this mailvault does not know is a problem it cannot check; the others are checked.
  const walkable = snapshots.filter((entry) => {
    if (isKnownKind(entry.snapshot.kind)) return true;
    error(`${describeUnknownKind(entry)}; what it needs was not checked`);
    return false;
  });
  const missing = new Set<string>();
  const walker = new SnapshotWalker(repository, {
    object: (id) => {
      if (!repository.index.has(Buffer.from(id, 'hex'))) missing.add(id);
    },
    unreadable: (id, use, failure) => {
      damaged.add(id);
      const where = `${use.snapshot.source}/${use.snapshot.name}${use.folder ? `, folder ${use.folder}` : ''}${use.item ? `, ${use.item}` : ''}`;
      if (!missing.has(id)) error(`${where}: tree ${id} is unreadable: ${failure.message}`);
    },
  });
  done = 0;
  for (const { snapshot } of walkable) {
    options.onProgress?.('snapshots', ++done, walkable.length);
    await walker.walk(snapshot);
  }
  for (const id of missing) error(`object ${id} is needed by a snapshot but is in no index`);

  const bad = new Set([...damaged, ...missing]);
  report.damagedObjects = [...bad].sort();
  if (bad.size > 0) report.damagedItems = await damagedItems(repository, walkable, bad);
  report.ok = report.errors.length === 0;
  return report;
}

/** The ids (hex) of a pack's indexed objects that its header puts elsewhere or not at all. */
function misplacedObjects(
  index: ObjectIndex,
  entries: Uint32Array,
  header: readonly PackEntry[],
): string[] {
  const byId = new Map(header.map((entry) => [entry.id.toString('hex'), entry]));
  const misplaced: string[] = [];
  for (const entry of entries) {
    const id = index.idAt(entry).toString('hex');
    const { offset, length, type } = index.locationAt(entry);
    const found = byId.get(id);
    if (!found || found.offset !== offset || found.length !== length || found.type !== type)
      misplaced.push(id);
  }
  return misplaced;
}

async function readPackHeader(
  repository: Repository,
  pack: string,
  size: number,
): Promise<PackEntry[]> {
  const tailLength = Math.min(size, 64 * 1024);
  let tail = await repository.storage.load(
    { kind: 'data', name: pack },
    { offset: size - tailLength, length: tailLength },
  );
  const headerLength = tail.readUInt32LE(tail.length - 4) + 4;
  if (headerLength > tail.length && headerLength <= size) {
    tail = await repository.storage.load(
      { kind: 'data', name: pack },
      { offset: size - headerLength, length: headerLength },
    );
  }
  return decodePackHeader(repository.key.encryption, tail, size, pack);
}

/** Names the messages (per account and folder, across snapshots) whose objects are bad. */
async function damagedItems(
  repository: Repository,
  snapshots: Array<{ id: string; snapshot: Snapshot }>,
  bad: ReadonlySet<string>,
): Promise<DamagedItem[]> {
  const verdict = new Map<string, boolean>();
  const isBad = async (manifest: string): Promise<boolean> => {
    let known = verdict.get(manifest);
    if (known === undefined) {
      try {
        known = (await messageObjects(repository, manifest)).some((id) => bad.has(id));
      } catch {
        known = true;
      }
      verdict.set(manifest, known);
    }
    return known;
  };
  const items = new Map<string, DamagedItem>();
  const setItem = (id: string, snapshot: Snapshot, folder: string): void => {
    const key = [snapshot.source, snapshot.name, folder].join('\0');
    const item = items.get(key) ?? {
      source: snapshot.source,
      account: snapshot.name,
      folder,
      uid: null,
      date: null,
      sha256: '',
      subject: null,
      snapshots: [],
    };
    items.set(key, item);
    if (!item.snapshots.includes(id)) item.snapshots.push(id);
  };
  for (const { id, snapshot } of snapshots) {
    if (bad.has(snapshot.tree)) continue;
    // A file set's damaged files, by path; a command's output as a whole.
    if (snapshot.kind === 'files')
      await visitFileSetObjects(
        repository,
        snapshot.tree,
        (object, type, path) => {
          if (type === 'data' && bad.has(object)) setItem(id, snapshot, path);
        },
        () => undefined,
      );
    if (snapshot.kind === 'command') {
      const tree = await readCommandTree(repository, snapshot.tree).catch(() => null);
      if (tree && commandTreeObjects(tree).some((object) => bad.has(object)))
        setItem(id, snapshot, 'output');
    }
    if (snapshot.kind !== 'account') continue;
    const tree = await readAccountTree(repository, snapshot.tree).catch(() => null);
    for (const folder of tree?.folders ?? []) {
      if (!folder.listing) continue;
      try {
        for await (const entry of readListing(repository, folder.listing)) {
          if (!(await isBad(entry.manifest))) continue;
          const key = [snapshot.source, snapshot.name, folder.path, entry.sha256].join('\0');
          let item = items.get(key);
          if (!item) {
            const subject = await readManifest(repository, entry.manifest).then(
              (m) => m.summary.subject,
              () => null,
            );
            item = {
              source: snapshot.source,
              account: snapshot.name,
              folder: folder.path,
              uid: entry.uid,
              date: entry.date,
              sha256: entry.sha256,
              subject,
              snapshots: [],
            };
            items.set(key, item);
          }
          item.snapshots.push(id);
        }
      } catch {
        // The listing itself is damaged; the structural errors already name it.
      }
    }
    for (const collection of tree?.collections ?? []) {
      const listing = await readCollectionListing(repository, collection.listing).catch(() => []);
      for (const entry of listing) {
        if (!entry.content.chunks.some((chunk) => bad.has(chunk))) continue;
        const folder = collectionLabel(collection);
        const key = [snapshot.source, snapshot.name, folder, entry.name, entry.content.sha256].join(
          '\0',
        );
        let item = items.get(key);
        if (!item) {
          item = {
            source: snapshot.source,
            account: snapshot.name,
            folder,
            uid: null,
            date: null,
            sha256: entry.content.sha256,
            subject: entry.summary.title || entry.name,
            snapshots: [],
          };
          items.set(key, item);
        }
        item.snapshots.push(id);
      }
    }
  }
  return [...items.values()];
}
