/**
 * `prune`: frees the space of packs no snapshot needs, safely beside running backups
 * (docs/design/prune.md, format section 8.1). A pack no snapshot needs is first *condemned*: it
 * stays in the index (a backup that deduplicated against it before still reads), and writers
 * stop deduplicating against it. A later prune, once the grace period has passed, deletes it if
 * it is still unneeded, or *pardons* it if a snapshot written meanwhile needs it. Packs in no
 * index (a crash, a pack whose index is being written right now) are condemned the same way.
 * A pack still needed but mostly unneeded is repacked (its needed objects copied into new packs)
 * and condemned the same way (src/maintenance/repack.ts), and so is a pack holding copies of
 * objects the index places in another pack, whatever its share of them (see `copyBytes`).
 *
 * The mark is a bitset over the index's entries: a bit an object, so the memory it takes is an
 * eighth of a byte per object (the walk's own set of trees aside).
 */
import { EntryBits } from '../repository/index/entry-bits.js';
import { rewriteIndex } from '../repository/index/rewrite-index.js';
import { packSizeOf } from '../repository/pack/pack-format.js';
import type { Repository } from '../repository/repository.js';
import {
  isKnownKind,
  UnknownSnapshotKindError,
  type IdentifiedSnapshot,
} from '../repository/snapshot/snapshot-kind.js';
import { isSparse, repackPacks } from './repack.js';
import { SnapshotWalker } from './snapshot-walk.js';
import {
  planTemporaryFiles,
  removeTemporaryFiles,
  type TemporaryFilesPlan,
} from './temporary-files.js';

export interface PrunePlan {
  /** Packs to condemn now: no snapshot needs them (`unused`), or no index lists them. */
  condemn: Array<{ pack: string; bytes: number; reason: 'unused' | 'unindexed' }>;
  /** Packs condemned at least the grace period ago and still unneeded: deleted now. */
  remove: Array<{ pack: string; bytes: number; since: Date; indexed: boolean }>;
  /** Condemned packs a snapshot needs now: taken back. */
  pardon: string[];
  /** Condemned packs whose grace period has not passed. */
  waiting: Array<{ pack: string; bytes: number; since: Date }>;
  /**
   * Packs a snapshot needs, more than `--max-unused` of whose bytes (`unusedBytes`, from the
   * index's lengths) none does, or that hold copies (`copyBytes`): their needed objects are
   * copied into new packs, and they are condemned.
   */
  repack: Array<{ pack: string; bytes: number; unusedBytes: number; copyBytes: number }>;
  /** Files saves left under a temporary name: those older than the grace period are deleted. */
  temporaryFiles: TemporaryFilesPlan;
  stats: { snapshots: number; packs: number; objects: number; usedObjects: number };
  /** The mark, by index entry number, for the repacking (a function: left out of JSON). */
  isNeeded: (entry: number) => boolean;
}

export interface PruneOutcome {
  packsRemoved: number;
  bytesRemoved: number;
  indexFilesWritten: number;
  indexFilesRemoved: number;
  /** Packs repacked, and condemned (those with a damaged object among the needed ones are not). */
  packsRepacked: number;
  /** Objects copied by the repacking, the bytes it read and wrote, and the new packs. */
  objectsRepacked: number;
  repackBytesRead: number;
  repackBytesWritten: number;
  packsWritten: number;
  /** Sparse packs left as they are: a needed object in them failed authentication. */
  repackDamaged: string[];
  temporaryFilesRemoved: number;
  temporaryBytesRemoved: number;
}

/** Refused: what a snapshot needs cannot be known, so nothing may be called unneeded. */
export class PruneRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PruneRefusedError';
  }
}

