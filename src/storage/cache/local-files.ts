import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StorageError, type ByteRange } from '../storage.js';

/** The cache's own file handling: small helpers shared by the pending folder and the copies. */

export function isNodeError(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

/** Writes a new file (refusing an existing name) and flushes it to disk before returning. */
export async function writeNewFile(path: string, data: Uint8Array, flush: boolean): Promise<void> {
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await handle.writeFile(data);
    if (flush) await handle.sync();
  } catch (error) {
    // Node says ENOSPC and no path: the user must learn which file system to free space on.
    if (isNodeError(error, 'ENOSPC'))
      throw new StorageError(
        `no space left on the file system of the local cache ${dirname(path)} (writing ${path}); free some space there and run the command again`,
        'io',
        { cause: error },
      );
    throw error;
  } finally {
    await handle.close();
  }
}

/** So that a name just given (link, rename, unlink) survives a power cut too. */
export async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A whole file, or the part of it a range names: all of it, as the local backend reads one. */
export async function readLocalFile(
  path: string,
  range: ByteRange | undefined,
  what: string,
): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    if (!range) return await handle.readFile();
    const buffer = Buffer.allocUnsafe(range.length);
    let filled = 0;
    while (filled < range.length) {
      const { bytesRead } = await handle.read(
        buffer,
        filled,
        range.length - filled,
        range.offset + filled,
      );
      if (bytesRead === 0) throw new StorageError(`${what} is shorter than expected`, 'io');
      filled += bytesRead;
    }
    return buffer;
  } finally {
    await handle.close();
  }
}

/** Whether a process of this machine still runs (one of another user's counts as running). */
export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return !isNodeError(error, 'ESRCH');
  }
}
