import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileEntry } from './file-entry.js';

const READ_SIZE = 256 * 1024;

/** The file is no longer the one the walk saw: replaced, turned into a link, gone. */
export class FileChangedError extends Error {
  constructor(
    readonly path: string,
    what: string,
  ) {
    super(what);
    this.name = 'FileChangedError';
  }
}

export interface FileContent {
  chunks: AsyncIterable<Uint8Array>;
  /** After the chunks were read: whether size or mtime moved while they were. */
  changedWhileRead(): boolean;
}

/**
 * A file's bytes, read without following a link (a file swapped for a link between the walk and
 * the read is not read through it) and without blocking on a fifo swapped in. Whether it changed
 * while being read is known at the end: the copy may then mix old and new content.
 */
export function readFileContent(entry: FileEntry): FileContent {
  let changed = false;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    let handle;
    try {
      handle = await open(
        entry.path,
        constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
      );
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT')
        throw new FileChangedError(entry.path, 'disappeared during the backup');
      if (code === 'ELOOP')
        throw new FileChangedError(entry.path, 'was replaced by a symlink during the backup');
      throw error;
    }
    try {
      const before = await handle.stat({ bigint: true });
      if (!before.isFile() || before.ino !== entry.ino)
        throw new FileChangedError(entry.path, 'was replaced during the backup');
      for (;;) {
        const buffer = Buffer.allocUnsafe(READ_SIZE);
        const { bytesRead } = await handle.read(buffer, 0, READ_SIZE, null);
        if (bytesRead === 0) break;
        yield buffer.subarray(0, bytesRead);
      }
      const after = await handle.stat({ bigint: true });
      changed = after.mtimeNs !== entry.mtimeNs || after.size !== BigInt(entry.size);
    } finally {
      await handle.close();
    }
  }
  return { chunks: chunks(), changedWhileRead: () => changed };
}
