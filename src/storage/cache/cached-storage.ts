import { join } from 'node:path';
import {
  StorageError,
  describe,
  type ByteRange,
  type FileHandle,
  type FileInfo,
  type FileKind,
  type Storage,
  type TemporaryFile,
} from '../storage.js';
import type { StorageRequestCounts } from '../wrappers/counting-storage.js';
import { errorMessage, silentLogger, type StorageLogger } from '../wrappers/storage-logger.js';
import { labelCacheFolder } from './cache-folder.js';
import { cacheLeftovers, isCacheLeftover, removeCacheLeftover } from './cache-leftovers.js';
import { FileCopies, isCopied } from './file-copies.js';
import { KnownListings } from './known-listings.js';
import { isNodeError } from './local-files.js';
import { PackCopies } from './pack-copies.js';
import { PendingFolder, type PendingFile } from './pending-folder.js';
import { RemoteHealth } from './remote-health.js';
import type { PendingUploads, RepositoryStorage } from './repository-storage.js';
import { UploadLock } from './upload-lock.js';
import { DEFAULT_UPLOADER_TIMING, Uploader, type UploaderTiming } from './uploader.js';

/** The remote behind the cache, twice: retried for what a command asks, and not for uploads. */
export interface CachedRemote {
  retried: Storage;
  /** The same backend without retries: the uploader retries in its own way (see Uploader). */
  direct: Storage;
  /** The requests that reached the remote, uploads included. */
  requestCounts(): StorageRequestCounts;
}

export interface CacheTiming extends UploaderTiming {
  /** How long after a failure listings go straight to the cache (see RemoteHealth). */
  recheckMs: number;
  /** How long a command's end gives the uploads under way to finish. */
  closeGraceMs: number;
  /** With the cache full, how long the remote may fail before a save gives up waiting for room. */
  fullCacheGiveUpMs: number;
}

export interface CacheSettings {
  /** This repository's folder (see cacheFolderFor). */
  folder: string;
  /** Bytes waiting to upload above which a save waits for uploads. */
  maxPendingBytes: number;
  /** Bytes of packs kept after upload, for a backup to start from while the remote is down. */
  keptPackBytes?: number;
  logger?: StorageLogger;
  /** Tells whoever runs the command something worth knowing (at most once a run). */
  warn?: (message: string) => void;
  timing?: Partial<CacheTiming>;
  now?: () => number;
}

const DEFAULT_TIMING: Omit<CacheTiming, keyof UploaderTiming> = {
  recheckMs: 30_000,
  closeGraceMs: 2_000,
  fullCacheGiveUpMs: 60_000,
};

/**
 * A remote repository seen through a local cache (its folder holds `pending/`, `files/`,
 * `listings/` and the upload lock):
 *
 * - every save is written durably to the pending folder and returns; the uploader sends it in
 *   the background, in an order that keeps the remote valid at every moment (upload-order.ts),
 *   and goes on at the next run if this one ends first. A command can so finish its backup while
 *   the remote is out of reach.
 * - config, keys, index and snapshot files are immutable: once loaded, saved or uploaded they are
 *   kept, and loaded from the cache from then on, so a run costs the remote only what is new.
 * - listings still ask the remote each time (other machines add and remove files), with the
 *   pending files added; when it cannot be reached, the metadata listings come from what the
 *   cache knows, so a command that reads only the catalog and the snapshots still works.
 * - packs lately uploaded or read are kept up to a size (see PackCopies) and read from there:
 *   a backup starts from the trees of the last one without asking the remote for them, and can
 *   even while it is down. A copy found damaged is dropped (dropLocalCopy) and the remote read.
 *   (`check` reads the remote itself, without this cache.)
 *
 * Lock files are the remote's business alone: they go straight through.
 */
export class CachedStorage implements RepositoryStorage {
  readonly location: string;
  private readonly pending: PendingFolder;
  private readonly copies: FileCopies;
  private readonly packs: PackCopies;
  private readonly listings: KnownListings;
  private readonly health: RemoteHealth;
  private readonly uploader: Uploader;
  private readonly logger: StorageLogger;
  private readonly timing: Omit<CacheTiming, keyof UploaderTiming>;
  private readonly now: () => number;
  private labelled: Promise<void> | undefined;
  /** The pending files this run saved. */
  private readonly savedHere = new Set<string>();
  private warnedOutOfReach = false;

