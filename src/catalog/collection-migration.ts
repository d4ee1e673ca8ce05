import type { Kysely, Migration } from 'kysely';

/**
 * Calendars, task lists and address books: collections with their properties over time, and
 * each version of each item with the intervals in which it was present. Kept apart from the
 * mail tables, whose rows (flags, UIDs, INTERNALDATE) mean nothing for DAV items.
 */
export const collectionsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('collections')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('account_id', 'integer', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addUniqueConstraint('collections_account_kind_name', ['account_id', 'kind', 'name'])
      .execute();
    await db.schema
      .createTable('collection_states')
      .addColumn('collection_id', 'integer', (c) => c.notNull())
      .addColumn('from_time', 'bigint', (c) => c.notNull())
      .addColumn('until_time', 'bigint')
      .addColumn('href', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text')
      .addColumn('color', 'text')
      .addColumn('description', 'text')
      .addColumn('components', 'text', (c) => c.notNull())
      .addColumn('timezone', 'text')
      .addColumn('count', 'bigint', (c) => c.notNull())
      .addColumn('bytes', 'bigint', (c) => c.notNull())
      .addColumn('listing', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('collection_states_collection')
      .on('collection_states')
      .columns(['collection_id', 'from_time'])
      .execute();
    await db.schema
      .createTable('collection_items')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('key', 'text', (c) => c.notNull().unique())
      .addColumn('account_id', 'integer', (c) => c.notNull())
      .addColumn('collection_id', 'integer', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('sha256', 'text', (c) => c.notNull())
      .addColumn('content', 'text', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('content_type', 'text', (c) => c.notNull())
      .addColumn('component', 'text')
      .addColumn('uid', 'text')
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('location', 'text', (c) => c.notNull())
      .addColumn('start', 'text')
      .addColumn('people', 'text', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('broken', 'text')
      .execute();
    await db.schema
      .createIndex('collection_items_collection')
      .on('collection_items')
      .columns(['collection_id', 'name'])
      .execute();
    await db.schema
      .createIndex('collection_items_account')
      .on('collection_items')
      .column('account_id')
      .execute();
    await db.schema
      .createTable('collection_item_states')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('item_id', 'integer', (c) => c.notNull())
      .addColumn('from_time', 'bigint', (c) => c.notNull())
      .addColumn('until_time', 'bigint')
      .addColumn('etag', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('collection_item_states_item')
      .on('collection_item_states')
      .columns(['item_id', 'until_time'])
      .execute();
  },
};
