/**
 * `check --repair` rebuilding the index from the packs themselves (format section 13), as the
 * pack format allows (section 7.2): the packs no readable index file lists were indexed from
 * their headers when the index was loaded; before an index file lists them for good, each is
 * read whole, a window at a time (memory stays flat), its SHA-256 compared with its name and
 * every object it is to be listed for authenticated and checked against its id. An object that
 * fails is left out of the new index: a backup then stores it again, and check names the items
 * that need it.
 */
import type { Repository } from '../repository/repository.js';
import { readPackInOrder } from './pack-reading.js';

export interface PackVerification {
  packs: number;
  objects: number;
  /** Objects that failed authentication (hex ids): not to be indexed. */
  damagedObjects: string[];
  /** Packs whose bytes do not match their name: damaged somewhere, their intact objects kept. */
  mismatchedPacks: string[];
  bytesRead: number;
}

/** Reads and verifies every pack in `packs` the in-memory index holds objects of, one at a time. */
export async function verifyPacks(
  repository: Repository,
  packs: ReadonlySet<string>,
  onProgress?: (done: number, total: number) => void,
): Promise<PackVerification> {
  const outcome: PackVerification = {
    packs: 0,
    objects: 0,
    damagedObjects: [],
    mismatchedPacks: [],
    bytesRead: 0,
  };
  const { index, storage } = repository;
  const groups = index.packGroups().filter((group) => packs.has(group.pack));
  for (const { pack, entries } of groups) {
    onProgress?.(outcome.packs + 1, groups.length);
    const objects = [...entries]
      .map((entry) => ({ entry, ...index.locationAt(entry) }))
      .sort((a, b) => a.offset - b.offset);
    const intact = new Set<number>();
    let digest = '';
    try {
      const { size } = await storage.stat({ kind: 'data', name: pack });
      digest = await readPackInOrder(storage, pack, size, objects, (object, sealed) => {
        try {
          repository.openObject(index.idAt(object.entry), object, sealed, true);
          intact.add(object.entry);
        } catch {
          // Left out of the index, below.
        }
      });
      outcome.bytesRead += size;
    } catch {
      // A pack that cannot be read to its end: what was not reached is not indexed.
    }
    if (digest !== pack) outcome.mismatchedPacks.push(pack);
    for (const object of objects) {
      if (intact.has(object.entry)) outcome.objects++;
      else outcome.damagedObjects.push(index.idAt(object.entry).toString('hex'));
    }
    outcome.packs++;
  }
  return outcome;
}
