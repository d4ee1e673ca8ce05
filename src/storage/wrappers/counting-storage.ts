import type { ByteRange, FileHandle, FileInfo, FileKind, TemporaryFile } from '../storage.js';
import { eachStepThrough } from './each-step.js';
import { ForwardingStorage } from './forwarding-storage.js';

/** Requests made to a backend, each attempt of a retried one counted, and the bytes moved. */
export interface StorageRequestCounts {
  save: number;
  load: number;
  stat: number;
  /** Listings, by names() or list(), however many pages each took. */
  list: number;
  remove: number;
  /** Of the above, those that failed. */
  failed: number;
  /**
   * Bytes of the saves and loads that succeeded: a failed transfer may have moved none of its
   * bytes or all of them, and the backend does not say which.
   */
  bytesUp: number;
  bytesDown: number;
}

type RequestKind = 'save' | 'load' | 'stat' | 'list' | 'remove';

export function noStorageRequests(): StorageRequestCounts {
  return { save: 0, load: 0, stat: 0, list: 0, remove: 0, failed: 0, bytesUp: 0, bytesDown: 0 };
}

/** Counts what reaches the backend. create() and close() happen once a run and are not counted. */
export class CountingStorage extends ForwardingStorage {
  private readonly counts = noStorageRequests();

  /** The counts so far, as a copy the caller may keep. */
  requestCounts(): StorageRequestCounts {
    return { ...this.counts };
  }

  override async save(file: FileHandle, data: Uint8Array): Promise<void> {
    await this.counted('save', () => this.inner.save(file, data));
    this.counts.bytesUp += data.length;
  }

  override async load(file: FileHandle, range?: ByteRange): Promise<Buffer> {
    const bytes = await this.counted('load', () => this.inner.load(file, range));
    this.counts.bytesDown += bytes.length;
    return bytes;
  }

  override stat(file: FileHandle): Promise<FileInfo> {
    return this.counted('stat', () => this.inner.stat(file));
  }

  override remove(file: FileHandle): Promise<void> {
    return this.counted('remove', () => this.inner.remove(file));
  }

  override list(kind: FileKind): AsyncIterable<FileInfo> {
    return this.countedListing(this.inner.list(kind));
  }

  override names(kind: FileKind): AsyncIterable<string> {
    return this.countedListing(this.inner.names(kind));
  }

  override temporaryFiles(): AsyncIterable<TemporaryFile> {
    return this.countedListing(this.inner.temporaryFiles());
  }

  override removeTemporary(path: string): Promise<void> {
    return this.counted('remove', () => this.inner.removeTemporary(path));
  }

  private async counted<T>(kind: RequestKind, request: () => Promise<T>): Promise<T> {
    this.counts[kind]++;
    try {
      return await request();
    } catch (error) {
      this.counts.failed++;
      throw error;
    }
  }

  /** One request per listing, counted when it is first read from (a listing never read costs nothing). */
  private countedListing<T>(items: AsyncIterable<T>): AsyncIterable<T> {
    let started = false;
    return eachStepThrough(items, async (next) => {
      if (!started) this.counts.list++;
      started = true;
      try {
        return await next();
      } catch (error) {
        this.counts.failed++;
        throw error;
      }
    });
  }
}
