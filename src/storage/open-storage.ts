import { isAbsolute, resolve } from 'node:path';
import { LocalStorage } from './local/local-storage.js';
import { cacheFolderFor } from './cache/cache-folder.js';
import { CachedStorage, type CacheTiming } from './cache/cached-storage.js';
import { UncachedStorage, type RepositoryStorage } from './cache/repository-storage.js';
import { DeferredStorage } from './deferred-storage.js';
import { parseRepositoryUrl, redactUrl, type RemoteRepositoryUrl } from './repository-url.js';
import type { S3Options } from './s3/open-s3.js';
import type { SftpOptions } from './sftp/open-sftp.js';
import type { Storage } from './storage.js';
import type { ConcurrencyLimits } from './wrappers/limiting-storage.js';
import { RetryingStorage, type RetryPolicy } from './wrappers/retrying-storage.js';
import type { StorageLogger } from './wrappers/storage-logger.js';
import { wrapStorage } from './wrappers/wrap-storage.js';

/** What a backend needs beyond its URL, from the configuration, and how to wrap it. */
export interface StorageOptions {
  sftp?: SftpOptions;
  s3?: S3Options;
  /** How remote requests are retried (local ones never are). */
  retries?: Partial<RetryPolicy>;
  /** Requests in flight at once: one number for reads and writes alike, or each its own. */
  concurrency?: number | Partial<ConcurrencyLimits>;
  /** Gets a debug line per remote request and a warning per retry. */
  logger?: StorageLogger;
  /** For a remote repository: keep metadata and stage saves in a local cache (see CachedStorage). */
  cache?: RemoteCacheOptions;
}

export interface RemoteCacheOptions {
  /** The cache directory; each repository gets a folder of its own in it (see cacheFolderFor). */
  dir: string;
  /** Bytes waiting to upload above which a save waits for the uploads. */
  maxPendingBytes: number;
  /** Bytes of packs kept after upload (see PackCopies); 0 keeps none. */
  keptPackBytes?: number;
  /** Tells whoever runs the command something worth knowing. */
  warn?: (message: string) => void;
  timing?: Partial<CacheTiming>;
}

/**
 * A server takes a few requests at once well (restic's default is five connections); packs are
 * large, so fewer writes than reads. A local disk takes more, and the limit there only keeps a
 * run from opening files without end.
 */
const REMOTE_CONCURRENCY: ConcurrencyLimits = { reads: 8, writes: 4 };
const LOCAL_CONCURRENCY: ConcurrencyLimits = { reads: 32, writes: 8 };

export { redactUrl };

/**
 * Picks the backend for a repository URL: a path (relative to `base`), `file://`, `sftp://` or
 * `s3://`. Other schemes are refused by name, so a typo does not become a local folder. Every
 * backend comes limited and counted; remote ones are also retried and logged. A local disk's
 * errors (full, denied, failing) do not pass by waiting, and its requests are too many and too
 * quick to be worth a log line each. A remote one given a cache is seen through it; the cache
 * sits outside the counting, so the counts stay what reached the remote.
 */
export function openStorage(
  url: string,
  base: string,
  options: StorageOptions = {},
): RepositoryStorage {
  const parsed = parseRepositoryUrl(url);
  if (parsed.scheme === 'path' || parsed.scheme === 'file') {
    const path =
      parsed.scheme === 'file'
        ? decodeURIComponent(parsed.url.pathname)
        : isAbsolute(url)
          ? url
          : resolve(base, url);
    return new UncachedStorage(
      wrapStorage(new LocalStorage(path), {
        concurrency: limits(options.concurrency, LOCAL_CONCURRENCY),
        retries: false,
      }),
    );
  }
  const backend = openRemote(parsed, base, options);
  const location = redactUrl(url);
  const wrapping = {
    concurrency: limits(options.concurrency, REMOTE_CONCURRENCY),
    logger: options.logger,
    location,
  };
  if (!options.cache)
    return new UncachedStorage(
      wrapStorage(backend, { ...wrapping, retries: options.retries ?? {} }),
    );
  // Retried outermost as wrapStorage would, but the uploads go around the retrying: the uploader
  // pauses and tries again in its own way.
  const direct = wrapStorage(backend, { ...wrapping, retries: false });
  const retried = new RetryingStorage(direct, {
    ...options.retries,
    logger: options.logger,
    location,
  });
  return new CachedStorage(
    { retried, direct, requestCounts: () => direct.requestCounts() },
    {
      folder: cacheFolderFor(options.cache.dir, location),
      maxPendingBytes: options.cache.maxPendingBytes,
      keptPackBytes: options.cache.keptPackBytes,
      logger: options.logger,
      warn: options.cache.warn,
      timing: options.cache.timing,
    },
  );
}

/**
 * A remote backend, its URL checked already (parseRepositoryUrl) and its client loaded at the
 * first request (see DeferredStorage).
 */
function openRemote(parsed: RemoteRepositoryUrl, base: string, options: StorageOptions): Storage {
  const location = redactUrl(parsed.text);
  const url = parsed.url;
  if (parsed.scheme === 'sftp')
    return new DeferredStorage(location, async () =>
      (await import('./sftp/open-sftp.js')).openSftpStorage(
        url,
        { ...options.sftp, log: options.sftp?.log ?? options.logger },
        base,
      ),
    );
  return new DeferredStorage(location, async () =>
    (await import('./s3/open-s3.js')).openS3Storage(url, options.s3 ?? {}, base),
  );
}

function limits(
  given: number | Partial<ConcurrencyLimits> | undefined,
  defaults: ConcurrencyLimits,
): ConcurrencyLimits {
  if (typeof given === 'number') return { reads: given, writes: given };
  return { reads: given?.reads ?? defaults.reads, writes: given?.writes ?? defaults.writes };
}
