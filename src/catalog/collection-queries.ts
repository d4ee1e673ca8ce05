import { sql, type Kysely } from 'kysely';
import type { StoredStream } from '../repository/stream-store.js';
import type { CatalogSchema } from './schema.js';

/** A calendar or address book as it was at a moment. */
export interface CollectionRow {
  kind: 'calendar' | 'addressbook';
  name: string;
  href: string;
  displayName: string | null;
  color: string | null;
  description: string | null;
  components: string[];
  timezone: string | null;
  count: number;
  bytes: number;
}

/** One version of a calendar or contact item. */
export interface CollectionItemRow {
  key: string;
  accountId: number;
  source: string;
  account: string;
  kind: 'calendar' | 'addressbook';
  collection: string;
  name: string;
  etag: string;
  component: string | null;
  uid: string | null;
  title: string;
  location: string;
  start: string | null;
  people: string[];
  size: number;
  contentType: string;
  content: StoredStream;
  broken: string | null;
  /** Present at the account's latest backup. */
  present: boolean;
  /** The latest backup that held it. */
  lastSeen: Date;
}

export interface CollectionSearch {
  accountIds?: number[];
  collection?: string;
  /** Words that must all appear in the title, location, people or text. */
  text?: string;
  title?: string;
  location?: string;
  /** An attendee or contact e-mail (or part of it). */
  person?: string;
  deleted?: boolean;
  limit: number;
}

const ITEM_COLUMNS = [
  'i.key',
  'a.id as account_id',
  'a.source',
  'a.name as account',
  'c.kind',
  'c.name as collection',
  'i.name',
  's.etag',
  'i.component',
  'i.uid',
  'i.title',
  'i.location',
  'i.start',
  'i.people',
  'i.size',
  'i.content_type',
  'i.content',
  'i.broken',
] as const;

/** Catalog queries over calendars and address books. */
export class CollectionQueries {
  constructor(private readonly db: Kysely<CatalogSchema>) {}

  async collectionsAt(accountId: number, time: number): Promise<CollectionRow[]> {
    const rows = await this.db
      .selectFrom('collection_states as s')
      .innerJoin('collections as c', 'c.id', 's.collection_id')
      .selectAll('s')
      .select(['c.kind', 'c.name'])
      .where('c.account_id', '=', accountId)
      .where('s.from_time', '<=', time)
      .where((eb) => eb.or([eb('s.until_time', 'is', null), eb('s.until_time', '>', time)]))
      .orderBy('c.kind')
      .orderBy('c.name')
      .execute();
    return rows.map((row) => ({
      kind: row.kind as CollectionRow['kind'],
      name: row.name,
      href: row.href,
      displayName: row.display_name,
      color: row.color,
      description: row.description,
      components: row.components ? row.components.split(' ') : [],
      timezone: row.timezone,
      count: Number(row.count),
      bytes: Number(row.bytes),
    }));
  }

  /** Items of one collection at a moment (`deleted`: those it held earlier but no longer). */
  async itemsAt(
    accountId: number,
    collection: { kind: string; name: string },
    time: number,
  ): Promise<CollectionItemRow[]> {
    return this.query()
      .where('a.id', '=', accountId)
      .where('c.kind', '=', collection.kind)
      .where('c.name', '=', collection.name)
      .where('s.from_time', '<=', time)
      .where((eb) => eb.or([eb('s.until_time', 'is', null), eb('s.until_time', '>', time)]))
      .orderBy('i.name')
      .execute()
      .then((rows) => rows.map(toRow));
  }