/** Marks what every snapshot needs and decides the fate of each pack; changes nothing. */
export async function planPrune(
  repository: Repository,
  options: {
    graceMs: number;
    now: Date;
    /** The unneeded share (0 to 1) above which a pack is repacked; null: never. */
    maxUnused?: number | null;
  },
): Promise<PrunePlan> {
  const { index } = repository;
  const needed = new EntryBits(index.size);
  const unreadable: string[] = [];
  const unknown: IdentifiedSnapshot[] = [];
  let snapshots = 0;
  const walker = new SnapshotWalker(repository, {
    object: (id) => needed.add(index.entryNumber(Buffer.from(id, 'hex'))),
    unreadable: (id, _use, error) => unreadable.push(`tree ${id}: ${error.message}`),
  });
  for await (const entry of repository.snapshots((file, error) =>
    unreadable.push(`${file.kind}/${file.name}: ${error.message}`),
  )) {
    snapshots++;
    if (!isKnownKind(entry.snapshot.kind)) unknown.push(entry);
    // Once prune is sure to refuse, the walk is wasted: only the others of its kind are sought.
    else if (unknown.length === 0) await walker.walk(entry.snapshot);
  }
  if (unknown.length > 0)
    throw new UnknownSnapshotKindError(
      'prune',
      unknown,
      'What a snapshot of a kind it does not know needs cannot be told, so prune would take its data for unneeded and delete it',
    );
  if (unreadable.length > 0)
    throw new PruneRefusedError(
      `prune refused: ${unreadable.length} snapshot file(s) or tree(s) cannot be read, so what they need is unknown (${unreadable.slice(0, 3).join('; ')}); run mailvault check`,
    );

  const isNeeded = (entry: number): boolean => needed.has(entry);
  const usedInPack = new Map<string, PackUse>();
  let usedObjects = 0;
  for (const { pack, entries } of index.packGroups()) {
    const use: PackUse = { objects: 0, unusedBytes: 0, indexedBytes: 0, indexedObjects: 0 };
    for (const entry of entries) {
      const { length } = index.locationAt(entry);
      use.indexedObjects++;
      use.indexedBytes += length;
      if (isNeeded(entry)) use.objects++;
      else use.unusedBytes += length;
    }
    usedObjects += use.objects;
    usedInPack.set(pack, use);
  }
  const sizes = new Map<string, number>();
  for await (const file of repository.storage.list('data')) sizes.set(file.name, file.size);

  const due = options.now.getTime() - options.graceMs;
  const plan: PrunePlan = {
    condemn: [],
    remove: [],
    pardon: [],
    waiting: [],
    repack: [],
    temporaryFiles: await planTemporaryFiles(repository.storage, due),
    stats: { snapshots, packs: sizes.size, objects: index.size, usedObjects },
    isNeeded,
  };
  for (const [pack, bytes] of sizes) {
    const use = usedInPack.get(pack);
    const since = repository.condemned.get(pack);
    if (use !== undefined && use.objects > 0) {
      const copyBytes = copiesIn(bytes, use);
      const maxUnused = options.maxUnused ?? null;
      // A condemned pack taken back is left whole: the next prune may repack it.
      if (since) plan.pardon.push(pack);
      else if (
        (copyBytes > 0 && maxUnused !== null) ||
        isSparse({ bytes, unusedBytes: use.unusedBytes }, maxUnused)
      )
        plan.repack.push({ pack, bytes, unusedBytes: use.unusedBytes, copyBytes });
      continue;
    }
    if (!since) {
      plan.condemn.push({ pack, bytes, reason: use === undefined ? 'unindexed' : 'unused' });
    } else if (since.getTime() <= due) {
      plan.remove.push({ pack, bytes, since, indexed: use !== undefined });
    } else {
      plan.waiting.push({ pack, bytes, since });
    }
  }
  return plan;
}

/** What the index says of a pack: its objects, and of them those a snapshot needs. */
interface PackUse {
  /** Objects a snapshot needs. */
  objects: number;
  /** Bytes of the objects no snapshot needs. */
  unusedBytes: number;
  indexedObjects: number;
  indexedBytes: number;
}

/**
 * Bytes of a pack that none of the objects the index places in it account for: objects it holds
 * that the index places in another pack. An object listed twice (a prune killed between saving
 * the index of its repacked objects and writing the index again without their old places, or two
 * writers that stored the same object) is read from the first place a reader meets, so each of
 * the two packs may end up holding some objects the index places elsewhere. Nothing reads those
 * copies, and no entry counts them as unneeded: only repacking the pack frees them. A pack
 * smaller than its entries say (damaged) has none.
 */
