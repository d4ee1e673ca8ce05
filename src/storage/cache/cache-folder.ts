import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ensurePrivateFolder,
  PRIVATE_FILE_MODE,
  tightenExisting,
  warnOnStderr,
  type PrivacyWarn,
} from '../private-files.js';

/**
 * A repository's folder in the cache directory: named by a hash of its location (its URL
 * without password) rather than by the repository's id, because the cache is needed before the
 * id is known: `init` saves through it, and with the remote out of reach the config itself is
 * read from it.
 */
export function cacheFolderFor(cacheDir: string, location: string): string {
  return join(cacheDir, createHash('sha256').update(location).digest('hex').slice(0, 16));
}

/**
 * A `location` file in the folder says which repository it caches, for whoever looks in. The
 * folder is its owner's alone (0700, an older one tightened with a warning): it holds the
 * repository's files before they are uploaded and copies of its key, index and snapshot files.
 */
export async function labelCacheFolder(
  folder: string,
  location: string,
  warn: PrivacyWarn = warnOnStderr,
): Promise<void> {
  ensurePrivateFolder(folder, 'the cache folder', warn);
  const label = join(folder, 'location');
  tightenExisting(label, 'the cache file', warn);
  await writeFile(label, `${location}\n`, { mode: PRIVATE_FILE_MODE });
}