  constructor(
    private readonly remote: CachedRemote,
    private readonly settings: CacheSettings,
  ) {
    this.location = remote.retried.location;
    this.now = settings.now ?? Date.now;
    this.timing = { ...DEFAULT_TIMING, ...settings.timing };
    this.logger = settings.logger ?? silentLogger;
    this.pending = new PendingFolder(join(settings.folder, 'pending'), this.now);
    this.copies = new FileCopies(join(settings.folder, 'files'));
    this.packs = new PackCopies(this.copies, settings.keptPackBytes ?? 0);
    this.listings = new KnownListings(join(settings.folder, 'listings'));
    this.health = new RemoteHealth(this.timing.recheckMs, this.now, this.location);
    this.uploader = new Uploader({
      remote: remote.direct,
      pending: this.pending,
      copies: this.copies,
      packs: this.packs,
      lock: new UploadLock(join(settings.folder, 'upload.lock'), settings.warn),
      health: this.health,
      conflicts: join(settings.folder, 'conflicts'),
      logger: this.logger,
      location: this.location,
      timing: settings.timing,
      now: this.now,
    });
    // What an earlier run left waiting goes first, in the background of this command's work.
    this.uploader.start();
  }

  requestCounts(): StorageRequestCounts {
    return this.remote.requestCounts();
  }

  pendingUploads(): PendingUploads {
    const error = this.health.error;
    return { ...this.pending.totals(), ...(error === undefined ? {} : { remoteError: error }) };
  }

  savedFilesWaiting(): boolean {
    return this.pending.list().some((entry) => this.savedHere.has(entry.fileName));
  }

  async finishUploads(patienceMs: number): Promise<PendingUploads> {
    await this.uploader.settle(patienceMs);
    return this.pendingUploads();
  }

  async save(file: FileHandle, data: Uint8Array): Promise<void> {
    if (file.kind === 'locks') return this.remote.retried.save(file, data);
    // As the remote would, with what is known here: saving over a file is refused.
    if (
      this.pending.find(file) ||
      (isCopied(file.kind) && (await this.copies.size(file)) !== undefined)
    )
      throw new StorageError(`${describe(file)} already exists`, 'exists');
    await this.makeRoom(data.length);
    this.labelled ??= labelCacheFolder(this.settings.folder, this.location, this.settings.warn);
    await this.labelled;
    this.savedHere.add((await this.pending.add(file, data)).fileName);
    this.uploader.notify();
  }

  async load(file: FileHandle, range?: ByteRange): Promise<Buffer> {
    if (file.kind === 'locks') return this.remote.retried.load(file, range);
    const local = await this.loadLocally(file, range);
    if (local) return local;
    if (file.kind === 'data' && this.packs.enabled) {
      const kept = await this.packs.read(file.name, range);
      if (kept) return kept;
    }
    let bytes: Buffer;
    const begunAt = this.now();
    try {
      bytes = await this.remote.retried.load(file, range);
    } catch (error) {
      if (!this.remote.retried.isNotFound(error)) {
        this.noteFailure(error);
        const fallback = this.isPermanent(error) ? undefined : await this.keptPack(file, range);
        if (fallback) return fallback;
        throw error;
      }
      // Another process may have saved it meanwhile.
      await this.pending.scan();
      const staged = await this.loadLocally(file, range);
      if (staged) return staged;
      throw error;
    }
    this.health.succeeded(begunAt);
    if (isCopied(file.kind) && !range) await this.keepCopy(file, bytes);
    else if (file.kind === 'data' && this.packs.enabled)
      await this.packs.touch(file.name).catch(() => undefined);
    return bytes;
  }

  async stat(file: FileHandle): Promise<FileInfo> {
    if (file.kind === 'locks') return this.remote.retried.stat(file);
    const entry = this.pending.find(file);
    if (entry) return { name: file.name, size: entry.size };
    const size = isCopied(file.kind) ? await this.copies.size(file) : undefined;
    if (size !== undefined) return { name: file.name, size };
    return this.remote.retried.stat(file);
  }

  names(kind: FileKind): AsyncIterable<string> {
    return this.listing(kind, {
      remote: () => this.remote.retried.names(kind),
      nameOf: (name) => name,
      cached: async () => (await this.cachedListing(kind)).map((info) => info.name),
      pending: (entry) => entry.name,
    });
  }

