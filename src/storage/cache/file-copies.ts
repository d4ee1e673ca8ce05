import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { ByteRange, FileHandle, FileKind } from '../storage.js';
import { describe } from '../storage.js';
import { isNodeError, readLocalFile, writeNewFile } from './local-files.js';
import { PRIVATE_FOLDER_MODE } from '../private-files.js';

/**
 * The kinds the cache keeps a copy of: small, read at every run, and never rewritten, so a copy
 * once made stays right for good. Packs are the repository's bulk and are not kept.
 */
export const COPIED_KINDS: ReadonlySet<FileKind> = new Set([
  'config',
  'keys',
  'index',
  'snapshots',
  'runs',
  'condemned',
]);

export function isCopied(kind: FileKind): boolean {
  return COPIED_KINDS.has(kind);
}

/**
 * Copies of the remote's metadata files, as `<kind>/<name>`. A copy is written without a flush
 * (it can always be loaded again); what a crash may leave half-written is caught on reading:
 * every kind but the config is named by the SHA-256 of its bytes, and a copy that does not
 * match is deleted and read from the remote instead. The config is flushed, having no such name.
 */
export class FileCopies {
  constructor(readonly path: string) {}

  private pathOf(file: FileHandle): string {
    return file.kind === 'config'
      ? join(this.path, 'config', 'config')
      : join(this.path, file.kind, file.name);
  }

  /** The copy's bytes, or undefined when there is none (or it was damaged, and is now gone). */
  async read(file: FileHandle, range?: ByteRange): Promise<Buffer | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readLocalFile(this.pathOf(file), undefined, describe(file));
    } catch (error) {
      if (isNodeError(error, 'ENOENT')) return undefined;
      throw error;
    }
    if (file.kind !== 'config' && createHash('sha256').update(bytes).digest('hex') !== file.name) {
      await unlink(this.pathOf(file)).catch(() => undefined);
      return undefined;
    }
    return range ? bytes.subarray(range.offset, range.offset + range.length) : bytes;
  }

  async size(file: FileHandle): Promise<number | undefined> {
    try {
      return (await stat(this.pathOf(file))).size;
    } catch (error) {
      if (isNodeError(error, 'ENOENT')) return undefined;
      throw error;
    }
  }

  /** Keeps a copy of a file just loaded from the remote. */
  async keep(file: FileHandle, data: Uint8Array): Promise<void> {
    const target = this.pathOf(file);
    const folder = join(this.path, file.kind);
    await mkdir(folder, { recursive: true, mode: PRIVATE_FOLDER_MODE });
    const temporary = join(folder, `.tmp-${randomBytes(6).toString('hex')}`);
    try {
      await writeNewFile(temporary, data, file.kind === 'config');
      await rename(temporary, target);
    } finally {
      await unlink(temporary).catch(() => undefined);
    }
  }

  /**
   * Takes a file just uploaded from the pending folder as its copy (one rename, same disk). Its
   * time is set to now: listings made before it was uploaded did not have it yet.
   */
  async adopt(from: string, file: FileHandle): Promise<void> {
    const target = this.pathOf(file);
    await mkdir(join(this.path, file.kind), { recursive: true, mode: PRIVATE_FOLDER_MODE });
    await rename(from, target);
    const now = new Date();
    await utimes(target, now, now).catch(() => undefined);
  }

  async remove(file: FileHandle): Promise<void> {
    await unlink(this.pathOf(file)).catch((error: unknown) => {
      if (!isNodeError(error, 'ENOENT')) throw error;
    });
  }

  /** The copies of a kind with their sizes, and when each was made. */
  async entries(kind: FileKind): Promise<Array<{ name: string; size: number; madeAt: number }>> {
    let names: string[];
    try {
      names = await readdir(join(this.path, kind));
    } catch (error) {
      if (isNodeError(error, 'ENOENT')) return [];
      throw error;
    }
    const out = [];
    for (const name of names) {
      if (name.startsWith('.tmp-')) continue;
      try {
        const info = await stat(join(this.path, kind, name));
        out.push({ name, size: info.size, madeAt: info.mtimeMs });
      } catch (error) {
        if (!isNodeError(error, 'ENOENT')) throw error;
      }
    }
    return out;
  }

  /** Forgets every copy: the repository they came from is no longer at this location. */
  async clear(): Promise<void> {
    await rm(this.path, { recursive: true, force: true });
  }
}
