import type { Storage } from '../storage.js';
import { CountingStorage, type StorageRequestCounts } from './counting-storage.js';
import { ForwardingStorage } from './forwarding-storage.js';
import { LimitingStorage, type ConcurrencyLimits } from './limiting-storage.js';
import { LoggingStorage } from './logging-storage.js';
import { RetryingStorage, type RetryOptions } from './retrying-storage.js';
import type { StorageLogger } from './storage-logger.js';

/** A storage that can say how many requests reached its backend. */
export interface CountedStorage extends Storage {
  requestCounts(): StorageRequestCounts;
}

export interface WrapOptions {
  concurrency: ConcurrencyLimits;
  /** How to retry, or false not to (a local disk's errors do not pass by waiting). */
  retries?: Omit<RetryOptions, 'logger' | 'location'> | false;
  /** Gets a debug line per request and a warning per retry; without one, requests are not logged. */
  logger?: StorageLogger;
  /** How log lines name the storage (default its location), without any password. */
  location?: string;
}

/**
 * The backend inside its wrappers, innermost first:
 *
 * - counting, so every attempt that reaches the backend is counted, retries included;
 * - logging, so each attempt gets its own line, its duration the request's own;
 * - limiting outside those, so the time a request waits for a slot is not logged as its own;
 * - retrying outermost, so a request waiting out its backoff holds no slot: otherwise a few
 *   failing requests would stall every other one behind them for seconds (restic stacks its
 *   retry and semaphore backends the same way).
 */
export function wrapStorage(storage: Storage, options: WrapOptions): CountedStorage {
  const location = options.location ?? storage.location;
  const counting = new CountingStorage(storage);
  let wrapped: Storage = counting;
  if (options.logger) wrapped = new LoggingStorage(wrapped, { logger: options.logger, location });
  wrapped = new LimitingStorage(wrapped, options.concurrency);
  if (options.retries !== false)
    wrapped = new RetryingStorage(wrapped, {
      ...options.retries,
      logger: options.logger,
      location,
    });
  return new WithRequestCounts(wrapped, counting);
}

/** The outermost wrapper, with the counts of the innermost at hand. */
class WithRequestCounts extends ForwardingStorage implements CountedStorage {
  constructor(
    outermost: Storage,
    private readonly counting: CountingStorage,
  ) {
    super(outermost);
  }

  requestCounts(): StorageRequestCounts {
    return this.counting.requestCounts();
  }
}
