/**
 * Packs that no readable index file lists, indexed from their own headers (format sections 7.2
 * and 8). An index file is derived data: every pack's sealed header lists what the pack holds,
 * so when an index file cannot be read, the packs only it listed are not lost, only unlisted.
 * Their headers are read (one or two small requests a pack) and their objects added to the
 * in-memory index, so that restores, exports and the next backup read them as before, until
 * `check --repair` writes index files for them again.
 *
 * Such a pack may also be one a backup is writing right now (its index file comes after it) or
 * one left by an interrupted backup: its objects are readable, but no writer may take them for
 * stored (format section 12), which Repository.isStored sees to.
 */
import type { FileInfo } from '../../storage/storage.js';
import type { Storage } from '../../storage/storage.js';
import { readPackHeader } from '../pack/read-pack-header.js';
import type { ObjectIndex } from './object-index.js';

export interface HeaderIndexing {
  /** Packs whose objects were added from their headers. */
  packs: string[];
  /** Objects added (those another pack already held keep their first location). */
  objects: number;
  /** Packs in no index whose header could not be read either: their objects stay unknown. */
  unreadable: Array<{ pack: string; error: string }>;
}

export async function indexFromHeaders(
  source: { storage: Storage; encryptionKey: Uint8Array; index: ObjectIndex },
  packs: AsyncIterable<FileInfo> | Iterable<FileInfo>,
  alreadyIndexed: (pack: string) => boolean,
): Promise<HeaderIndexing> {
  const outcome: HeaderIndexing = { packs: [], objects: 0, unreadable: [] };
  for await (const { name, size } of packs) {
    if (alreadyIndexed(name)) continue;
    let entries;
    try {
      entries = await readPackHeader(source.storage, source.encryptionKey, name, size);
    } catch (error) {
      outcome.unreadable.push({
        pack: name,
        error: error instanceof Error ? error.message : String(error),
      });
      continue;
    }
    for (const entry of entries)
      if (source.index.add(entry.id, { pack: name, ...entry })) outcome.objects++;
    outcome.packs.push(name);
  }
  return outcome;
}
