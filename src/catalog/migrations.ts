import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { collectionsMigration } from './collection-migration.js';

/** Schema changes, in order. A catalog is a cache: a change may also just ask for a rebuild. */
const migrations: Record<string, Migration> = {
  '0001-initial': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('catalog_meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('accounts')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('first_seen', 'bigint', (c) => c.notNull())
        .addColumn('last_seen', 'bigint', (c) => c.notNull())
        .addColumn('gone_since', 'bigint')
        .addUniqueConstraint('accounts_source_name', ['source', 'name'])
        .execute();
      await db.schema
        .createTable('snapshots')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('time', 'bigint', (c) => c.notNull())
        .addColumn('run', 'text', (c) => c.notNull())
        .addColumn('tree', 'text', (c) => c.notNull())
        .addColumn('parent', 'text')
        .addColumn('items', 'bigint', (c) => c.notNull())
        .addColumn('bytes', 'bigint', (c) => c.notNull())
        .addColumn('new_items', 'bigint', (c) => c.notNull())
        .addColumn('bytes_added', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('snapshots_account_time')
        .on('snapshots')
        .columns(['account_id', 'time'])
        .execute();
      await db.schema
        .createTable('folders')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('account_id', 'integer', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addUniqueConstraint('folders_account_path', ['account_id', 'path'])
        .execute();
      await db.schema
        .createTable('folder_states')
        .addColumn('folder_id', 'integer', (c) => c.notNull())
        .addColumn('from_time', 'bigint', (c) => c.notNull())
        .addColumn('until_time', 'bigint')
        .addColumn('delimiter', 'text')
        .addColumn('special_use', 'text')
        .addColumn('subscribed', 'integer', (c) => c.notNull())
        .addColumn('attributes', 'text', (c) => c.notNull())
        .addColumn('count', 'bigint', (c) => c.notNull())
        .addColumn('bytes', 'bigint', (c) => c.notNull())
        .addColumn('listing', 'text')
        .execute();
      await db.schema
        .createIndex('folder_states_folder')
        .on('folder_states')
        .columns(['folder_id', 'from_time'])
        .execute();
      await db.schema
        .createTable('items')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('key', 'text', (c) => c.notNull().unique())
        .addColumn('account_id', 'integer', (c) => c.notNull())
        .addColumn('folder_id', 'integer', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('manifest', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('internal_date', 'text', (c) => c.notNull())
        .addColumn('sent_date', 'text')
        .addColumn('from_text', 'text', (c) => c.notNull())
        .addColumn('to_text', 'text', (c) => c.notNull())
        .addColumn('cc_text', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('items_folder').on('items').column('folder_id').execute();
      await db.schema.createIndex('items_account').on('items').column('account_id').execute();
      await db.schema
        .createTable('item_states')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('item_id', 'integer', (c) => c.notNull())
        .addColumn('from_time', 'bigint', (c) => c.notNull())
        .addColumn('until_time', 'bigint')
        .addColumn('flags', 'text', (c) => c.notNull())
        .addColumn('uid', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('item_states_item')
        .on('item_states')
        .columns(['item_id', 'from_time'])
        .execute();
    },
  },
  '0002-search': {
    async up(db: Kysely<unknown>): Promise<void> {
      // One text row per distinct message (by SHA-256): the same bytes in two folders are one text.
      await db.schema
        .createTable('message_texts')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('sha256', 'text', (c) => c.notNull().unique())
        .execute();
      // Contentless: the index only, the text itself stays in the repository.
      await sql`CREATE VIRTUAL TABLE message_fts USING fts5(from_text, to_text, subject, body, content='', tokenize='unicode61 remove_diacritics 2')`.execute(
        db,
      );
      await db.schema.createIndex('items_sha256').on('items').column('sha256').execute();
      await db.schema
        .createIndex('items_account_date')
        .on('items')
        .columns(['account_id', 'internal_date'])
        .execute();
      await db.schema
        .createIndex('item_states_open')
        .on('item_states')
        .columns(['item_id', 'until_time'])
        .execute();
    },
  },
  '0004-collections': collectionsMigration,
  '0005-search-by-date': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Searches list the newest first: with this index, one across all accounts (everything
      // deleted, a month, a common word) reads items newest first until its page is full,
      // instead of sorting a million of them.
      await db.schema.createIndex('items_date').on('items').column('internal_date').execute();
    },
  },
  '0006-item-presence': {
    async up(db: Kysely<unknown>): Promise<void> {
      // How many of an item's states are open (it is in its folder now): kept by triggers, so
      // that every way item_states changes (ingest, rebuild, removal of snapshots) keeps it
      // right. `search --deleted` then walks only the items no longer in their folder (a few in
      // a hundred) instead of testing every item's states.
      await db.schema
        .alterTable('items')
        .addColumn('open_states', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await sql`UPDATE items SET open_states = (SELECT count(*) FROM item_states s WHERE s.item_id = items.id AND s.until_time IS NULL)`.execute(
        db,
      );
      const change = (delta: string): string =>
        `UPDATE items SET open_states = open_states ${delta} WHERE id = `;
      await sql
        .raw(
          `CREATE TRIGGER item_states_opened AFTER INSERT ON item_states WHEN NEW.until_time IS NULL
           BEGIN ${change('+ 1')}NEW.item_id; END`,
        )
        .execute(db);
      await sql
        .raw(
          `CREATE TRIGGER item_states_closed AFTER UPDATE OF until_time ON item_states
           WHEN OLD.until_time IS NULL AND NEW.until_time IS NOT NULL
           BEGIN ${change('- 1')}NEW.item_id; END`,
        )
        .execute(db);
      await sql
        .raw(
          `CREATE TRIGGER item_states_reopened AFTER UPDATE OF until_time ON item_states
           WHEN OLD.until_time IS NOT NULL AND NEW.until_time IS NULL
           BEGIN ${change('+ 1')}NEW.item_id; END`,
        )
        .execute(db);
      await sql
        .raw(
          `CREATE TRIGGER item_states_removed AFTER DELETE ON item_states WHEN OLD.until_time IS NULL
           BEGIN ${change('- 1')}OLD.item_id; END`,
        )
        .execute(db);
      await sql`CREATE INDEX items_absent_date ON items (internal_date) WHERE open_states = 0`.execute(
        db,
      );
    },
  },
  '0007-run-files': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Snapshots that a run file stands for (an account found unchanged) come and go with that
      // file, not with a snapshot file of their own name.
      await db.schema.alterTable('snapshots').addColumn('run_file', 'text').execute();
      await db.schema
        .createIndex('snapshots_run_file')
        .on('snapshots')
        .column('run_file')
        .where(sql.ref('run_file'), 'is not', null)
        .execute();
    },
  },
  '0008-run-history': {
    async up(db: Kysely<unknown>): Promise<void> {
      // What happened when, for `status` and the daemon: a failed run leaves no snapshot, so the
      // snapshots alone cannot tell that last night's backup of an account failed.
      await db.schema
        .createTable('runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('started', 'bigint', (c) => c.notNull())
        .addColumn('finished', 'bigint', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('counts', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('hook', 'text')
        .execute();
      await db.schema
        .createIndex('runs_kind_started')
        .on('runs')
        .columns(['kind', 'started'])
        .execute();
      await db.schema
        .createTable('run_accounts')
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('started', 'bigint', (c) => c.notNull())
        .addColumn('ok', 'integer', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('snapshot', 'text')
        .execute();
      await db.schema
        .createIndex('run_accounts_account')
        .on('run_accounts')
        .columns(['source', 'name', 'started'])
        .execute();
      await db.schema.createIndex('run_accounts_run').on('run_accounts').column('run_id').execute();
    },
  },
  '0009-runs-in-progress': {
    async up(db: Kysely<unknown>): Promise<void> {
      // A run is recorded when it starts (outcome 'running'), so that one killed before it could
      // record its end still shows, as interrupted: who runs it (host and process id) and when it
      // last said it was alive tell a run in progress from one that died. Runs recorded before
      // have none of the three, and had all ended.
      await db.schema.alterTable('runs').addColumn('host', 'text').execute();
      await db.schema.alterTable('runs').addColumn('pid', 'integer').execute();
      await db.schema.alterTable('runs').addColumn('heartbeat', 'bigint').execute();
    },
  },
  '0010-backup-claims': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Backup runs at the same moment take turns per account (and file set, and command): the
      // run that backs one up holds it here until its snapshot is recorded (run-history-claims.ts).
      await db.schema
        .createTable('backup_claims')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('since', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('backup_claims_part', ['source', 'name'])
        .execute();
      await db.schema
        .createIndex('backup_claims_run')
        .on('backup_claims')
        .column('run_id')
        .execute();
    },
  },
  '0011-sync-resume': {
    async up(db: Kysely<unknown>): Promise<void> {
      // A sync or rebuild killed midway must end equal to the repository when run again. A run
      // file is read again until every one of its entries is recorded (a catalog from before
      // this has none listed, so its next sync reads each run file once and adds what an
      // interrupted sync left out); an account whose history must be replayed stays listed until
      // the replay is done.
      await db.schema
        .createTable('recorded_run_files')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .execute();
      await db.schema
        .createTable('pending_replays')
        .addColumn('account_id', 'integer', (c) => c.primaryKey())
        .execute();
    },
  },
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(migrations),
};
