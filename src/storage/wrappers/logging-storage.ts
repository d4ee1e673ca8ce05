import {
  describe,
  type ByteRange,
  type FileHandle,
  type FileInfo,
  type FileKind,
  type Storage,
  type TemporaryFile,
} from '../storage.js';
import { eachStepThrough } from './each-step.js';
import { ForwardingStorage } from './forwarding-storage.js';
import { errorMessage, type StorageLogger } from './storage-logger.js';

export interface LoggingOptions {
  logger: StorageLogger;
  /** How the lines name the storage: a location already stripped of any password. */
  location: string;
  /** Milliseconds from some fixed point; tests pass their own. */
  now?: () => number;
}

type Outcome = 'ok' | 'not-found' | 'failed';

/**
 * One debug line per request: what, which file, how many bytes, how long, and how it ended. File
 * names are content hashes and the location comes without its password, so nothing secret is
 * written; file contents never are.
 */
export class LoggingStorage extends ForwardingStorage {
  private readonly logger: StorageLogger;
  private readonly label: string;
  private readonly now: () => number;

  constructor(inner: Storage, options: LoggingOptions) {
    super(inner);
    this.logger = options.logger;
    this.label = options.location;
    this.now = options.now ?? (() => performance.now());
  }

  override save(file: FileHandle, data: Uint8Array): Promise<void> {
    return this.logged(
      'save',
      file,
      () => this.inner.save(file, data),
      () => data.length,
    );
  }

  override load(file: FileHandle, range?: ByteRange): Promise<Buffer> {
    return this.logged(
      'load',
      file,
      () => this.inner.load(file, range),
      (bytes) => bytes.length,
    );
  }

  override stat(file: FileHandle): Promise<FileInfo> {
    return this.logged(
      'stat',
      file,
      () => this.inner.stat(file),
      (info) => info.size,
    );
  }

  override remove(file: FileHandle): Promise<void> {
    return this.logged('remove', file, () => this.inner.remove(file));
  }

  override create(): Promise<void> {
    return this.logged('create', undefined, () => this.inner.create());
  }

  override list(kind: FileKind): AsyncIterable<FileInfo> {
    return this.loggedListing('list', kind, this.inner.list(kind));
  }

  override names(kind: FileKind): AsyncIterable<string> {
    return this.loggedListing('names', kind, this.inner.names(kind));
  }

  override temporaryFiles(): AsyncIterable<TemporaryFile> {
    return this.loggedListing('temporaryFiles', 'temporary', this.inner.temporaryFiles());
  }

  override removeTemporary(path: string): Promise<void> {
    return this.logged('removeTemporary', path, () => this.inner.removeTemporary(path));
  }

  private async logged<T>(
    operation: string,
    file: FileHandle | string | undefined,
    request: () => Promise<T>,
    bytesOf?: (result: T) => number,
  ): Promise<T> {
    const named = typeof file === 'string' ? file : file && describe(file);
    const fields = { storage: this.label, operation, ...(named ? { file: named } : {}) };
    const started = this.now();
    try {
      const result = await request();
      this.line({ ...fields, ...(bytesOf ? { bytes: bytesOf(result) } : {}) }, started, 'ok');
      return result;
    } catch (error) {
      this.line({ ...fields, error: errorMessage(error) }, started, this.outcomeOf(error));
      throw error;
    }
  }

  /**
   * One line when the listing ends. Its duration is the time spent waiting on the backend, summed
   * over its pages, not the time the caller took between items.
   */
  private loggedListing<T>(
    operation: string,
    kind: FileKind | 'temporary',
    items: AsyncIterable<T>,
  ): AsyncIterable<T> {
    const fields = { storage: this.label, operation, kind };
    let count = 0;
    let waited = 0;
    let ended = false;
    const end = (outcome: Outcome | 'stopped', error?: unknown): void => {
      if (ended) return;
      ended = true;
      this.logger.debug(
        {
          ...fields,
          items: count,
          ms: round(waited),
          outcome,
          ...(error === undefined ? {} : { error: errorMessage(error) }),
        },
        'storage request',
      );
    };
    const step = async (next: () => Promise<IteratorResult<T>>): Promise<IteratorResult<T>> => {
      const started = this.now();
      try {
        const result = await next();
        waited += this.now() - started;
        if (result.done) end('ok');
        else count++;
        return result;
      } catch (error) {
        waited += this.now() - started;
        end(this.outcomeOf(error), error);
        throw error;
      }
    };
    return eachStepThrough(items, step, () => end('stopped'));
  }

  private line(fields: Record<string, unknown>, started: number, outcome: Outcome): void {
    this.logger.debug({ ...fields, ms: round(this.now() - started), outcome }, 'storage request');
  }

  private outcomeOf(error: unknown): Outcome {
    return this.inner.isNotFound(error) ? 'not-found' : 'failed';
  }
}

/** Durations to a tenth of a millisecond: finer is noise. */
function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
