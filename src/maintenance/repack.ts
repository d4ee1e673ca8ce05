/**
 * Repacking, `prune`'s step 4 (docs/design/prune.md): a pack some of whose objects no snapshot
 * needs any more is kept whole as long as one is needed. When the unneeded share of its bytes
 * passes `--max-unused`, the needed objects are copied, sealed as they are, into new packs, and
 * the old pack is condemned; a later prune deletes it once the grace period has passed.
 *
 * The objects no snapshot needs keep their index entries in the old pack: a backup running now
 * may have deduplicated against one of them, and the next prune's mark then pardons the pack
 * instead of deleting what that backup's snapshot needs.
 */
import { PackCopier } from '../copy/pack-copier.js';
import type { Repository } from '../repository/repository.js';

/** Objects queued at most before they are copied (their locations are held until then). */
const BATCH_OBJECTS = 100_000;

/** `P%` as a fraction (0 to 1); `unlimited`: never repack (null). */
export function parseMaxUnused(text: string): number | null {
  if (text === 'unlimited') return null;
  const match = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  const percent = match ? Number(match[1]) : NaN;
  if (!(percent >= 0 && percent <= 100))
    throw new Error(
      `--max-unused ${JSON.stringify(text)}: give a share of a pack such as 10% (0% repacks every pack with anything unneeded), or unlimited`,
    );
  return percent / 100;
}

/**
 * Whether a pack that some snapshot still needs is worth repacking: more than `maxUnused` of its
 * bytes are objects no snapshot needs. A pack with nothing unneeded never is, whatever the limit.
 */
export function isSparse(
  pack: { bytes: number; unusedBytes: number },
  maxUnused: number | null,
): boolean {
  if (maxUnused === null || pack.unusedBytes <= 0 || pack.bytes <= 0) return false;
  return pack.unusedBytes / pack.bytes > maxUnused;
}

export interface RepackOutcome {
  /** Old packs repacked (and condemned by the caller). */
  packs: string[];
  /** Packs whose needed objects could not all be copied (damaged): left as they are. */
  leftDamaged: string[];
  objects: number;
  bytesRead: number;
  bytesWritten: number;
  packsWritten: number;
}

/**
 * Copies the needed objects (`isUsed`, by index entry number) of `packs` into new packs, with
 * index files listing them, and moves them to the new packs in the in-memory index. The old
 * packs are condemned in memory first (that is what makes the move happen); the caller rewrites
 * the index and saves the condemned list. A pack one of whose needed objects fails
 * authentication is not condemned: what it holds is left for `check` to name.
 */
export async function repackPacks(
  repository: Repository,
  packs: ReadonlySet<string>,
  isUsed: (entry: number) => boolean,
  now: Date,
): Promise<RepackOutcome> {
  for (const pack of packs)
    if (!repository.condemned.has(pack)) repository.condemned.set(pack, now);
  const copier = new PackCopier(repository, repository);
  const damaged: string[] = [];
  const flush = async (): Promise<void> => {
    await copier.flush();
    damaged.push(...copier.damaged.splice(0));
  };
  const { index } = repository;
  for (const group of index.packGroups()) {
    if (!packs.has(group.pack)) continue;
    for (const entry of group.entries) {
      if (!isUsed(entry)) continue;
      copier.queue(index.idAt(entry), index.locationAt(entry));
      if (copier.queuedObjects >= BATCH_OBJECTS) await flush();
    }
  }
  await flush();

  const leftDamaged = new Set<string>();
  for (const hex of damaged) {
    const pack = repository.index.get(Buffer.from(hex, 'hex'))?.pack;
    if (pack && packs.has(pack)) leftDamaged.add(pack);
  }
  for (const pack of leftDamaged) repository.condemned.delete(pack);
  return {
    packs: [...packs].filter((pack) => !leftDamaged.has(pack)),
    leftDamaged: [...leftDamaged],
    objects: copier.stats.objects,
    bytesRead: copier.stats.bytesRead,
    bytesWritten: copier.stats.bytes,
    packsWritten: copier.stats.packs,
  };
}
