/**
 * `check --repair` for packs whose header is damaged while the index still says where each of
 * their objects is: the intact objects are copied, sealed as they are (same ids, same bytes),
 * into new packs with sound headers and an index file of their own, and move there in the
 * in-memory index; the index written again afterwards lists them there alone. The old pack is
 * then in no index, and a later prune deletes it. Without this, the next rebuild of an index
 * from the packs could not read what such a pack holds.
 */
import { PackCopier } from '../copy/pack-copier.js';
import type { Repository } from '../repository/repository.js';

export interface HeaderRepair {
  packs: number;
  objects: number;
  packsWritten: number;
  /** Objects that failed authentication when copied (hex ids): not copied. */
  damagedObjects: string[];
}

export async function rewritePacks(
  repository: Repository,
  packs: ReadonlySet<string>,
  skip: ReadonlySet<string>,
): Promise<HeaderRepair> {
  // Condemned in memory only (nothing saves it): what makes the copies move each object to its
  // new pack (Repository.recordStored) instead of keeping its first location.
  const now = new Date();
  const marked = [...packs].filter((pack) => !repository.condemned.has(pack));
  for (const pack of marked) repository.condemned.set(pack, now);
  const copier = new PackCopier(repository, repository);
  const { index } = repository;
  try {
    for (const group of index.packGroups()) {
      if (!packs.has(group.pack)) continue;
      for (const entry of group.entries) {
        const id = index.idAt(entry);
        if (!skip.has(id.toString('hex'))) copier.queue(id, index.locationAt(entry));
      }
    }
    await copier.flush();
  } finally {
    for (const pack of marked) repository.condemned.delete(pack);
  }
  return {
    packs: packs.size,
    objects: copier.stats.objects,
    packsWritten: copier.stats.packs,
    damagedObjects: [...copier.damaged],
  };
}
