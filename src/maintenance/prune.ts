/**
 * `prune`: frees the space of packs no snapshot needs, safely beside running backups
 * (docs/design/prune.md, format section 8.1). A pack no snapshot needs is first *condemned*: it
 * stays in the index (a backup that deduplicated against it before still reads), and writers
 * stop deduplicating against it. A later prune, once the grace period has passed, deletes it if
 * it is still unneeded, or *pardons* it if a snapshot written meanwhile needs it. Packs in no
 * index (a crash, a pack whose index is being written right now) are condemned the same way.
 *
 * The mark is a bitset over the index's entries: a bit an object, so the memory it takes is an
 * eighth of a byte per object (the walk's own set of trees aside).
 */
import { rewriteIndex } from '../repository/index/rewrite-index.js';
import type { Repository } from '../repository/repository.js';
import { SnapshotWalker } from './snapshot-walk.js';

export interface PrunePlan {
  /** Packs to condemn now: no snapshot needs them (`unused`), or no index lists them. */
  condemn: Array<{ pack: string; bytes: number; reason: 'unused' | 'unindexed' }>;
  /** Packs condemned at least the grace period ago and still unneeded: deleted now. */
  remove: Array<{ pack: string; bytes: number; since: Date; indexed: boolean }>;
  /** Condemned packs a snapshot needs now: taken back. */
  pardon: string[];
  /** Condemned packs whose grace period has not passed. */
  waiting: Array<{ pack: string; bytes: number; since: Date }>;
  stats: { snapshots: number; packs: number; objects: number; usedObjects: number };
}

export interface PruneOutcome {
  packsRemoved: number;
  bytesRemoved: number;
  indexFilesWritten: number;
  indexFilesRemoved: number;
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
  options: { graceMs: number; now: Date },
): Promise<PrunePlan> {
  const { index } = repository;
  const used = new Uint8Array(Math.ceil(index.size / 8));
  const unreadable: string[] = [];
  let snapshots = 0;
  const walker = new SnapshotWalker(repository, {
    object: (id) => {
      const entry = index.entryNumber(Buffer.from(id, 'hex'));
      if (entry >= 0) used[entry >> 3] = (used[entry >> 3] ?? 0) | (1 << (entry & 7));
    },
    unreadable: (id, _use, error) => unreadable.push(`tree ${id}: ${error.message}`),
  });
  for await (const { snapshot } of repository.snapshots((file, error) =>
    unreadable.push(`${file.kind}/${file.name}: ${error.message}`),
  )) {
    snapshots++;
    await walker.walk(snapshot);
  }
  if (unreadable.length > 0)
    throw new PruneRefusedError(
      `prune refused: ${unreadable.length} snapshot file(s) or tree(s) cannot be read, so what they need is unknown (${unreadable.slice(0, 3).join('; ')}); run mailvault check`,
    );

  const usedInPack = new Map<string, number>();
  let entry = 0;
  let usedObjects = 0;
  for (const [, location] of index.entries()) {
    const isUsed = ((used[entry >> 3] ?? 0) & (1 << (entry & 7))) !== 0;
    entry++;
    if (isUsed) usedObjects++;
    usedInPack.set(location.pack, (usedInPack.get(location.pack) ?? 0) + (isUsed ? 1 : 0));
  }
  const sizes = new Map<string, number>();
  for await (const file of repository.storage.list('data')) sizes.set(file.name, file.size);

  const plan: PrunePlan = {
    condemn: [],
    remove: [],
    pardon: [],
    waiting: [],
    stats: { snapshots, packs: sizes.size, objects: index.size, usedObjects },
  };
  const due = options.now.getTime() - options.graceMs;
  for (const [pack, bytes] of sizes) {
    const count = usedInPack.get(pack);
    const since = repository.condemned.get(pack);
    if (count !== undefined && count > 0) {
      if (since) plan.pardon.push(pack);
      continue;
    }
    if (!since) {
      plan.condemn.push({ pack, bytes, reason: count === undefined ? 'unindexed' : 'unused' });
    } else if (since.getTime() <= due) {
      plan.remove.push({ pack, bytes, since, indexed: count !== undefined });
    } else {
      plan.waiting.push({ pack, bytes, since });
    }
  }
  return plan;
}

/**
 * Carries the plan out, in an order a crash at any moment leaves valid: the index without the
 * packs to delete (rewriteIndex), the packs, then the new list of condemned packs, then the old
 * lists.
 */
export async function applyPrune(repository: Repository, plan: PrunePlan): Promise<PruneOutcome> {
  const outcome: PruneOutcome = {
    packsRemoved: 0,
    bytesRemoved: 0,
    indexFilesWritten: 0,
    indexFilesRemoved: 0,
  };
  const removed = new Set(plan.remove.map((entry) => entry.pack));
  if (plan.remove.some((entry) => entry.indexed)) {
    const rewrite = await rewriteIndex(repository, (_id, location) => removed.has(location.pack));
    outcome.indexFilesWritten = rewrite.filesWritten;
    outcome.indexFilesRemoved = rewrite.filesRemoved;
  }
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
  const now = new Date().toISOString();
  const list = [
    ...plan.waiting.map(({ pack, since }) => ({ pack, since: since.toISOString() })),
    ...plan.condemn.map(({ pack }) => ({ pack, since: now })),
  ].filter(({ pack }) => !pardoned.has(pack) && !removed.has(pack));
  if (list.length > 0) await repository.saveCondemned({ version: 1, packs: list });
  for (const name of oldLists) await repository.storage.remove({ kind: 'condemned', name });
  return outcome;
}
