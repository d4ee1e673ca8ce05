/**
 * The exclusive lock of a repository (format section 2.1): a file in `locks/` that says who holds
 * it. Only operations that must not run twice at once take it (`prune`, `check --repair`,
 * `forget`); backups never do, and prune's grace period protects them instead.
 *
 * Object stores have no atomic "create if absent" that every backend shares, so the lock is
 * taken the way restic takes its exclusive locks: list the locks, refuse if a live one is there,
 * write ours, then list again; if another appeared meanwhile, both writers see each other, remove
 * their own and refuse, and neither goes on. A lock is refreshed (a new file written, then the
 * old one removed) while it is held; one not refreshed for `staleMs`, or one written on this host
 * by a process that is gone, is stale: it is removed with a warning and taken over.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Storage } from '../../storage/storage.js';

/** A lock file's content: plain JSON, as key files are (it names no secret). */
export interface LockFile {
  version: 1;
  /** The same for every file one holder writes, so that it knows its own after a refresh. */
  id: string;
  command: string;
  host: string;
  pid: number;
  /** When the lock was taken. */
  since: string;
  /** When this file was written: the lock is live while this is recent. */
  time: string;
}

/** A holder refreshes its lock this often... */
export const LOCK_REFRESH_MS = 5 * 60_000;
/** ...and a lock not refreshed for this long is taken for abandoned. */
export const LOCK_STALE_MS = 30 * 60_000;

/** Another mailvault holds the lock (or its lock file cannot be read): nothing was changed. */
export class RepositoryLockedError extends Error {
  constructor(
    message: string,
    /** The holder, when its lock file could be read. */
    readonly holder: LockFile | null,
  ) {
    super(message);
    this.name = 'RepositoryLockedError';
  }
}

export interface LockOptions {
  /** What takes the lock, as the refusal of another names it (`prune`, `check --repair`). */
  command: string;
  /** Told when a stale lock is removed, or a refresh fails. */
  warn?: (message: string) => void;
  refreshMs?: number;
  staleMs?: number;
  /** For tests: the clock, this host's name and process, and whether a pid here is running. */
  now?: () => Date;
  host?: string;
  pid?: number;
  isRunning?: (pid: number) => boolean;
}

export interface RepositoryLock {
  /** The lock file's current name in `locks/`. */
  readonly file: string;
  /**
   * Throws if the lock could not be refreshed for the stale period (another may have taken it
   * over): called before a step that must not run beside another holder.
   */
  assertHeld(): void;
  /** Removes the lock file; safe to call twice. */
  release(): Promise<void>;
}

/** Takes the repository's exclusive lock, or throws RepositoryLockedError naming the holder. */
export async function acquireLock(
  repository: { storage: Storage },
  options: LockOptions,
): Promise<RepositoryLock> {
  const { storage } = repository;
  const now = options.now ?? (() => new Date());
  const staleMs = options.staleMs ?? LOCK_STALE_MS;
  const me = {
    host: options.host ?? hostname(),
    pid: options.pid ?? process.pid,
    isRunning: options.isRunning ?? isRunning,
  };
  const warn = options.warn ?? (() => undefined);
  const staleness = (lock: LockFile): string | null => {
    const age = now().getTime() - Date.parse(lock.time);
    if (age > staleMs) return `not refreshed for ${Math.round(age / 60_000)} min`;
    if (lock.host === me.host && !me.isRunning(lock.pid)) return 'its process is gone';
    return null;
  };

  for (const other of await readLocks(storage)) {
    const stale = other.lock ? staleness(other.lock) : null;
    if (!other.lock || !stale) throw lockedError(other.name, other.lock, other.error);
    warn(`removed the stale lock of ${describeHolder(other.lock)} (${stale})`);
    await removeIfThere(storage, other.name);
  }

  const id = randomBytes(16).toString('hex');
  const since = now().toISOString();
  /** This holder's lock file as of `time` (the first, and each refresh). */
  const lockAt = (time: string): LockFile => ({
    version: 1,
    id,
    command: options.command,
    host: me.host,
    pid: me.pid,
    since,
    time,
  });
  let file = await writeLock(storage, lockAt(since));
  let lastWritten = now().getTime();

  // A second look settles a race with another that listed before we wrote.
  for (const other of await readLocks(storage)) {
    if (other.lock?.id === id || (other.lock && staleness(other.lock))) continue;
    await removeIfThere(storage, file);
    throw lockedError(other.name, other.lock, other.error);
  }

  let released = false;
  let pending: Promise<void> = Promise.resolve();
  const refresh = async (): Promise<void> => {
    if (released) return;
    try {
      const old = file;
      const time = now();
      file = await writeLock(storage, lockAt(time.toISOString()));
      lastWritten = time.getTime();
      await removeIfThere(storage, old);
    } catch (error) {
      warn(`the repository lock could not be refreshed: ${errorText(error)}`);
    }
  };
  const timer = setInterval(() => {
    pending = pending.then(refresh);
  }, options.refreshMs ?? LOCK_REFRESH_MS);
  timer.unref();

  return {
    get file() {
      return file;
    },
    assertHeld() {
      if (now().getTime() - lastWritten > staleMs)
        throw new RepositoryLockedError(
          `the repository lock could not be refreshed for ${Math.round(staleMs / 60_000)} min, so another mailvault may have taken it over; stopped`,
          null,
        );
    },
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      await pending;
      await removeIfThere(storage, file);
    },
  };
}

