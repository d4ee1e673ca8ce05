import Database from 'better-sqlite3';
import { Kysely, Migrator } from 'kysely';
import { CatalogError } from './catalog-error.js';
import { migrationProvider } from './migrations.js';
import { makeCatalogPrivate } from './private-file.js';
import type { PrivacyWarn } from '../storage/private-files.js';
import type { CatalogSchema } from './schema.js';
import { CatalogWriteError, explainSqliteError, SharedSqliteDialect } from './shared-sqlite.js';

/**
 * Opens (creating if needed) the catalog database and brings its schema up to date. The url is a
 * SQLite file path; the query layer is kysely, so a PostgreSQL dialect can sit beside this one.
 */
export async function openCatalogDatabase(
  url: string,
  warn?: PrivacyWarn,
): Promise<Kysely<CatalogSchema>> {
  if (/^postgres(ql)?:\/\//.test(url)) {
    throw new CatalogError(
      'catalog.url: PostgreSQL catalogs are not supported yet; use a SQLite file path',
    );
  }
  makeCatalogPrivate(url, warn);
  let sqlite: Database.Database;
  try {
    sqlite = new Database(url);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 30000');
  } catch (error) {
    const explained = explainSqliteError(error, url);
    if (explained !== error) throw explained;
    throw new CatalogError(
      `cannot open catalog ${url}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const db = new Kysely<CatalogSchema>({ dialect: new SharedSqliteDialect(sqlite, url) });
  const { error } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
  if (error) {
    await db.destroy();
    // A full disk is no configuration mistake: it says so itself, and fails the command (exit 1).
    if (error instanceof CatalogWriteError) throw error;
    throw new CatalogError(
      `cannot prepare catalog ${url}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return db;
}
