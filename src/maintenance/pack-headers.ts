/**
 * The structural check of the packs the index lists: each pack's header is read and compared
 * with the index. A header that cannot be read does not make the pack's objects damaged: the
 * index (authenticated on its own) says where each object is, and each object is authenticated
 * on its own too, so they are read through the index and only those that fail count as damaged.
 * `check --repair` then writes the intact ones into a new pack with a sound header.
 */
import type { ObjectIndex, PackGroup } from '../repository/index/object-index.js';
import type { PackEntry } from '../repository/pack/pack-format.js';
import { readPackHeader } from '../repository/pack/read-pack-header.js';
import type { Repository } from '../repository/repository.js';
import { readPackInOrder } from './pack-reading.js';

/** An indexed pack whose header cannot be read. */
export interface HeaderDamage {
  pack: string;
  error: string;
  /** Objects the index places in it... */
  objects: number;
  /** ...and those of them that failed authentication (hex ids). */
  damagedObjects: string[];
}

export interface HeaderCheck {
  errors: string[];
  /** Objects damaged or missing (hex ids). */
  damaged: Set<string>;
  headers: HeaderDamage[];
}

export async function checkPackHeaders(
  repository: Repository,
  groups: readonly PackGroup[],
  packSizes: ReadonlyMap<string, number>,
  onProgress?: (done: number, total: number) => void,
): Promise<HeaderCheck> {
  const outcome: HeaderCheck = { errors: [], damaged: new Set(), headers: [] };
  const { index } = repository;
  let done = 0;
  for (const { pack, entries } of groups) {
    onProgress?.(++done, groups.length);
    const size = packSizes.get(pack);
    if (size === undefined) {
      outcome.errors.push(`pack ${pack} is listed in an index but missing`);
      for (const entry of entries) outcome.damaged.add(index.idAt(entry).toString('hex'));
      continue;
    }
    // Known from its header alone: read moments ago, and the index entries are the header's.
    if (repository.packsFromHeaders.has(pack)) continue;
    let header: PackEntry[];
    try {
      header = await readPackHeader(repository.storage, repository.key.encryption, pack, size);
    } catch (failure) {
      const damage = await readThroughIndex(repository, pack, size, entries);
      damage.error = (failure as Error).message;
      outcome.headers.push(damage);
      for (const id of damage.damagedObjects) outcome.damaged.add(id);
      continue;
    }
    for (const id of misplacedObjects(index, entries, header)) {
      outcome.errors.push(`pack ${pack}: object ${id} is not where the index says`);
      outcome.damaged.add(id);
    }
  }
  return outcome;
}

/** The message for a pack whose header cannot be read. */
export function headerDamageMessage(damage: HeaderDamage): string {
  const failed = damage.damagedObjects.length;
  const objects = `the index places ${damage.objects} object(s) in it`;
  const state =
    failed === 0
      ? `${objects}, all intact: check --repair writes them into a new pack`
      : `${objects}; ${failed} of them are damaged too, and check --repair writes the others into a new pack`;
  return `pack ${damage.pack}: its header cannot be read (${damage.error}); ${state}`;
}

/** Reads a pack's objects where the index places them, and authenticates each. */
async function readThroughIndex(
  repository: Repository,
  pack: string,
  size: number,
  entries: Uint32Array,
): Promise<HeaderDamage> {
  const { index } = repository;
  const objects = [...entries]
    .map((entry) => ({ entry, ...index.locationAt(entry) }))
    .sort((a, b) => a.offset - b.offset);
  const intact = new Set<number>();
  try {
    await readPackInOrder(repository.storage, pack, size, objects, (object, sealed) => {
      try {
        repository.openObject(index.idAt(object.entry), object, sealed, true);
        intact.add(object.entry);
      } catch {
        // Named below with the others that failed.
      }
    });
  } catch {
    // A pack that cannot be read to its end: what was not reached counts as damaged.
  }
  const damagedObjects = objects
    .filter((object) => !intact.has(object.entry))
    .map((object) => index.idAt(object.entry).toString('hex'));
  return { pack, error: '', objects: objects.length, damagedObjects };
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
