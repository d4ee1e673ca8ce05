import { mkdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError, describe, type Storage } from '../storage.js';
import { errorMessage, type StorageLogger } from '../wrappers/storage-logger.js';
import { isCopied, type FileCopies } from './file-copies.js';
import { isNodeError } from './local-files.js';
import type { PackCopies } from './pack-copies.js';
import type { PendingFile, PendingFolder } from './pending-folder.js';
import type { RemoteHealth } from './remote-health.js';
import type { UploadLock } from './upload-lock.js';
import { uploadable } from './upload-order.js';
import { Signal, eventOrTimeout } from './wait.js';
import { PRIVATE_FOLDER_MODE } from '../private-files.js';

export interface UploaderTiming {
  /** Uploads at once (the remote's write limit holds them to its own number besides). */
  concurrency: number;
  /** The pause after a failed upload; it doubles with each failure in a row, up to maxBackoffMs. */
  firstBackoffMs: number;
  maxBackoffMs: number;
  /** How often the folder is looked at again for other processes' files, and the lock tried. */
  pollMs: number;
}

export const DEFAULT_UPLOADER_TIMING: UploaderTiming = {
  concurrency: 4,
  firstBackoffMs: 1_000,
  maxBackoffMs: 30_000,
  pollMs: 2_000,
};

export interface UploaderParts {
  /**
   * The remote, not retried: the uploader is its own retry, a pause after any failure, so that a
   * remote out of reach for hours costs one failed request a pause and holds no command up.
   */
  remote: Storage;
  pending: PendingFolder;
  copies: FileCopies;
  /** Where an uploaded pack goes, when packs are kept at all. */
  packs?: PackCopies;
  lock: UploadLock;
  health: RemoteHealth;
  /** Where a file the remote holds otherwise is put aside (only a config can be: see below). */
  conflicts: string;
  logger: StorageLogger;
  location: string;
  timing?: Partial<UploaderTiming>;
  now?: () => number;
}

/**
 * Sends the pending folder's files to the remote in the order upload-order.ts allows, in the
 * background of whatever the command does. A file is on the remote once saved there, or once the
 * remote refuses it as existing: every file but the config is named by the hash of its content,
 * so a file of that name is this file (sent by an earlier run whose reply was lost, or by
 * another machine). It then leaves the folder: metadata becomes the cache's copy, a pack joins
 * the packs kept (or is deleted). Only the holder of the folder's lock uploads; the others look again now and then.
 */
export class Uploader {
  private readonly timing: UploaderTiming;
  private readonly now: () => number;
  private readonly uploading = new Map<string, Promise<void>>();
  private readonly changed = new Signal();
  private running: Promise<void> | undefined;
  private stopped = false;
  private failuresInARow = 0;
  private pausedUntil = 0;
  private lastScan = 0;

  constructor(private readonly parts: UploaderParts) {
    this.timing = { ...DEFAULT_UPLOADER_TIMING, ...parts.timing };
    this.now = parts.now ?? Date.now;
  }

  /** Starts the background loop (once). */
  start(): void {
    this.running ??= this.loop();
  }

  /** A file was added to the folder by this process. */
  notify(): void {
    this.changed.fire();
  }

  /** The upload of this file under way in this process, if any. */
  uploadOf(entry: PendingFile): Promise<void> | undefined {
    return this.uploading.get(entry.fileName);
  }

  /** Settles the next time a file is uploaded or fails to be, a file is added, or after `ms`. */
  nextChange(ms: number): Promise<void> {
    return eventOrTimeout(this.changed.next(), ms, true);
  }

  /**
   * Waits until nothing is pending, or until no file has left the folder for `patienceMs` (from
   * the later of the last departure and this call): a remote that takes files, however slowly,
   * is waited for; one that takes none is given up on.
   */
  async settle(patienceMs: number): Promise<void> {
    const begun = this.now();
    for (;;) {
      if (!this.parts.lock.held) await this.parts.pending.scan();
      if (this.parts.pending.totals().files === 0) return;
      const idleSince = Math.max(begun, this.parts.pending.lastDeparture);
      const left = idleSince + patienceMs - this.now();
      if (left <= 0) return;
      await this.nextChange(Math.min(left, this.timing.pollMs));
    }
  }

