import { sql, type Kysely } from 'kysely';
import { KNOWN_SNAPSHOT_KINDS } from '../repository/snapshot/snapshot-kind.js';
import type { CatalogSchema } from './schema.js';
import { pageIds } from './search-page.js';

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

export async function searchItems(db: Db, criteria: SearchCriteria): Promise<SearchHit[]> {
  const match = ftsQuery(criteria);
  const textCriteria = [criteria.from, criteria.to, criteria.subject, criteria.text].some(
    (value) => value !== undefined,
  );
  if (textCriteria && match === null) return [];
  const ids = await pageIds(db, criteria, match);
  if (ids.length === 0) return [];
  // On the server: in a folder now, in an account still on its server.
  const open = sql<number>`(i.open_states > 0 AND (SELECT g.gone_since FROM accounts g WHERE g.id = i.account_id) IS NULL)`;
  const rows = await db
    .selectFrom('items as i')
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
    // As one JSON parameter: a page may be larger than SQLite's limit on parameters.
    .where(sql<boolean>`i.id IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`)
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
      .where('s.kind', 'in', KNOWN_SNAPSHOT_KINDS)
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
