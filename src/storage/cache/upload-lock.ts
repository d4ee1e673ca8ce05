import type BetterSqlite from 'better-sqlite3';
import { ensurePrivateFile, warnOnStderr, type PrivacyWarn } from '../private-files.js';

/** Lock files this process holds: a second SQLite connection here would release the first one's lock. */
const heldHere = new Set<string>();

/**
 * Keeps two processes from uploading one pending folder at once. The lock is an exclusive
 * transaction on an SQLite file in the cache folder: the system lock under it goes with the
 * process, so a process killed while uploading leaves nothing stale behind, and no process id is
 * trusted (it may have been reused). Within one process, the set above stands in for it: POSIX
 * locks belong to the process, and a failed attempt through a second connection would drop them.
 */
export class UploadLock {
  private db: BetterSqlite.Database | undefined;

  constructor(
    readonly path: string,
    private readonly warn: PrivacyWarn = warnOnStderr,
  ) {}

  get held(): boolean {
    return this.db !== undefined;
  }

  /** Takes the lock if it is free; false if another holder has it. */
  async tryAcquire(): Promise<boolean> {
    if (this.db) return true;
    if (heldHere.has(this.path)) return false;
    const { default: Sqlite } = await import('better-sqlite3');
    if (heldHere.has(this.path)) return false;
    // Made 0600 before SQLite opens it, which would give it 0644.
    ensurePrivateFile(this.path, 'the cache file', this.warn);
    if (heldHere.has(this.path)) return false;
    const db = new Sqlite(this.path, { timeout: 0 });
    try {
      db.exec('BEGIN EXCLUSIVE');
    } catch (error) {
      db.close();
      if ((error as { code?: unknown }).code === 'SQLITE_BUSY') return false;
      throw error;
    }
    heldHere.add(this.path);
    this.db = db;
    return true;
  }

  release(): void {
    if (!this.db) return;
    this.db.close();
    this.db = undefined;
    heldHere.delete(this.path);
  }
}
