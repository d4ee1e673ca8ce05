import { readdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { isTemporaryName, StorageError, type TemporaryFile } from '../storage.js';
import { isNodeError } from './local-files.js';

/**
 * Temporary files the cache's own writers left: a copy (`files/<kind>/`) or a listing
 * (`listings/`) is written under a `.tmp-` name and renamed at once, so one still there belongs
 * to a process that died between the two. They are given with their absolute paths, beside the
 * remote's, for `prune` to delete by the same rule of age. (The pending folder clears its own,
 * by process id: pending-folder.ts.)
 */
export async function* cacheLeftovers(cacheFolder: string): AsyncIterable<TemporaryFile> {
  const folders = [join(cacheFolder, 'listings')];
  for (const kind of await entriesOf(join(cacheFolder, 'files')))
    if (kind.isDirectory()) folders.push(join(cacheFolder, 'files', kind.name));
  for (const folder of folders) {
    for (const entry of await entriesOf(folder)) {
      if (!entry.isFile() || !isTemporaryName(entry.name)) continue;
      const path = join(folder, entry.name);
      try {
        const info = await stat(path);
        yield { path, size: info.size, modified: info.mtime };
      } catch (error) {
        if (!isNodeError(error, 'ENOENT')) throw error;
      }
    }
  }
}

/** Whether `path` is one cacheLeftovers() could give for this cache. */
export function isCacheLeftover(cacheFolder: string, path: string): boolean {
  const below = relative(cacheFolder, dirname(path)).split(sep);
  const folderOk =
    (below.length === 1 && below[0] === 'listings') ||
    (below.length === 2 && below[0] === 'files' && /^[a-z]+$/.test(below[1] ?? ''));
  return folderOk && isTemporaryName(path.slice(dirname(path).length + 1));
}

export async function removeCacheLeftover(cacheFolder: string, path: string): Promise<void> {
  if (!isCacheLeftover(cacheFolder, path))
    throw new StorageError(`${path} is not a temporary file of the cache`, 'denied');
  await unlink(path).catch((error: unknown) => {
    if (!isNodeError(error, 'ENOENT')) throw error;
  });
}

async function entriesOf(folder: string) {
  try {
    return await readdir(folder, { withFileTypes: true });
  } catch (error) {
    if (isNodeError(error, 'ENOENT') || isNodeError(error, 'ENOTDIR')) return [];
    throw error;
  }
}