  list(kind: FileKind): AsyncIterable<FileInfo> {
    return this.listing(kind, {
      remote: () => this.remote.retried.list(kind),
      nameOf: (info) => info.name,
      // Only the names with a copy have a size known here.
      cached: async () =>
        (await this.cachedListing(kind)).flatMap((info) =>
          info.size === undefined ? [] : [{ name: info.name, size: info.size }],
        ),
      pending: (entry) => ({ name: entry.name, size: entry.size }),
    });
  }

  async remove(file: FileHandle): Promise<void> {
    if (file.kind === 'locks') return this.remote.retried.remove(file);
    const uploading = this.pending.find(file);
    if (uploading) await this.uploader.uploadOf(uploading);
    const waiting = this.pending.find(file);
    if (waiting) await this.pending.delete(waiting);
    if (isCopied(file.kind)) await this.copies.remove(file);
    try {
      await this.remote.retried.remove(file);
    } catch (error) {
      // A file that had not reached the remote yet is removed all the same.
      if (!(waiting && this.remote.retried.isNotFound(error))) throw error;
    }
  }

  /** The remote's, then the cache's own (by their absolute paths). */
  async *temporaryFiles(): AsyncIterable<TemporaryFile> {
    yield* this.remote.retried.temporaryFiles();
    yield* cacheLeftovers(this.settings.folder);
  }

  async removeTemporary(path: string): Promise<void> {
    if (isCacheLeftover(this.settings.folder, path))
      return removeCacheLeftover(this.settings.folder, path);
    return this.remote.retried.removeTemporary(path);
  }

  /**
   * Creates the repository on the remote. A config still waiting here means one was made through
   * this cache and never reached the remote: a second would make two repositories of one.
   * Anything else cached belongs to a repository no longer at this location, and goes.
   */
  async create(): Promise<void> {
    await this.pending.scan();
    if (this.pending.find({ kind: 'config', name: 'config' }))
      throw new StorageError(
        `${this.location}: a repository created here is still waiting to upload from ${this.settings.folder}; run a backup once the remote can be reached`,
        'exists',
      );
    await this.remote.retried.create();
    const stale = this.pending.list();
    for (const entry of stale) await this.pending.delete(entry);
    if (stale.length > 0)
      this.settings.warn?.(
        `dropped ${stale.length} files of an earlier repository at ${this.location} that were waiting to upload`,
      );
    await this.copies.clear();
    await this.listings.clear();
  }

  isNotFound(error: unknown): boolean {
    return this.remote.retried.isNotFound(error);
  }

  isPermanent(error: unknown): boolean {
    return this.remote.retried.isPermanent(error);
  }

  async close(): Promise<void> {
    await this.uploader.stop(this.timing.closeGraceMs);
    await this.remote.retried.close();
  }

  /** From the pending folder, else from a copy; undefined when neither has it. */
  private async loadLocally(file: FileHandle, range?: ByteRange): Promise<Buffer | undefined> {
    const entry = this.pending.find(file);
    if (entry) {
      try {
        return await this.pending.read(entry, range);
      } catch (error) {
        // Uploaded meanwhile: a copy now, or on the remote alone.
        if (!isNodeError(error, 'ENOENT')) throw error;
      }
    }
    return isCopied(file.kind) ? this.copies.read(file, range) : undefined;
  }

  async dropLocalCopy(file: FileHandle): Promise<boolean> {
    if (file.kind !== 'data' || (await this.packs.size(file.name)) === undefined) return false;
    await this.packs.drop(file.name);
    return true;
  }

  /** A kept pack, read with the remote out of reach (and said so). */
  private async keptPack(file: FileHandle, range?: ByteRange): Promise<Buffer | undefined> {
    if (file.kind !== 'data' || !this.packs.enabled) return undefined;
    const bytes = await this.packs.read(file.name, range);
    if (bytes) this.warnOutOfReach();
    return bytes;
  }

  /** A copy is a saving, not a duty: a cache that cannot be written costs requests, nothing else. */
  private async keepCopy(file: FileHandle, bytes: Buffer): Promise<void> {
    try {
      this.labelled ??= labelCacheFolder(this.settings.folder, this.location, this.settings.warn);
      await this.labelled;
      await this.copies.keep(file, bytes);
    } catch (error) {
      this.logger.warn(
        { storage: this.location, file: describe(file), error: errorMessage(error) },
        'could not keep a copy in the cache',
      );
    }
  }

