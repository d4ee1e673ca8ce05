import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCatalogDatabase } from './open-catalog.js';
import type { CatalogSchema } from './schema.js';
import { searchItems, type SearchCriteria } from './search.js';

// Searches over a catalog written directly: the results must not depend on which way a query
// finds its items (from the full-text index, or walking the items newest first), and --deleted
// must stay a walk along the dates, not a comparison of every candidate with its whole account.

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

interface MessageSpec {
  folder: string;
  /** Days after T0 (the item's INTERNALDATE). */
  day: number;
  body: string;
  sha256?: string;
  /** Days after T0 from which it is no longer in its folder. */
  until?: number;
}

describe('searchItems', () => {
  let dir: string;
  let db: Kysely<CatalogSchema>;
  let next = 0;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailvault-search-'));
    db = await openCatalogDatabase(join(dir, 'catalog.sqlite'));
  });
  afterEach(async () => {
    await db.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  async function account(name: string, gone = false): Promise<number> {
    const row = await db
      .insertInto('accounts')
      .values({
        source: 'mail1',
        name,
        first_seen: T0,
        last_seen: T0,
        gone_since: gone ? T0 : null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('snapshots')
      .values({
        id: `snapshot-${name}`,
        account_id: row.id,
        kind: 'account',
        time: T0 + 100 * DAY,
        run: 'run',
        tree: 'tree',
        parent: null,
        items: 0,
        bytes: 0,
        new_items: 0,
        bytes_added: 0,
      })
      .execute();
    return row.id;
  }

  async function folder(accountId: number, path: string): Promise<number> {
    const found = await db
      .selectFrom('folders')
      .select('id')
      .where('account_id', '=', accountId)
      .where('path', '=', path)
      .executeTakeFirst();
    if (found) return found.id;
    const row = await db
      .insertInto('folders')
      .values({ account_id: accountId, path })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** Adds a message (its text once per SHA-256) and returns its item key. */
  async function message(accountId: number, spec: MessageSpec): Promise<string> {
    const n = next++;
    const key = n.toString(16).padStart(16, '0');
    const sha256 = spec.sha256 ?? `sha-${n}`;
    const item = await db
      .insertInto('items')
      .values({
        key,
        account_id: accountId,
        folder_id: await folder(accountId, spec.folder),
        sha256,
        manifest: `manifest-${n}`,
        size: 1000,
        internal_date: new Date(T0 + spec.day * DAY).toISOString(),
        sent_date: null,
        from_text: 'Carol <carol@example.org>',
        to_text: 'alice@example.com',
        cc_text: '',
        subject: `message ${n}`,
        message_id: `<${n}@example.org>`,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('item_states')
      .values({
        item_id: item.id,
        from_time: T0 + spec.day * DAY,
        until_time: spec.until === undefined ? null : T0 + spec.until * DAY,
        flags: '\\Seen',
        uid: n + 1,
      })
      .execute();
    const text = await db
      .selectFrom('message_texts')
      .select('id')
      .where('sha256', '=', sha256)
      .executeTakeFirst();
    if (!text) {
      const row = await db
        .insertInto('message_texts')
        .values({ sha256 })
        .returning('id')
        .executeTakeFirstOrThrow();
      await sql`INSERT INTO message_fts (rowid, from_text, to_text, subject, body) VALUES (${row.id}, 'Carol', 'alice', ${`message ${n}`}, ${spec.body})`.execute(
        db,
      );
    }
    return key;
  }

  const keys = async (criteria: Omit<SearchCriteria, 'limit'>, limit: number): Promise<string[]> =>
    (await searchItems(db, { ...criteria, limit })).map((hit) => hit.key);

  it('finds a common word and a rare one the same way whichever way it looks, newest first', async () => {
    const alice = await account('alice');
    const byDay = new Map<number, string>();
    const rare: string[] = [];
    // 300 messages with a common word, one a day in shuffled order; every 100th also a rare word.
    for (let i = 0; i < 300; i++) {
      const day = (i * 7) % 300;
      const body = `weekly status deadline${day % 100 === 0 ? ' zanzibar' : ''}`;
      const key = await message(alice, { folder: i % 2 ? 'INBOX' : 'Work', day, body });
      byDay.set(day, key);
      if (day % 100 === 0) rare.push(key);
    }
    const newestFirst = [...byDay.entries()].sort((a, b) => b[0] - a[0]).map(([, key]) => key);
    // A page of 10 of 300 matches walks the items newest first; a page of 400 goes through the
    // full-text index and sorts: the first ten are the same.
    expect(await keys({ text: 'deadline' }, 10)).toEqual(newestFirst.slice(0, 10));
    expect(await keys({ text: 'deadline' }, 400)).toEqual(newestFirst);
    expect(await keys({ text: 'zanzibar' }, 10)).toEqual(
      newestFirst.filter((key) => rare.includes(key)),
    );
    expect(await keys({ text: 'deadline', folder: 'Work' }, 5)).toEqual(
      newestFirst
        .filter((key) => [...byDay].some(([d, k]) => k === key && d % 2 === 0))
        .slice(0, 5),
    );
    expect(await keys({ text: 'nowhere' }, 10)).toEqual([]);
  });

  it('finds expunged mail and mail of a removed account as deleted, moved mail not', async () => {
    const alice = await account('alice');
    const gone = await account('bob', true);
    const kept = await message(alice, { folder: 'INBOX', day: 1, body: 'kept' });
    const expunged = await message(alice, { folder: 'INBOX', day: 2, body: 'gone', until: 50 });
    await message(alice, { folder: 'INBOX', day: 3, body: 'moved', sha256: 'm', until: 50 });
    const moved = await message(alice, { folder: 'Archive', day: 3, body: 'moved', sha256: 'm' });
    const bobs = await message(gone, { folder: 'INBOX', day: 4, body: 'bob' });
    for (let day = 5; day < 200; day++)
      await message(alice, { folder: 'INBOX', day, body: 'filler' });
    expect(await keys({ deleted: true }, 10)).toEqual([bobs, expunged]);
    expect(await keys({ deleted: true, accountIds: [alice] }, 10)).toEqual([expunged]);
    const hits = await searchItems(db, { deleted: true, limit: 10 });
    expect(hits.map((hit) => hit.present)).toEqual([false, false]);
    const present = await searchItems(db, { text: 'moved kept', limit: 10 });
    expect(present).toEqual([]);
    expect((await searchItems(db, { text: 'moved', limit: 10 })).map((h) => h.key)).toContain(
      moved,
    );
    expect((await searchItems(db, { text: 'kept', limit: 10 }))[0]?.key).toBe(kept);
  });

  it('looks for moved copies by the message and walks the dates, not whole accounts', async () => {
    const alice = await account('alice');
    for (let day = 0; day < 50; day++)
      await message(alice, { folder: 'INBOX', day, body: 'x', until: day % 5 ? undefined : 60 });
    // The same file through a second connection that records each statement, to ask SQLite how
    // it runs them. Without statistics its plans do not depend on how many rows there are: a
    // plan that compares each candidate with every item of its account (what made --deleted
    // take hours over a million items) would show here.
    const raw = new Database(join(dir, 'catalog.sqlite'));
    const statements: Array<{ sql: string; parameters: readonly unknown[] }> = [];
    const logged = new Kysely<CatalogSchema>({
      dialect: new SqliteDialect({ database: raw }),
      log: (event) => {
        if (event.level === 'query') statements.push(event.query);
      },
    });
    try {
      expect(await searchItems(logged, { deleted: true, limit: 5 })).toHaveLength(5);
      const plans = statements.flatMap(({ sql: text, parameters }) =>
        (
          raw.prepare(`EXPLAIN QUERY PLAN ${text}`).all(...parameters) as Array<{ detail: string }>
        ).map((row) => row.detail),
      );
      expect(plans).toContain('SEARCH j USING INDEX items_sha256 (sha256=?)');
      // The walk passes only the items out of every folder, along their own index.
      expect(plans).toContain('SCAN i USING INDEX items_absent_date');
      // And the moved-copy test looks at the message's copies, never at the whole account.
      const movedCheck = statements.find((s) => s.sql.includes('j.sha256 = i.sha256'));
      expect(movedCheck).toBeDefined();
      const movedPlan = (
        raw
          .prepare(`EXPLAIN QUERY PLAN ${movedCheck?.sql ?? ''}`)
          .all(...(movedCheck?.parameters ?? [])) as Array<{ detail: string }>
      ).map((row) => row.detail);
      expect(movedPlan.filter((detail) => /items_account\b/.test(detail))).toEqual([]);
    } finally {
      await logged.destroy();
    }
  });

  it('starts from a small folder when a common word would mean walking every item', async () => {
    const alice = await account('alice');
    // Three old messages in a small folder; three hundred newer ones with the same word.
    const old = [];
    for (let day = 0; day < 3; day++)
      old.push(await message(alice, { folder: 'Old', day, body: 'deadline' }));
    for (let day = 10; day < 310; day++)
      await message(alice, { folder: 'INBOX', day, body: 'deadline' });
    const raw = new Database(join(dir, 'catalog.sqlite'));
    const statements: string[] = [];
    const logged = new Kysely<CatalogSchema>({
      dialect: new SqliteDialect({ database: raw }),
      log: (event) => {
        if (event.level === 'query') statements.push(event.query.sql);
      },
    });
    try {
      const hits = await searchItems(logged, { text: 'deadline', folder: 'Old', limit: 10 });
      expect(hits.map((hit) => hit.key)).toEqual([...old].reverse());
      // The page is taken from the folder's items (sorted), not from a walk along the dates.
      const page = statements.find((text) => text.includes('ORDER BY +i.internal_date'));
      expect(page).toContain('j.folder_id IN');
    } finally {
      await logged.destroy();
    }
  });

  it("keeps each item's count of open states through every change to its states", async () => {
    const alice = await account('alice');
    const key = await message(alice, { folder: 'INBOX', day: 1, body: 'x' });
    const openStates = async (): Promise<number> =>
      (
        await db
          .selectFrom('items')
          .select('open_states')
          .where('key', '=', key)
          .executeTakeFirstOrThrow()
      ).open_states;
    const item = await db
      .selectFrom('items')
      .select('id')
      .where('key', '=', key)
      .executeTakeFirstOrThrow();
    expect(await openStates()).toBe(1);
    await db
      .updateTable('item_states')
      .set({ until_time: T0 + 5 * DAY })
      .where('item_id', '=', item.id)
      .execute();
    expect(await openStates()).toBe(0);
    await db
      .updateTable('item_states')
      .set({ until_time: null })
      .where('item_id', '=', item.id)
      .execute();
    expect(await openStates()).toBe(1);
    // A flag change: the old state closes and a new one opens.
    await db
      .updateTable('item_states')
      .set({ until_time: T0 + 6 * DAY })
      .where('item_id', '=', item.id)
      .execute();
    await db
      .insertInto('item_states')
      .values({ item_id: item.id, from_time: T0 + 6 * DAY, until_time: null, flags: '', uid: 9 })
      .execute();
    expect(await openStates()).toBe(1);
    await db.deleteFrom('item_states').where('item_id', '=', item.id).execute();
    expect(await openStates()).toBe(0);
    expect(await keys({ deleted: true }, 10)).toEqual([key]);
  });
});
