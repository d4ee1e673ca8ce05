import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
} from 'kysely';

/**
 * A SQLite catalog as several mailvault processes share it (two backups at once, a backup beside
 * `status` or the daemon), and as a full disk leaves it.
 *
 * - Transactions begin IMMEDIATE, taking the write lock at once: a transaction that read first and
 *   wrote later (kysely's plain `begin`) cannot wait for another writer (SQLite gives up at once
 *   with "database is locked", whatever busy_timeout says, since its snapshot is out of date),
 *   whereas one waiting for the lock does wait, up to busy_timeout.
 * - SQLite rolls a transaction back by itself when a write fails for want of space; rolling back
 *   again ("cannot rollback - no transaction is active") would hide why.
 * - A failed write says what the user can act on: the catalog's path, and that its disk is full.
 */
export class SharedSqliteDialect extends SqliteDialect {
  constructor(
    private readonly database: Database.Database,
    private readonly path: string,
  ) {
    super({ database });
  }

  override createDriver(): Driver {
    return new SharedSqliteDriver(this.database, this.path);
  }
}

/** A write to the catalog failed (no space, a read-only file system...): exit code 1. */
export class CatalogWriteError extends Error {
  constructor(
    message: string,
    /** SQLite's result code, e.g. SQLITE_FULL. */
    readonly code: string,
  ) {
    super(message);
    this.name = 'CatalogWriteError';
  }
}

class SharedSqliteDriver extends SqliteDriver {
  private explaining?: DatabaseConnection;

  constructor(
    private readonly database: Database.Database,
    private readonly path: string,
  ) {
    super({ database });
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await super.acquireConnection();
    this.explaining ??= explainingConnection(connection, this.path);
    return this.explaining;
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (this.database.inTransaction) await super.rollbackTransaction(connection);
  }
}

/** The connection, with SQLite's errors turned into what the user can act on. */
function explainingConnection(connection: DatabaseConnection, path: string): DatabaseConnection {
  return {
    async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
      try {
        return await connection.executeQuery<R>(query);
      } catch (error) {
        throw explainSqliteError(error, path);
      }
    },
    async *streamQuery<R>(query: CompiledQuery, chunkSize?: number) {
      try {
        yield* connection.streamQuery<R>(query, chunkSize);
      } catch (error) {
        throw explainSqliteError(error, path);
      }
    },
  };
}

/**
 * SQLite's words for a write that could not be made, with the catalog's path and what to do;
 * other errors as they are.
 */
export function explainSqliteError(error: unknown, path: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !(error instanceof Error)) return error;
  const said = error.message;
  // SQLite says SQLITE_FULL only for the database and its journal; the WAL's shared-memory file
  // failing to grow says "disk I/O error" (SQLITE_IOERR_SHMSIZE): the file system says which.
  if (code === 'SQLITE_FULL' || (code.startsWith('SQLITE_IOERR') && noSpaceLeft(dirname(path))))
    return new CatalogWriteError(
      `cannot write to the catalog ${path}: no space left on the file system of ${dirname(path)} (${said}); free some space there and run the command again`,
      code,
    );
  if (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_READONLY')
    return new CatalogWriteError(`cannot write to the catalog ${path}: ${said} (${code})`, code);
  if (code === 'SQLITE_BUSY')
    return new CatalogWriteError(
      `the catalog ${path} stayed locked by another process for longer than mailvault waits (${said})`,
      code,
    );
  return error;
}

/** Below this, a failed write in the folder is taken for a full disk (SQLite writes pages of 4 KiB). */
const NEARLY_FULL_BYTES = 64 * 1024;

/** Whether the file system of the folder has (next to) no space left for its user. */
function noSpaceLeft(folder: string): boolean {
  try {
    const fs = statfsSync(folder);
    return fs.bavail * fs.bsize < NEARLY_FULL_BYTES;
  } catch {
    return false;
  }
}