  private noteFailure(error: unknown): void {
    if (!this.remote.retried.isPermanent(error)) this.health.failed(error);
  }

  /**
   * The remote's listing (unless it was found down moments ago), then the files waiting here.
   * A metadata listing the remote cannot give comes from the cache instead; a pack listing
   * cannot (packs are not kept), and fails.
   */
  private async *listing<T>(
    kind: FileKind,
    from: {
      remote: () => AsyncIterable<T>;
      nameOf: (item: T) => string;
      cached: () => Promise<T[]>;
      pending: (entry: PendingFile) => T;
    },
  ): AsyncGenerator<T> {
    if (kind === 'locks') {
      yield* from.remote();
      return;
    }
    await this.pending.scan();
    // Taken now: a file uploaded while the remote is listed may be missing from the remote's
    // listing and gone from the folder by its end.
    const waitingAtStart = this.pending.list().filter((entry) => entry.kind === kind);
    const begunAt = this.now();
    const given = new Set<string>();
    let listed = false;
    if (!(isCopied(kind) && this.health.recentlyDown())) {
      try {
        for await (const item of from.remote()) {
          given.add(from.nameOf(item));
          yield item;
        }
        listed = true;
      } catch (error) {
        if (!isCopied(kind) || this.remote.retried.isPermanent(error)) throw error;
        this.health.failed(error);
      }
    }
    if (listed) {
      this.health.succeeded(begunAt);
      if (isCopied(kind)) await this.recordListing(kind, [...given], begunAt);
    } else {
      this.warnOutOfReach();
      for (const item of await from.cached()) {
        if (given.has(from.nameOf(item))) continue;
        given.add(from.nameOf(item));
        yield item;
      }
    }
    const waitingNow = this.pending.list().filter((entry) => entry.kind === kind);
    for (const entry of [...waitingAtStart, ...waitingNow]) {
      if (given.has(entry.name)) continue;
      given.add(entry.name);
      yield from.pending(entry);
    }
  }

  /**
   * What the cache knows the remote holds: its last listing, and the copies made since (files
   * uploaded, or loaded, after it).
   */
  private async cachedListing(kind: FileKind): Promise<Array<{ name: string; size?: number }>> {
    const known = await this.listings.read(kind);
    const copies = await this.copies.entries(kind);
    const sizes = new Map(copies.map((copy) => [copy.name, copy.size]));
    const names = new Set(known?.names ?? []);
    for (const copy of copies) {
      if (!known || copy.madeAt >= known.listedAt) names.add(copy.name);
    }
    return [...names].map((name) => ({ name, size: sizes.get(name) }));
  }

  private async recordListing(kind: FileKind, names: string[], begunAt: number): Promise<void> {
    try {
      this.labelled ??= labelCacheFolder(this.settings.folder, this.location, this.settings.warn);
      await this.labelled;
      await this.listings.record(kind, names, begunAt);
    } catch (error) {
      this.logger.warn(
        { storage: this.location, kind, error: errorMessage(error) },
        'could not record a listing in the cache',
      );
    }
  }

  private warnOutOfReach(): void {
    if (this.warnedOutOfReach) return;
    this.warnedOutOfReach = true;
    this.settings.warn?.(
      `${this.location} cannot be reached (${this.health.error ?? 'no answer'}): working from the local cache, which does not show what other machines changed since`,
    );
  }

  /**
   * Above the limit, a save waits for uploads to make room, as a backup without the cache waited
   * for the remote. While the remote has failed for a while, waiting is pointless: the save fails.
   * A file alone above the limit goes all the same (a limit of 0 means: one file at a time).
   */
  private async makeRoom(bytes: number): Promise<void> {
    for (;;) {
      const held = this.pending.totals().bytes;
      if (held === 0 || held + bytes <= this.settings.maxPendingBytes) return;
      if (this.health.downFor() >= this.timing.fullCacheGiveUpMs)
        throw new StorageError(
          `${this.location} cannot be reached (${this.health.error ?? 'no answer'}) and the local cache already holds ${mebibytes(held)} waiting to upload, its limit (repository.cache.maxPendingSize)`,
          'io',
        );
      await this.uploader.nextChange(
        this.settings.timing?.pollMs ?? DEFAULT_UPLOADER_TIMING.pollMs,
      );
    }
  }
}

function mebibytes(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
