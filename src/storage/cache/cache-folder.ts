import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A repository's folder in the cache directory: named by a hash of its location (its URL
 * without password) rather than by the repository's id, because the cache is needed before the
 * id is known: `init` saves through it, and with the remote out of reach the config itself is
 * read from it.
 */
export function cacheFolderFor(cacheDir: string, location: string): string {
  return join(cacheDir, createHash('sha256').update(location).digest('hex').slice(0, 16));
}

/** A `location` file in the folder says which repository it caches, for whoever looks in. */
export async function labelCacheFolder(folder: string, location: string): Promise<void> {
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'location'), `${location}\n`);
}
