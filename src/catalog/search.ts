import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { CatalogSchema } from './schema.js';

/** What `mailvault search` asks for. Text criteria match words (and word beginnings). */
export interface SearchCriteria {
  accountIds?: number[];
  folder?: string;
  from?: string;
  to?: string;
  subject?: string;
  text?: string;
  after?: Date;
  before?: Date;
  /** Only items no longer on the server (expunged, their folder or account gone; not moved). */
  deleted?: boolean;
  limit: number;
}

export interface SearchHit {
  key: string;
  source: string;
  account: string;
  folder: string;
  internalDate: string;
  from: string;
  to: string;
  subject: string;
  size: number;
  /** Still on the server at the account's latest backup. */
  present: boolean;
  /** The latest backup that held it. */
  lastSeen: Date;
}

/**
 * A full-text query for FTS5 from what a user typed: each word must appear, as a word or the start
 * of one, in the given column (or any). Quoting every word keeps FTS5's own syntax out of reach.
 */
export function ftsQuery(
  criteria: Pick<SearchCriteria, 'from' | 'to' | 'subject' | 'text'>,
): string | null {
  const clauses: string[] = [];
  const words = (value: string): string[] => value.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const clause = (column: string | null, value: string | undefined): void => {
    if (value === undefined) return;
    const terms = words(value).map((word) => `"${word}"*`);
    if (terms.length === 0) return;
    clauses.push(column ? `${column} : (${terms.join(' AND ')})` : `(${terms.join(' AND ')})`);
  };
  clause('from_text', criteria.from);
  clause('to_text', criteria.to);
  clause('subject', criteria.subject);
  clause(null, criteria.text);
  return clauses.length > 0 ? clauses.join(' AND ') : null;
}

type Db = Kysely<CatalogSchema>;

/** Texts matching a full-text query, counted up to `cap` (counting further would cost more). */
async function countMatches(db: Db, match: string, cap: number): Promise<number> {
  const row = await sql<{
    n: number;
  }>`SELECT count(*) AS n FROM (SELECT rowid FROM message_fts WHERE message_fts MATCH ${match} LIMIT ${cap})`.execute(
    db,
  );
  return Number(row.rows[0]?.n ?? 0);
}

/** About how many items the catalog holds: from the ids, without counting a million rows. */
async function itemCount(db: Db): Promise<number> {
  // Two subqueries: SQLite reads min() and max() from the ends of the key only when alone.
  const row = await sql<{
    n: number | null;
  }>`SELECT (SELECT max(id) FROM items) - (SELECT min(id) FROM items) + 1 AS n`.execute(db);
  return Number(row.rows[0]?.n ?? 0);
}

/**
 * The condition for items whose text matches, or null when no text does. Few matching texts:
 * from the full-text index to their items, which are then sorted. Many (a common word): walk
 * the items newest first, testing each against the set of matching texts, until the page is
 * full (a word in a third of a million messages took seconds the first way, a tenth of a second
 * this way). The first way costs a lookup per match; the second, a look at each item it passes,
 * about page size × items / matches of them, and as many more again as the other criteria turn
 * away: --deleted keeps a few items in a hundred, so it counts here as keeping one in twenty. The
 * switch-over is where the two costs meet: for a million items and a page of 100, at ten
 * thousand matches (45,000 with --deleted), a few tenths of a second at most either way. SQLite
 * cannot make this choice itself: it cannot know how many texts a MATCH will find.
 */
async function textCondition(
  db: Db,
  match: string,
  criteria: SearchCriteria,
): Promise<RawBuilder<boolean> | null> {
  const kept = criteria.deleted ? 1 / 20 : 1;
  const items = Math.max(1, await itemCount(db));
  const threshold = Math.ceil(Math.sqrt((criteria.limit * items) / kept));
  const matches = await countMatches(db, match, threshold + 1);
  if (matches === 0) return null;
  const texts = sql`(SELECT rowid FROM message_fts WHERE message_fts MATCH ${match})`;
  if (matches <= threshold)
    return sql<boolean>`i.sha256 IN (SELECT t.sha256 FROM message_texts t WHERE t.id IN ${texts})`;
  // Each item's text id, tested against the matching ids (read once, kept as a set).
  return sql<boolean>`(SELECT t.id FROM message_texts t WHERE t.sha256 = i.sha256) IN ${texts}`;
}

