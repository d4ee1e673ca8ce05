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
import { ForwardingStorage } from './forwarding-storage.js';
import { errorMessage, silentLogger, type StorageLogger } from './storage-logger.js';

/** How often and how patiently a failed request is tried again. */
export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** The wait before the second try; each later wait doubles, up to `maxDelayMs`. */
  firstDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 5,
  firstDelayMs: 500,
  maxDelayMs: 30_000,
};

export interface RetryOptions extends Partial<RetryPolicy> {
  logger?: StorageLogger;
  /** How the log lines name the storage: a location already stripped of any password. */
  location?: string;
  /** Waits; tests pass one that returns at once and records the delays. */
  sleep?: (ms: number) => Promise<void>;
  /** A number in [0, 1), for the jitter; tests pass a fixed one. */
  random?: () => number;
}

/**
 * Tries a failed request again, waiting longer each time, while the backend says the error is not
 * permanent (a dropped connection, a timeout, a server busy); not-found, denied and exists fail at
 * once. Each retry is logged as a warning, since it is worth knowing even when the run succeeds.
 */
export class RetryingStorage extends ForwardingStorage {
  private readonly policy: RetryPolicy;
  private readonly logger: StorageLogger;
  private readonly label: string;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(inner: Storage, options: RetryOptions = {}) {
    super(inner);
    this.policy = {
      attempts: options.attempts ?? DEFAULT_RETRY_POLICY.attempts,
      firstDelayMs: options.firstDelayMs ?? DEFAULT_RETRY_POLICY.firstDelayMs,
      maxDelayMs: options.maxDelayMs ?? DEFAULT_RETRY_POLICY.maxDelayMs,
    };
    if (!Number.isInteger(this.policy.attempts) || this.policy.attempts < 1)
      throw new RangeError(
        `retry attempts must be a whole number from 1, not ${this.policy.attempts}`,
      );
    this.logger = options.logger ?? silentLogger;
    this.label = options.location ?? inner.location;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  /**
   * Saving again is safe only because a backend refuses to save over an existing file ('exists',
   * a permanent error): a second writer can never replace a file. But an attempt can fail after
   * the file was stored (the reply was lost), and then the next attempt meets 'exists' for a file
   * this very save wrote. So after a failed attempt, 'exists' is checked: if the stored file is
   * ours, the save succeeded.
   */
  override save(file: FileHandle, data: Uint8Array): Promise<void> {
    return this.retried(`save ${describe(file)}`, async (attempt) => {
      try {
        await this.inner.save(file, data);
      } catch (error) {
        if (attempt > 1 && isExists(error) && (await this.holds(file, data))) return;
        throw error;
      }
    });
  }

  override load(file: FileHandle, range?: ByteRange): Promise<Buffer> {
    return this.retried(`load ${describe(file)}`, () => this.inner.load(file, range));
  }

  override stat(file: FileHandle): Promise<FileInfo> {
    return this.retried(`stat ${describe(file)}`, () => this.inner.stat(file));
  }

  override remove(file: FileHandle): Promise<void> {
    return this.retried(`remove ${describe(file)}`, () => this.inner.remove(file));
  }

  override create(): Promise<void> {
    return this.retried('create', () => this.inner.create());
  }

  override temporaryFiles(): AsyncIterable<TemporaryFile> {
    return this.retriedListing('list temporary files', () => this.inner.temporaryFiles());
  }

  override removeTemporary(path: string): Promise<void> {
    return this.retried(`remove ${path}`, () => this.inner.removeTemporary(path));
  }

  override list(kind: FileKind): AsyncIterable<FileInfo> {
    return this.retriedListing(`list ${kind}`, () => this.inner.list(kind));
  }

  override names(kind: FileKind): AsyncIterable<string> {
    return this.retriedListing(`names ${kind}`, () => this.inner.names(kind));
  }

  private async retried<T>(what: string, request: (attempt: number) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await request(attempt);
      } catch (error) {
        if (!this.worthRetrying(error, attempt)) throw error;
        await this.pause(what, attempt, error);
      }
    }
  }

  /**
   * A listing is retried only if it failed before giving out anything. Once items are given out
   * the caller has acted on them, and a new listing would give them out again (and need not be
   * in the same order, nor hold the same files): only the caller knows what it already did, so
   * it gets the error.
   */
  private async *retriedListing<T>(what: string, open: () => AsyncIterable<T>): AsyncGenerator<T> {
    for (let attempt = 1; ; attempt++) {
      let given = false;
      try {
        for await (const item of open()) {
          given = true;
          yield item;
        }
        return;
      } catch (error) {
        if (given || !this.worthRetrying(error, attempt)) throw error;
        await this.pause(what, attempt, error);
      }
    }
  }

  private worthRetrying(error: unknown, attempt: number): boolean {
    return attempt < this.policy.attempts && !this.inner.isPermanent(error);
  }

  private async pause(what: string, attempt: number, error: unknown): Promise<void> {
    const delayMs = this.delayAfter(attempt);
    this.logger.warn(
      {
        storage: this.label,
        operation: what,
        attempt,
        attempts: this.policy.attempts,
        delayMs,
        error: errorMessage(error),
      },
      'storage request failed; trying again',
    );
    await this.sleep(delayMs);
  }

  /**
   * Doubling waits, each spread at random over half to one and a half times its length, so that
   * requests that failed together (one dropped connection) do not all come back at one moment.
   */
  private delayAfter(attempt: number): number {
    const base = this.policy.firstDelayMs * 2 ** (attempt - 1);
    const jittered = base * (0.5 + this.random());
    return Math.round(Math.min(this.policy.maxDelayMs, jittered));
  }

  /**
   * Whether the stored file is the one being saved. Names of data, index, snapshot and key files
   * are the hashes of their contents, so the same name and size is the same file, and a stat is
   * enough (a pack may be large). The config and lock files are named otherwise (another
   * `init` or another process may have written them), and small: those are compared byte for byte.
   */
  private async holds(file: FileHandle, data: Uint8Array): Promise<boolean> {
    if (isContentNamed(file)) return (await this.inner.stat(file)).size === data.length;
    return (await this.inner.load(file)).equals(data);
  }
}

function isExists(error: unknown): boolean {
  return error instanceof StorageError && error.code === 'exists';
}

function isContentNamed(file: FileHandle): boolean {
  return file.kind !== 'config' && file.kind !== 'locks' && /^[0-9a-f]{64}$/.test(file.name);
}