/** Runs `work` holding the lock, released however it ends. */
export async function withLock<T>(
  repository: { storage: Storage },
  options: LockOptions,
  work: (lock: RepositoryLock) => Promise<T>,
): Promise<T> {
  const lock = await acquireLock(repository, options);
  try {
    return await work(lock);
  } finally {
    await lock.release();
  }
}

export function describeHolder(lock: LockFile): string {
  return `${lock.command} on ${lock.host} (pid ${lock.pid}) since ${lock.since}`;
}

function lockedError(name: string, lock: LockFile | null, error?: string): RepositoryLockedError {
  return new RepositoryLockedError(
    lock
      ? `the repository is locked by ${describeHolder(lock)}, last refreshed ${lock.time}; try again once it is done (if that process is gone for good, remove locks/${name})`
      : `the repository is locked: lock file locks/${name} cannot be read (${error ?? 'unknown'}); if no other mailvault is working on this repository, remove it`,
    lock,
  );
}

async function readLocks(
  storage: Storage,
): Promise<Array<{ name: string; lock: LockFile | null; error?: string }>> {
  const found: Array<{ name: string; lock: LockFile | null; error?: string }> = [];
  for await (const name of storage.names('locks')) {
    let bytes: Buffer;
    try {
      bytes = await storage.load({ kind: 'locks', name });
    } catch (error) {
      if (storage.isNotFound(error)) continue; // released (or refreshed) meanwhile
      throw error;
    }
    try {
      found.push({ name, lock: parseLock(bytes) });
    } catch (error) {
      found.push({ name, lock: null, error: errorText(error) });
    }
  }
  return found;
}

export function parseLock(bytes: Buffer): LockFile {
  const lock = JSON.parse(bytes.toString('utf8')) as Partial<LockFile>;
  if (lock.version !== 1) throw new Error(`unsupported lock version ${String(lock.version)}`);
  if (
    typeof lock.id !== 'string' ||
    typeof lock.command !== 'string' ||
    typeof lock.host !== 'string' ||
    typeof lock.pid !== 'number' ||
    typeof lock.since !== 'string' ||
    typeof lock.time !== 'string' ||
    Number.isNaN(Date.parse(lock.time))
  )
    throw new Error('not a lock file');
  return lock as LockFile;
}

/** Named, as every repository file, by the SHA-256 of its bytes. */
async function writeLock(storage: Storage, lock: LockFile): Promise<string> {
  const bytes = Buffer.from(JSON.stringify(lock) + '\n');
  const name = createHash('sha256').update(bytes).digest('hex');
  await storage.save({ kind: 'locks', name }, bytes);
  return name;
}

async function removeIfThere(storage: Storage, name: string): Promise<void> {
  try {
    await storage.remove({ kind: 'locks', name });
  } catch (error) {
    if (!storage.isNotFound(error)) throw error;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
