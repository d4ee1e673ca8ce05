import type {
  ByteRange,
  FileHandle,
  FileInfo,
  FileKind,
  Storage,
  TemporaryFile,
} from '../storage.js';
import { eachStepThrough } from './each-step.js';
import { FifoSemaphore } from './fifo-semaphore.js';
import { ForwardingStorage } from './forwarding-storage.js';

/**
 * Requests in flight at once. Reads and writes queue apart: a backup uploading large packs should
 * not keep the small loads and stats it also needs waiting behind them.
 */
export interface ConcurrencyLimits {
  /** Loads, stats and listing pages. */
  reads: number;
  /** Saves, removes and create. */
  writes: number;
}

/** Holds every request to the backend to a few at once, the rest waiting their turn in order. */
export class LimitingStorage extends ForwardingStorage {
  private readonly reads: FifoSemaphore;
  private readonly writes: FifoSemaphore;

  constructor(inner: Storage, limits: ConcurrencyLimits) {
    super(inner);
    this.reads = new FifoSemaphore(limits.reads);
    this.writes = new FifoSemaphore(limits.writes);
  }

  override save(file: FileHandle, data: Uint8Array): Promise<void> {
    return this.writes.run(() => this.inner.save(file, data));
  }

  override remove(file: FileHandle): Promise<void> {
    return this.writes.run(() => this.inner.remove(file));
  }

  override removeTemporary(path: string): Promise<void> {
    return this.writes.run(() => this.inner.removeTemporary(path));
  }

  override create(): Promise<void> {
    return this.writes.run(() => this.inner.create());
  }

  override load(file: FileHandle, range?: ByteRange): Promise<Buffer> {
    return this.reads.run(() => this.inner.load(file, range));
  }

  override stat(file: FileHandle): Promise<FileInfo> {
    return this.reads.run(() => this.inner.stat(file));
  }

  // A slot is held for each step of a listing, never for the whole of it: callers load files
  // while they list (the index is loaded that way), and with one slot that would never finish.
  override list(kind: FileKind): AsyncIterable<FileInfo> {
    return eachStepThrough(this.inner.list(kind), (next) => this.reads.run(next));
  }

  override names(kind: FileKind): AsyncIterable<string> {
    return eachStepThrough(this.inner.names(kind), (next) => this.reads.run(next));
  }

  override temporaryFiles(): AsyncIterable<TemporaryFile> {
    return eachStepThrough(this.inner.temporaryFiles(), (next) => this.reads.run(next));
  }
}
