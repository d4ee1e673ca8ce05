import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCatalogDatabase } from './open-catalog.js';
import { CatalogWriteError } from './shared-sqlite.js';

// The catalog as two processes share it, and as a full disk leaves it. The other process is a
// second connection to the same file; "full" is SQLite's own limit on the database's size
// (max_page_count), which fails a write exactly as a full file system does (SQLITE_FULL). The
// integration test test/integration/full-disk.test.ts fills a real file system.

let dir: string;
let path: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailvault-shared-sqlite-'));
  path = join(dir, 'catalog.sqlite');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a catalog shared with another process', () => {
  it('a transaction that reads, then writes, is not failed by a write of the other in between', async () => {
    const db = await openCatalogDatabase(path);
    const other = new Database(path);
    other.pragma('busy_timeout = 0');
    let otherWrote: boolean | undefined;
    try {
      await db.transaction().execute(async (trx) => {
        await trx.selectFrom('catalog_meta').selectAll().execute();
        try {
          other.prepare("INSERT INTO catalog_meta (key, value) VALUES ('other', 'x')").run();
          otherWrote = true;
        } catch {
          otherWrote = false; // it waits for the transaction (with no patience here: refused)
        }
        await trx.insertInto('catalog_meta').values({ key: 'mine', value: 'y' }).execute();
      });
    } finally {
      other.close();
    }
    expect(otherWrote).toBe(false);
    const keys = await db.selectFrom('catalog_meta').select('key').execute();
    expect(keys.map((row) => row.key)).toContain('mine');
    await db.destroy();
  });
});

describe('a catalog that cannot grow', () => {
  it('says so, with its path, instead of "cannot rollback - no transaction is active"', async () => {
    const db = await openCatalogDatabase(path);
    // Room for nothing more: the next page the catalog needs is refused.
    await sql`PRAGMA max_page_count = ${sql.raw(String(pageCount(path)))}`.execute(db);
    const failure = await db
      .transaction()
      .execute(async (trx) => {
        for (let i = 0; i < 2000; i++)
          await trx
            .insertInto('catalog_meta')
            .values({ key: `k${i}`, value: 'v'.repeat(500) })
            .execute();
      })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CatalogWriteError);
    expect((failure as CatalogWriteError).code).toBe('SQLITE_FULL');
    expect((failure as Error).message).toBe(
      `cannot write to the catalog ${path}: no space left on the file system of ${dir} (database or disk is full); free some space there and run the command again`,
    );
    // Nothing of the failed transaction stayed, and the catalog goes on.
    expect(await db.selectFrom('catalog_meta').select('key').execute()).toEqual([]);
    await db.insertInto('catalog_meta').values({ key: 'small', value: 'v' }).execute();
    await db.destroy();
  });
});

function pageCount(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('page_count', { simple: true }) as number;
  } finally {
    db.close();
  }
}
