import { unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { ByteRange } from '../storage.js';
import type { FileCopies } from './file-copies.js';
import { isNodeError } from './local-files.js';

/**
 * Packs kept after their upload, the least recently used dropped first once they hold more than
 * `limitBytes`. A backup starts from the folder trees of the account's last snapshot, and trees
 * are in packs like the mail: with the remote out of reach, a backup could not even begin. The
 * trees a backup reads are those the last one wrote or read, so they are the packs used lately,
 * and stay while the bulk of mail packs, never read again, ages out.
 *
 * Copies are read before the remote (see CachedStorage.load); a check reads the remote's packs,
 * not these.
 */
export class PackCopies {
  /** Bytes held, once counted (the folder is read at the first change). */
  private heldBytes: number | undefined;

  constructor(
    private readonly copies: FileCopies,
    readonly limitBytes: number,
  ) {}

  get enabled(): boolean {
    return this.limitBytes > 0;
  }

  /** Takes a pack just uploaded from the pending folder, then drops the oldest beyond the limit. */
  async adopt(from: string, name: string, size: number): Promise<void> {
    await this.copies.adopt(from, { kind: 'data', name });
    this.heldBytes = (await this.held()) + size;
    await this.trim();
  }

  /** The pack's bytes (it counts as used), or undefined without a sound copy. */
  async read(name: string, range?: ByteRange): Promise<Buffer | undefined> {
    const bytes = await this.copies.read({ kind: 'data', name }, range);
    if (bytes) await this.touch(name);
    return bytes;
  }

  async size(name: string): Promise<number | undefined> {
    return this.copies.size({ kind: 'data', name });
  }

  /** The pack was used (read from the remote): it moves to the back of the queue to be dropped. */
  async touch(name: string): Promise<void> {
    const now = new Date();
    await utimes(join(this.copies.path, 'data', name), now, now).catch((error: unknown) => {
      if (!isNodeError(error, 'ENOENT')) throw error;
    });
  }

  /** Deletes a copy (found damaged). */
  async drop(name: string): Promise<void> {
    const size = await this.size(name);
    await unlink(join(this.copies.path, 'data', name)).catch((error: unknown) => {
      if (!isNodeError(error, 'ENOENT')) throw error;
    });
    if (size !== undefined && this.heldBytes !== undefined) this.heldBytes -= size;
  }

  private async held(): Promise<number> {
    this.heldBytes ??= (await this.copies.entries('data')).reduce(
      (sum, entry) => sum + entry.size,
      0,
    );
    return this.heldBytes;
  }

  private async trim(): Promise<void> {
    if ((await this.held()) <= this.limitBytes) return;
    const oldestFirst = (await this.copies.entries('data')).sort((a, b) => a.madeAt - b.madeAt);
    let held = oldestFirst.reduce((sum, entry) => sum + entry.size, 0);
    for (const entry of oldestFirst) {
      if (held <= this.limitBytes) break;
      await unlink(join(this.copies.path, 'data', entry.name)).catch((error: unknown) => {
        if (!isNodeError(error, 'ENOENT')) throw error;
      });
      held -= entry.size;
    }
    this.heldBytes = held;
  }
}
