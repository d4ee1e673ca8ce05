import type { Kysely, Transaction } from 'kysely';
import {
  readListing,
  type CollectionItem,
  type CollectionRecord,
} from '../collections/collection-tree.js';
import { collectionItemKey } from '../collections/item-key.js';
import type { Repository } from '../repository/repository.js';
import type { CatalogSchema } from './schema.js';

type Db = Kysely<CatalogSchema> | Transaction<CatalogSchema>;

export interface CollectionIngestContext {
  db: Db;
  repository: Repository;
  accountId: number;
  source: string;
  account: string;
  time: number;
}

/**
 * Records an account snapshot's calendars and address books: properties over time, and each item
 * version's interval of presence. Only collections whose listing changed are compared item by item.
 */
export async function applyCollections(
  context: CollectionIngestContext,
  records: readonly CollectionRecord[],
): Promise<void> {
  const { db, accountId, time } = context;
  const open = await db
    .selectFrom('collection_states as s')
    .innerJoin('collections as c', 'c.id', 's.collection_id')
    .selectAll('s')
    .select(['c.kind', 'c.name'])
    .where('c.account_id', '=', accountId)
    .where('s.until_time', 'is', null)
    .execute();
  const openByName = new Map(open.map((row) => [`${row.kind}\0${row.name}`, row]));
  for (const record of records) {
    const previous = openByName.get(`${record.kind}\0${record.name}`);
    openByName.delete(`${record.kind}\0${record.name}`);
    const state = stateOf(record);
    if (previous && sameState(previous, state)) continue;
    const collectionId = previous?.collection_id ?? (await ensureCollection(db, accountId, record));
    if (previous) await closeCollection(db, collectionId, time);
    await db
      .insertInto('collection_states')
      .values({ collection_id: collectionId, from_time: time, until_time: null, ...state })
      .execute();
    if (previous?.listing !== state.listing)
      await diffItems(
        context,
        collectionId,
        record.name,
        await readListing(context.repository, record.listing),
      );
  }
  for (const gone of openByName.values()) {
    await closeCollection(db, gone.collection_id, time);
    await diffItems(context, gone.collection_id, gone.name, []);
  }
}

/** Forgets the account's collection intervals before its snapshots are applied again in order. */
export async function forgetCollectionStates(db: Db, accountId: number): Promise<void> {
  const collectionIds = db
    .selectFrom('collections')
    .select('id')
    .where('account_id', '=', accountId);
  const itemIds = db
    .selectFrom('collection_items')
    .select('id')
    .where('account_id', '=', accountId);
  await db.deleteFrom('collection_item_states').where('item_id', 'in', itemIds).execute();
  await db.deleteFrom('collection_states').where('collection_id', 'in', collectionIds).execute();
}

function stateOf(record: CollectionRecord) {
  return {
    href: record.href,
    display_name: record.displayName,
    color: record.color,
    description: record.description,
    components: record.components.join(' '),
    timezone: record.timezone,
    count: record.count,
    bytes: record.bytes,
    listing: record.listing,
  };
}

function sameState(a: ReturnType<typeof stateOf>, b: ReturnType<typeof stateOf>): boolean {
  return (Object.keys(b) as Array<keyof typeof b>).every((key) => a[key] === b[key]);
}

async function ensureCollection(
  db: Db,
  accountId: number,
  record: CollectionRecord,
): Promise<number> {
  const row = await db
    .selectFrom('collections')
    .select('id')
    .where('account_id', '=', accountId)
    .where('kind', '=', record.kind)
    .where('name', '=', record.name)
    .executeTakeFirst();
  if (row) return row.id;
  const inserted = await db
    .insertInto('collections')
    .values({ account_id: accountId, kind: record.kind, name: record.name })
    .returning('id')
    .executeTakeFirstOrThrow();
  return inserted.id;
}

async function closeCollection(db: Db, collectionId: number, time: number): Promise<void> {
  await db
    .updateTable('collection_states')
    .set({ until_time: time })
    .where('collection_id', '=', collectionId)
    .where('until_time', 'is', null)
    .execute();
}

async function diffItems(
  context: CollectionIngestContext,
  collectionId: number,
  collection: string,
  items: readonly CollectionItem[],
): Promise<void> {
  const { db, time } = context;
  const open = await db
    .selectFrom('collection_item_states as s')
    .innerJoin('collection_items as i', 'i.id', 's.item_id')
    .select(['s.id', 's.etag', 'i.key'])
    .where('i.collection_id', '=', collectionId)
    .where('s.until_time', 'is', null)
    .execute();
  const openByKey = new Map(open.map((row) => [row.key, row]));
  const toOpen: Array<{ key: string; item: CollectionItem }> = [];
  for (const item of items) {
    const key = collectionItemKey(
      context.source,
      context.account,
      collection,
      item.name,
      item.content.sha256,
    );
    const current = openByKey.get(key);
    openByKey.delete(key);
    if (current && current.etag === item.etag) continue;
    if (current) openByKey.set(key, current);
    toOpen.push({ key, item });
  }
  const stale = [...openByKey.values()].map((row) => row.id);
  if (stale.length > 0)
    await db
      .updateTable('collection_item_states')
      .set({ until_time: time })
      .where('id', 'in', stale)
      .execute();
  for (const { key, item } of toOpen) {
    const itemId = await ensureItem(context, collectionId, key, item);
    await db
      .insertInto('collection_item_states')
      .values({ item_id: itemId, from_time: time, until_time: null, etag: item.etag })
      .execute();
  }
}

async function ensureItem(
  context: CollectionIngestContext,
  collectionId: number,
  key: string,
  item: CollectionItem,
): Promise<number> {
  const known = await context.db
    .selectFrom('collection_items')
    .select('id')
    .where('key', '=', key)
    .executeTakeFirst();
  if (known) return known.id;
  const inserted = await context.db
    .insertInto('collection_items')
    .values({
      key,
      account_id: context.accountId,
      collection_id: collectionId,
      name: item.name,
      sha256: item.content.sha256,
      content: JSON.stringify(item.content),
      size: item.content.size,
      content_type: item.contentType,
      component: item.summary.component,
      uid: item.summary.uid,
      title: item.summary.title,
      location: item.summary.location,
      start: item.summary.start,
      people: item.summary.people.join('\n'),
      text: item.summary.text,
      broken: item.broken ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return inserted.id;
}