export async function searchItems(db: Db, criteria: SearchCriteria): Promise<SearchHit[]> {
  const match = ftsQuery(criteria);
  const textCriteria = [criteria.from, criteria.to, criteria.subject, criteria.text].some(
    (value) => value !== undefined,
  );
  if (textCriteria && match === null) return [];
  const text = match === null ? undefined : await textCondition(db, match, criteria);
  if (text === null) return [];
  // An item is on the server while it has an open state and its account still exists.
  const open = sql<number>`(EXISTS (SELECT 1 FROM item_states o WHERE o.item_id = i.id AND o.until_time IS NULL)
      AND (SELECT g.gone_since FROM accounts g WHERE g.id = i.account_id) IS NULL)`;
  // The same bytes still present elsewhere in the account: the message was moved, not deleted.
  // Looked up by the message's SHA-256 (a handful of items), not by the account (all of its
  // items for every candidate): the unary + keeps SQLite from picking the account's index.
  const elsewhere = sql<number>`EXISTS (SELECT 1 FROM items j JOIN item_states oj ON oj.item_id = j.id
      WHERE j.sha256 = i.sha256 AND +j.account_id = i.account_id AND j.id <> i.id AND oj.until_time IS NULL)`;
  // First the page: the ids of the matching items, newest first, with only what the criteria
  // need. Then the columns shown, and what each costs to work out, for those items alone.
  let page = db.selectFrom('items as i').select('i.id');
  if (text) page = page.where(text);
  if (criteria.accountIds)
    page = page.where(
      'i.account_id',
      'in',
      criteria.accountIds.length > 0 ? criteria.accountIds : [-1],
    );
  if (criteria.folder !== undefined) {
    const folder = criteria.folder;
    page = page.where('i.folder_id', 'in', (eb) =>
      eb.selectFrom('folders').select('id').where('path', '=', folder),
    );
  }
  if (criteria.after) page = page.where('i.internal_date', '>=', criteria.after.toISOString());
  if (criteria.before) page = page.where('i.internal_date', '<', criteria.before.toISOString());
  if (criteria.deleted) page = page.where(sql<boolean>`NOT ${open} AND NOT ${elsewhere}`);
  const ids = page.orderBy('i.internal_date', 'desc').orderBy('i.key').limit(criteria.limit);
  const rows = await db
    .selectFrom(ids.as('p'))
    .innerJoin('items as i', 'i.id', 'p.id')
    .innerJoin('accounts as a', 'a.id', 'i.account_id')
    .innerJoin('folders as f', 'f.id', 'i.folder_id')
    .select([
      'i.key',
      'a.source',
      'a.name as account',
      'f.path as folder',
      'i.internal_date',
      'i.from_text',
      'i.to_text',
      'i.subject',
      'i.size',
      open.as('present'),
      sql<number>`(SELECT max(s.from_time) FROM item_states s WHERE s.item_id = i.id)`.as(
        'last_from',
      ),
      sql<
        number | null
      >`(SELECT CASE WHEN count(*) = count(s.until_time) THEN max(s.until_time) END FROM item_states s WHERE s.item_id = i.id)`.as(
        'gone_at',
      ),
    ])
    .orderBy('i.internal_date', 'desc')
    .orderBy('i.key')
    .execute();
  const hits: SearchHit[] = [];
  for (const row of rows) {
    const present = Number(row.present) === 1;
    // Last seen: the last backup of the account before the item was found gone (or its latest).
    const before = row.gone_at === null || present ? null : Number(row.gone_at);
    const seen = await db
      .selectFrom('snapshots as s')
      .innerJoin('accounts as a2', 'a2.id', 's.account_id')
      .select((eb) => eb.fn.max('s.time').as('time'))
      .where('a2.name', '=', row.account)
      .where('a2.source', '=', row.source)
      .where('s.time', before === null ? '>=' : '<', before ?? Number(row.last_from))
      .executeTakeFirst();
    hits.push({
      key: row.key,
      source: row.source,
      account: row.account,
      folder: row.folder,
      internalDate: row.internal_date,
      from: row.from_text,
      to: row.to_text,
      subject: row.subject,
      size: Number(row.size),
      present,
      lastSeen: new Date(Number(seen?.time ?? row.last_from)),
    });
  }
  return hits;
}
