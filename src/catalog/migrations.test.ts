import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { migrationProvider } from './migrations.js';

// A catalog made before a migration keeps working after it: 0006 counts the open states of the
// items already there, so that `search --deleted` finds what was deleted before the upgrade.

let dir: string;
let db: Kysely<unknown>;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailvault-migrations-'));
  db = new Kysely({
    dialect: new SqliteDialect({ database: new Database(join(dir, 'c.sqlite')) }),
  });
});
afterEach(async () => {
  await db.destroy();
  await rm(dir, { recursive: true, force: true });
});

it('counts the open states of items catalogued before 0006-item-presence', async () => {
  const migrator = new Migrator({ db, provider: migrationProvider });
  expect((await migrator.migrateTo('0005-search-by-date')).error).toBeUndefined();
  const item = (id: number, key: string): Promise<unknown> =>
    sql`INSERT INTO items (id, key, account_id, folder_id, sha256, manifest, size, internal_date, from_text, to_text, cc_text, subject, message_id)
        VALUES (${id}, ${key}, 1, 1, ${key}, 'm', 1, '2026-01-01T00:00:00.000Z', '', '', '', '', '')`.execute(
      db,
    );
  const state = (itemId: number, from: number, until: number | null): Promise<unknown> =>
    sql`INSERT INTO item_states (item_id, from_time, until_time, flags, uid) VALUES (${itemId}, ${from}, ${until}, '', 1)`.execute(
      db,
    );
  await item(1, 'present');
  await state(1, 1, 2);
  await state(1, 2, null);
  await item(2, 'expunged');
  await state(2, 1, 3);
  expect((await migrator.migrateToLatest()).error).toBeUndefined();
  const rows = await sql<{
    key: string;
    open_states: number;
  }>`SELECT key, open_states FROM items ORDER BY id`.execute(db);
  expect(rows.rows).toEqual([
    { key: 'present', open_states: 1 },
    { key: 'expunged', open_states: 0 },
  ]);
});
