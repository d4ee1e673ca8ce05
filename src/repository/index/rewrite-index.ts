/**
 * Writes the repository's index again from memory, without the objects `drop` names, in place
 * of the index files it was loaded from (Repository.indexFiles): what `prune` does when it
 * deletes packs, and `check --repair` when it forgets damaged objects or lists again the packs
 * that only a damaged index file listed (known from their headers, see unindexed-packs.ts). One mechanism for both, so
 * the crash-safe order lives in one place: the new files first, the last of them naming the old
 * ones in its `superseded` list (until it is written the old files hold), then the old files go.
 *
 * The entries are read from the compact in-memory index a pack at a time (its groups of entry
 * numbers, so objects relocated to a new pack are listed with it), and a file holds at most
 * ENTRIES_PER_FILE of them: no more than that is ever held as objects, however many objects the
 * repository has. An index file a backup writes meanwhile is not among the replaced ones and
 * stays. The in-memory index still holds the dropped objects afterwards: the commands that call
 * this end there.
 */
import type { ObjectLocation } from './object-index.js';
import type { IndexedPack } from './index-file.js';
import type { Repository } from '../repository.js';

/** Packs an index file lists at most, as a backup writes them... */
const PACKS_PER_FILE = 32;
/**
 * ...and objects: packs of small objects hold tens of thousands each. A pack with more is listed
 * in parts, in consecutive files (readers add entries, whichever file names them).
 */
const ENTRIES_PER_FILE = 65_536;

export interface IndexRewrite {
  filesWritten: number;
  filesRemoved: number;
  objectsDropped: number;
}

export async function rewriteIndex(
  repository: Repository,
  drop: (id: Buffer, location: ObjectLocation) => boolean,
  options: {
    /**
     * Damaged index files to supersede as well (check --repair): only when everything they could
     * have listed is in memory, from the packs' own headers.
     */
    alsoReplace?: readonly string[];
  } = {},
): Promise<IndexRewrite> {
  const outcome: IndexRewrite = { filesWritten: 0, filesRemoved: 0, objectsDropped: 0 };
  const replaced = [...new Set([...repository.indexFiles.live, ...(options.alsoReplace ?? [])])];
  let batch: IndexedPack[] = [];
  let entriesInBatch = 0;
  const save = async (last: boolean): Promise<void> => {
    await repository.saveIndex({ superseded: last ? replaced : [], packs: batch });
    outcome.filesWritten++;
    batch = [];
    entriesInBatch = 0;
  };
  const { index } = repository;
  for (const group of index.packGroups()) {
    let current: IndexedPack | undefined;
    for (const entry of group.entries) {
      const id = index.idAt(entry);
      const location = index.locationAt(entry);
      if (drop(id, location)) {
        outcome.objectsDropped++;
        continue;
      }
      if (!current || entriesInBatch === ENTRIES_PER_FILE) {
        if (batch.length === PACKS_PER_FILE || entriesInBatch === ENTRIES_PER_FILE)
          await save(false);
        current = { id: group.pack, entries: [] };
        batch.push(current);
      }
      const { type, offset, length, rawLength } = location;
      current.entries.push({ id, type, offset, length, rawLength });
      entriesInBatch++;
    }
  }
  await save(true);
  // Packs known from their headers alone are listed by an index file now: stored like any other.
  repository.packsFromHeaders.clear();
  const gone = [...repository.indexFiles.superseded, ...replaced];
  repository.indexFiles = {
    live: repository.indexFiles.live.filter((name) => !replaced.includes(name)),
    superseded: [],
  };
  for (const name of gone) {
    try {
      await repository.storage.remove({ kind: 'index', name });
      outcome.filesRemoved++;
    } catch (error) {
      if (!repository.storage.isNotFound(error)) throw error;
    }
  }
  return outcome;
}