  /**
   * Stops starting uploads. Those under way get `graceMs` to finish (a file almost sent is worth
   * the wait; a remote that does not answer is not), then the lock is let go.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    this.changed.fire();
    await this.running;
    await eventOrTimeout(Promise.allSettled(this.uploading.values()), graceMs, true);
    this.parts.lock.release();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const changed = this.changed.next();
      try {
        await this.startUploads();
      } catch (error) {
        // The cache's own disk failed (full, unreadable): try again after a pause.
        this.pause(error, 'the upload cache could not be read', false);
      }
      if (this.stopped) return;
      const paused = this.pausedUntil - this.now();
      await eventOrTimeout(changed, paused > 0 ? paused : this.timing.pollMs, false);
    }
  }

  private async startUploads(): Promise<void> {
    const { pending, lock } = this.parts;
    if (!lock.held || this.now() - this.lastScan >= this.timing.pollMs) {
      this.lastScan = this.now();
      await pending.scan();
    }
    if (pending.totals().files === 0 || this.now() < this.pausedUntil) return;
    if (!lock.held) {
      if (!(await lock.tryAcquire())) return;
      // Now the only uploader: what the folder holds is this one's to send.
      await pending.scan();
    }
    const room = this.timing.concurrency - this.uploading.size;
    if (room <= 0) return;
    for (const entry of uploadable(pending.list(), new Set(this.uploading.keys()), room))
      this.begin(entry);
  }

  private begin(entry: PendingFile): void {
    const upload = this.upload(entry)
      .catch((error: unknown) => this.pause(error, 'a file in the upload cache failed', false))
      .finally(() => {
        this.uploading.delete(entry.fileName);
        this.changed.fire();
      });
    this.uploading.set(entry.fileName, upload);
  }

  private async upload(entry: PendingFile): Promise<void> {
    const { pending, remote } = this.parts;
    let bytes: Buffer;
    try {
      bytes = await pending.read(entry);
    } catch (error) {
      // Sent by the process that held the lock before this one, or removed.
      if (!isNodeError(error, 'ENOENT')) throw error;
      pending.forget(entry);
      return;
    }
    const begunAt = this.now();
    try {
      await remote.save(entry, bytes);
    } catch (error) {
      const exists = error instanceof StorageError && error.code === 'exists';
      if (!exists) return this.pause(error, 'upload from the cache failed', true);
      try {
        if (entry.kind === 'config') {
          if (!(await remote.load(entry)).equals(bytes)) return await this.setAside(entry);
        } else if ((await remote.stat(entry)).size !== bytes.length)
          await this.replace(entry, bytes);
      } catch (checkError) {
        return this.pause(checkError, 'upload from the cache failed', true);
      }
    }
    await this.uploaded(entry, begunAt);
  }

  private async uploaded(entry: PendingFile, begunAt: number): Promise<void> {
    const { pending, copies, packs } = this.parts;
    const path = pending.pathOf(entry);
    try {
      if (isCopied(entry.kind)) await copies.adopt(path, entry);
      else if (entry.kind === 'data' && packs?.enabled)
        await packs.adopt(path, entry.name, entry.size);
      else await unlink(path);
    } catch (error) {
      if (!isNodeError(error, 'ENOENT')) throw error;
    }
    pending.forget(entry);
    this.failuresInARow = 0;
    this.pausedUntil = 0;
    this.parts.health.succeeded(begunAt);
    this.parts.logger.debug(
      { storage: this.parts.location, file: describe(entry), bytes: entry.size },
      'uploaded from the cache',
    );
  }

  /**
   * The remote holds a file of this name, named by its content, but not of its size: part of an
   * interrupted upload that a server kept under the real name (s3rver does when the client dies
   * mid-request; S3 itself, and the SFTP and local backends, never show a file before it is
   * whole). It is damaged whatever it holds, and this is the file it should be: it is replaced.
   */
  private async replace(entry: PendingFile, bytes: Buffer): Promise<void> {
    this.parts.logger.warn(
      { storage: this.parts.location, file: describe(entry), bytes: entry.size },
      'the remote holds a truncated copy of a file waiting in the cache; replacing it',
    );
    await this.parts.remote.remove(entry);
    await this.parts.remote.save(entry, bytes);
  }

  /**
   * The remote holds another config under the name: another `init` reached it first. Sending
   * this one is pointless and deleting it unwise, so it is kept aside for an administrator.
   */
  private async setAside(entry: PendingFile): Promise<void> {
    await mkdir(this.parts.conflicts, { recursive: true, mode: PRIVATE_FOLDER_MODE });
    const aside = join(this.parts.conflicts, entry.fileName);
    await rename(this.parts.pending.pathOf(entry), aside);
    this.parts.pending.forget(entry);
    this.parts.logger.warn(
      { storage: this.parts.location, file: describe(entry), keptAt: aside },
      'the remote holds another config than the one waiting in the cache; the cached one was put aside',
    );
  }

  /** Waits a while before the next upload; `remote`: the remote failed, not the cache's disk. */
  private pause(error: unknown, message: string, remote: boolean): void {
    this.failuresInARow++;
    const delay = Math.min(
      this.timing.maxBackoffMs,
      this.timing.firstBackoffMs * 2 ** Math.min(this.failuresInARow - 1, 30),
    );
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + delay);
    if (remote) this.parts.health.failed(error);
    const fields = {
      storage: this.parts.location,
      error: errorMessage(error),
      failuresInARow: this.failuresInARow,
      delayMs: delay,
    };
    // The first failure of a run of them is worth a warning; the rest would only repeat it.
    if (this.failuresInARow === 1) this.parts.logger.warn(fields, `${message}; trying again later`);
    else this.parts.logger.debug(fields, message);
  }
}