function copiesIn(bytes: number, use: PackUse): number {
  return Math.max(0, bytes - packSizeOf(use.indexedObjects, use.indexedBytes));
}

/**
 * Carries the plan out, in an order a crash at any moment leaves valid: the needed objects of
 * sparse packs copied into new packs (with index files of their own); the index written again
 * from memory, without the packs to delete and with the copied objects in their new packs only
 * (rewriteIndex); the packs deleted; then the new list of condemned packs (with the repacked
 * ones), then the old lists; last the old temporary files. Until the index is rewritten, a copied
 * object is indexed twice and its old pack is not condemned (the next prune repacks whichever pack
 * holds copies the index places elsewhere: copiesIn); until the list is saved, the next prune
 * finds the old pack holding unneeded objects alone and condemns it.
 *
 * `assertLocked` is called before each step that changes what is there (RepositoryLock).
 */
export async function applyPrune(
  repository: Repository,
  plan: PrunePlan,
  options: { assertLocked?: () => void } = {},
): Promise<PruneOutcome> {
  const assertLocked = options.assertLocked ?? (() => undefined);
  const outcome: PruneOutcome = {
    packsRemoved: 0,
    bytesRemoved: 0,
    indexFilesWritten: 0,
    indexFilesRemoved: 0,
    packsRepacked: 0,
    objectsRepacked: 0,
    repackBytesRead: 0,
    repackBytesWritten: 0,
    packsWritten: 0,
    repackDamaged: [],
    temporaryFilesRemoved: 0,
    temporaryBytesRemoved: 0,
  };
  const now = new Date();
  let repacked: string[] = [];
  if (plan.repack.length > 0) {
    assertLocked();
    const repack = await repackPacks(
      repository,
      new Set(plan.repack.map((entry) => entry.pack)),
      plan.isNeeded,
      now,
    );
    repacked = repack.packs;
    Object.assign(outcome, {
      packsRepacked: repack.packs.length,
      objectsRepacked: repack.objects,
      repackBytesRead: repack.bytesRead,
      repackBytesWritten: repack.bytesWritten,
      packsWritten: repack.packsWritten,
      repackDamaged: repack.leftDamaged,
    });
  }
  const removed = new Set(plan.remove.map((entry) => entry.pack));
  if (plan.remove.some((entry) => entry.indexed) || repacked.length > 0) {
    assertLocked();
    const rewrite = await rewriteIndex(repository, (_id, location) => removed.has(location.pack));
    outcome.indexFilesWritten = rewrite.filesWritten;
    outcome.indexFilesRemoved = rewrite.filesRemoved;
  }
  if (plan.remove.length > 0) assertLocked();
  for (const entry of plan.remove) {
    try {
      await repository.storage.remove({ kind: 'data', name: entry.pack });
    } catch (error) {
      if (!repository.storage.isNotFound(error)) throw error;
    }
    outcome.packsRemoved++;
    outcome.bytesRemoved += entry.bytes;
  }

  const oldLists: string[] = [];
  for await (const name of repository.storage.names('condemned')) oldLists.push(name);
  const pardoned = new Set(plan.pardon);
  const since = now.toISOString();
  const list = [
    ...plan.waiting.map(({ pack, since }) => ({ pack, since: since.toISOString() })),
    ...plan.condemn.map(({ pack }) => ({ pack, since })),
    ...repacked.map((pack) => ({ pack, since })),
  ].filter(({ pack }) => !pardoned.has(pack) && !removed.has(pack));
  if (list.length > 0) await repository.saveCondemned({ version: 1, packs: list });
  for (const name of oldLists) await repository.storage.remove({ kind: 'condemned', name });

  if (plan.temporaryFiles.remove.length > 0) {
    assertLocked();
    const removedFiles = await removeTemporaryFiles(repository.storage, plan.temporaryFiles);
    outcome.temporaryFilesRemoved = removedFiles.files;
    outcome.temporaryBytesRemoved = removedFiles.bytes;
  }
  return outcome;
}
