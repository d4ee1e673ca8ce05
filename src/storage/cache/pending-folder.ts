import { randomBytes } from 'node:crypto';
import { link, mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ByteRange, FileHandle, FileKind } from '../storage.js';
import { describe, FILE_KINDS } from '../storage.js';
import {
  isNodeError,
  processRuns,
  readLocalFile,
  syncDirectory,
  writeNewFile,
} from './local-files.js';
import { PRIVATE_FOLDER_MODE } from '../private-files.js';

/** A file saved to the cache and not on the remote yet. */
export interface PendingFile {
  /** Its place in the order of saves: a later file may refer to an earlier one, never the reverse. */
  seq: number;
  kind: FileKind;
  name: string;
  size: number;
  /** Its name in the pending folder. */
  fileName: string;
}

/** Every kind but locks, which never wait here: a kind missing would never upload. */
const ENTRY = new RegExp(
  `^(\\d{12})\\.(${FILE_KINDS.filter((kind) => kind !== 'locks').join('|')})\\.([0-9A-Za-z._-]+)$`,
);
const TEMPORARY = /^\.tmp-(\d+)-[0-9a-f]+$/;

function entryName(seq: number, file: FileHandle): string {
  const name = file.kind === 'config' ? 'config' : file.name;
  return `${String(seq).padStart(12, '0')}.${file.kind}.${name}`;
}

/**
 * The folder of files waiting to upload, one file per save, named `<sequence>.<kind>.<name>` so
 * that the order of saves survives a crash and is shared by every process using the folder: a
 * sequence number is taken above every one in the folder (looked at again before each save of
 * anything but a pack), so a file always sorts after every file it could refer to. Each file
 * is written under a temporary name, flushed and linked to its real name, so a crash leaves it
 * whole or absent.
 *
 * Other processes add files and upload them: what this one knows is brought up to date by scan().
 */
export class PendingFolder {
  private readonly entries = new Map<string, PendingFile>();
  private readonly byFile = new Map<string, PendingFile>();
  private nextSeq = 1;
  private created = false;
  /** When a file last left the folder (uploaded, here or by another process, or removed). */
  lastDeparture = 0;

  constructor(
    readonly path: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** The files known to wait, in the order they were saved. */
  list(): PendingFile[] {
    return [...this.entries.values()].sort((a, b) => a.seq - b.seq);
  }

  find(file: FileHandle): PendingFile | undefined {
    return this.byFile.get(describe(file));
  }

  totals(): { files: number; bytes: number } {
    let bytes = 0;
    for (const entry of this.entries.values()) bytes += entry.size;
    return { files: this.entries.size, bytes };
  }

  /** Reads the folder again, and removes temporary files of writers that died. */
  async scan(): Promise<void> {
    const before = new Set(this.entries.keys());
    let names: string[];
    try {
      names = await readdir(this.path);
    } catch (error) {
      if (!isNodeError(error, 'ENOENT')) throw error;
      names = [];
    }
    const present = new Set<string>();
    for (const fileName of names) {
      const temporary = TEMPORARY.exec(fileName);
      if (temporary) {
        if (!processRuns(Number(temporary[1])))
          await unlink(join(this.path, fileName)).catch(() => undefined);
        continue;
      }
      const match = ENTRY.exec(fileName);
      if (!match) continue;
      present.add(fileName);
      const seq = Number(match[1]);
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
      if (this.entries.has(fileName)) continue;
      let size: number;
      try {
        size = (await stat(join(this.path, fileName))).size;
      } catch (error) {
        if (isNodeError(error, 'ENOENT')) continue; // uploaded meanwhile
        throw error;
      }
      this.remember({ seq, kind: match[2] as FileKind, name: match[3] ?? '', size, fileName });
    }
    // Only what was known before the listing began can be told gone by it: a file this process
    // added meanwhile is not in it.
    for (const fileName of before) {
      const entry = this.entries.get(fileName);
      if (entry && !present.has(fileName)) this.forget(entry);
    }
  }

  /** Saves a file durably under the next sequence number. */
  async add(file: FileHandle, data: Uint8Array): Promise<PendingFile> {
    if (!this.created) {
      await mkdir(this.path, { recursive: true, mode: PRIVATE_FOLDER_MODE });
      this.created = true;
    }
    const temporary = join(this.path, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      await writeNewFile(temporary, data, true);
      // A pack refers to nothing, so its number need not be above other processes' files.
      if (file.kind !== 'data') await this.scan();
      for (;;) {
        const seq = this.nextSeq++;
        const entry: PendingFile = {
          seq,
          kind: file.kind,
          name: file.kind === 'config' ? 'config' : file.name,
          size: data.length,
          fileName: entryName(seq, file),
        };
        try {
          await link(temporary, join(this.path, entry.fileName));
        } catch (error) {
          // Another process took the number: look again.
          if (!isNodeError(error, 'EEXIST')) throw error;
          await this.scan();
          continue;
        }
        this.remember(entry);
        return entry;
      }
    } finally {
      await unlink(temporary).catch(() => undefined);
      await syncDirectory(this.path).catch(() => undefined);
    }
  }

  pathOf(entry: PendingFile): string {
    return join(this.path, entry.fileName);
  }

  read(entry: PendingFile, range?: ByteRange): Promise<Buffer> {
    return readLocalFile(this.pathOf(entry), range, describe(entry));
  }

  /** Deletes a file that is not to be uploaded after all. */
  async delete(entry: PendingFile): Promise<void> {
    await unlink(this.pathOf(entry)).catch((error: unknown) => {
      if (!isNodeError(error, 'ENOENT')) throw error;
    });
    this.forget(entry);
  }

  /** The file left the folder (uploaded, and moved or deleted by whoever uploaded it). */
  forget(entry: PendingFile): void {
    if (!this.entries.delete(entry.fileName)) return;
    this.lastDeparture = this.now();
    const key = describe(entry);
    if (this.byFile.get(key)?.fileName !== entry.fileName) return;
    this.byFile.delete(key);
    // Two processes may have saved the same file: the other copy still waits.
    const twin = this.list().find((other) => describe(other) === key);
    if (twin) this.byFile.set(key, twin);
  }

  private remember(entry: PendingFile): void {
    // A scan and an add of this process may both come upon a new file.
    if (this.entries.has(entry.fileName)) return;
    this.entries.set(entry.fileName, entry);
    const key = describe(entry);
    const known = this.byFile.get(key);
    if (!known || known.seq > entry.seq) this.byFile.set(key, entry);
  }
}
