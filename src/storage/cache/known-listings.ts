import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileKind } from '../storage.js';
import { isNodeError, writeNewFile } from './local-files.js';
import { PRIVATE_FOLDER_MODE } from '../private-files.js';

/**
 * What the remote last listed of each metadata kind, one name a line. With the remote out of
 * reach this is the best answer to "which snapshots are there": better than the copies alone,
 * which hold only the files this machine has read (a catalog filled before the cache existed
 * would otherwise see most snapshots vanish and drop them).
 */
export class KnownListings {
  constructor(readonly path: string) {}

  /**
   * Records a complete listing. Its file takes the time the listing began: a copy made after
   * that (a file uploaded meanwhile) may be missing from it, and is added back by whoever reads.
   */
  async record(kind: FileKind, names: readonly string[], begunAt: number): Promise<void> {
    await mkdir(this.path, { recursive: true, mode: PRIVATE_FOLDER_MODE });
    const temporary = join(this.path, `.tmp-${randomBytes(6).toString('hex')}`);
    try {
      await writeNewFile(temporary, Buffer.from(names.map((name) => `${name}\n`).join('')), false);
      const time = new Date(begunAt);
      await utimes(temporary, time, time);
      await rename(temporary, join(this.path, kind));
    } finally {
      await unlink(temporary).catch(() => undefined);
    }
  }

  /** The names and when they were listed, or undefined if the remote was never listed. */
  async read(kind: FileKind): Promise<{ names: string[]; listedAt: number } | undefined> {
    const path = join(this.path, kind);
    try {
      const listedAt = (await stat(path)).mtimeMs;
      const text = await readFile(path, 'utf8');
      return { names: text.split('\n').filter((name) => name !== ''), listedAt };
    } catch (error) {
      if (isNodeError(error, 'ENOENT')) return undefined;
      throw error;
    }
  }

  async clear(): Promise<void> {
    await rm(this.path, { recursive: true, force: true });
  }
}
