import { open, utimes, writeFile } from 'node:fs/promises';
import { PRIVATE_FILE_MODE } from '../storage/private-files.js';
import { writeAll } from './write-all.js';

/** Files being written at once: creating a file costs several system calls, which overlap well. */
const IN_FLIGHT = 8;

/**
 * Writes one file per message (Maildir, .eml) a few at a time: each new file (its bytes, then
 * its modification time) while the previous ones are still being written. A failure is thrown
 * by the next call.
 */
export class FileWrites {
  private readonly pending = new Set<Promise<void>>();
  private failure: { error: unknown } | null = null;

  /** Starts writing a new file (never an existing one) dated `mtime`; waits while too many are under way. */
  async add(path: string, bytes: Buffer, mtime: Date): Promise<void> {
    this.check();
    const write = writeFile(path, bytes, { flag: 'wx', mode: PRIVATE_FILE_MODE })
      .then(() => utimes(path, mtime, mtime))
      .catch((error: unknown) => {
        this.failure ??= { error };
      });
    this.pending.add(write);
    void write.then(() => this.pending.delete(write));
    while (this.pending.size >= IN_FLIGHT) await Promise.race(this.pending);
    this.check();
  }

  /**
   * Writes a new file from pieces, one at a time, and dates it; done when it is written. The
   * files under way go on meanwhile.
   */
  async addStream(path: string, pieces: AsyncIterable<Buffer>, mtime: Date): Promise<void> {
    this.check();
    const file = await open(path, 'wx', PRIVATE_FILE_MODE);
    try {
      for await (const piece of pieces) await writeAll(file, [piece]);
    } finally {
      await file.close();
    }
    await utimes(path, mtime, mtime);
    this.check();
  }

  /** Waits until every file is written. */
  async drain(): Promise<void> {
    await Promise.all(this.pending);
    this.check();
  }

  private check(): void {
    if (this.failure) throw this.failure.error;
  }
}