  async item(key: string): Promise<CollectionItemRow | null> {
    const row = await this.query()
      .where('i.key', '=', key)
      .orderBy('s.from_time', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? toRow(row) : null;
  }

  async search(criteria: CollectionSearch): Promise<CollectionItemRow[]> {
    let query = this.query().where(
      // One row per item version: its latest state.
      's.id',
      '=',
      sql<number>`(SELECT max(x.id) FROM collection_item_states x WHERE x.item_id = i.id)`,
    );
    if (criteria.accountIds) query = query.where('a.id', 'in', criteria.accountIds);
    if (criteria.collection) query = query.where('c.name', '=', criteria.collection);
    const like = (value: string) => `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    for (const word of words(criteria.text)) {
      query = query.where(
        sql<boolean>`(i.title LIKE ${like(word)} ESCAPE '\\' OR i.location LIKE ${like(word)} ESCAPE '\\' OR i.people LIKE ${like(word)} ESCAPE '\\' OR i.text LIKE ${like(word)} ESCAPE '\\')`,
      );
    }
    for (const word of words(criteria.title))
      query = query.where(sql<boolean>`i.title LIKE ${like(word)} ESCAPE '\\'`);
    for (const word of words(criteria.location))
      query = query.where(sql<boolean>`i.location LIKE ${like(word)} ESCAPE '\\'`);
    if (criteria.person)
      query = query.where(
        sql<boolean>`i.people LIKE ${like(criteria.person.toLowerCase())} ESCAPE '\\'`,
      );
    if (criteria.deleted) query = query.where('s.until_time', 'is not', null).where(notReplaced);
    return (
      await query
        .orderBy('a.name')
        .orderBy('c.name')
        .orderBy('i.name')
        .limit(criteria.limit)
        .execute()
    ).map(toRow);
  }

  /**
   * Items deleted from an account between two moments, as they were just before: versions whose
   * presence ended in the span with no other version under the same name taking over.
   */
  async deletedBetween(accountId: number, from: Date, to: Date): Promise<CollectionItemRow[]> {
    const rows = await this.query()
      .where('a.id', '=', accountId)
      .where('s.until_time', 'is not', null)
      .where('s.until_time', '>', from.getTime())
      .where(
        sql<number>`(SELECT max(sn.time) FROM snapshots sn WHERE sn.account_id = a.id AND sn.time < s.until_time)`,
        '<=',
        to.getTime(),
      )
      .where(notReplaced)
      .orderBy('c.name')
      .orderBy('i.name')
      .execute();
    return rows.map(toRow);
  }

  /** Every item version an account's collections ever held, with when it was first and last seen. */
  async everyVersion(
    accountId: number,
  ): Promise<Array<CollectionItemRow & { firstSeen: Date; displayName: string | null }>> {
    const rows = await this.query()
      .select([
        sql<number>`(SELECT min(x.from_time) FROM collection_item_states x WHERE x.item_id = i.id)`.as(
          'first_seen',
        ),
        sql<
          string | null
        >`(SELECT cs.display_name FROM collection_states cs WHERE cs.collection_id = c.id ORDER BY cs.from_time DESC LIMIT 1)`.as(
          'display_name',
        ),
      ])
      .where('a.id', '=', accountId)
      .where(
        's.id',
        '=',
        sql<number>`(SELECT max(x.id) FROM collection_item_states x WHERE x.item_id = i.id)`,
      )
      .orderBy('c.kind')
      .orderBy('c.name')
      .orderBy('i.name')
      .execute();
    return rows.map((row) => ({
      ...toRow(row),
      firstSeen: new Date(Number(row.first_seen)),
      displayName: row.display_name,
    }));
  }

  private query() {
    return this.db
      .selectFrom('collection_items as i')
      .innerJoin('collection_item_states as s', 's.item_id', 'i.id')
      .innerJoin('collections as c', 'c.id', 'i.collection_id')
      .innerJoin('accounts as a', 'a.id', 'i.account_id')
      .select([
        ...ITEM_COLUMNS,
        sql<number>`(SELECT max(sn.time) FROM snapshots sn WHERE sn.account_id = a.id AND sn.time >= s.from_time AND (s.until_time IS NULL OR sn.time < s.until_time))`.as(
          'last_seen',
        ),
        sql<number>`CASE WHEN s.until_time IS NULL AND a.gone_since IS NULL THEN 1 ELSE 0 END`.as(
          'present',
        ),
      ]);
  }
}

/** A state that ended without another version of the same name (or a re-tag) starting then. */
const notReplaced = sql<boolean>`NOT EXISTS (SELECT 1 FROM collection_item_states n JOIN collection_items ni ON ni.id = n.item_id WHERE ni.collection_id = i.collection_id AND ni.name = i.name AND n.from_time = s.until_time)`;

function words(value: string | undefined): string[] {
  return value?.toLowerCase().match(/[\p{L}\p{N}@._-]+/gu) ?? [];
}

function toRow(row: Record<string, unknown>): CollectionItemRow {
  return {
    key: String(row.key),
    accountId: Number(row.account_id),
    source: String(row.source),
    account: String(row.account),
    kind: row.kind as CollectionItemRow['kind'],
    collection: String(row.collection),
    name: String(row.name),
    etag: String(row.etag),
    component: (row.component as string | null) ?? null,
    uid: (row.uid as string | null) ?? null,
    title: String(row.title),
    location: String(row.location),
    start: (row.start as string | null) ?? null,
    people: row.people ? String(row.people).split('\n') : [],
    size: Number(row.size),
    contentType: String(row.content_type),
    content: JSON.parse(String(row.content)) as StoredStream,
    broken: (row.broken as string | null) ?? null,
    present: Number(row.present) === 1,
    lastSeen: new Date(Number(row.last_seen)),
  };
}
