import { sql, type Kysely } from 'kysely';
import type { Repository } from '../repository/repository.js';
import { expandRunFile } from '../repository/snapshot/run-file.js';
import type { Snapshot } from '../repository/snapshot/snapshot.js';
import type { PrivacyWarn } from '../storage/private-files.js';
import type { Storage } from '../storage/storage.js';
import { ingestSnapshot, replayAccount, replayPending, type IngestHints } from './ingest.js';
import { KNOWN_SNAPSHOT_KINDS } from '../repository/snapshot/snapshot-kind.js';
import { CatalogError } from './catalog-error.js';
import { CollectionQueries } from './collection-queries.js';
import { deletedBetween, type DeletedItem } from './deletions.js';
import { RunHistory } from './run-history.js';
import { searchItems, type SearchCriteria, type SearchHit } from './search.js';
import { TextIndexer } from './text-index.js';
import {
  ITEM_COLUMNS,
  SNAPSHOT_COLUMNS,
  toItemRow,
  toSnapshotRow,
  type AccountRow,
  type FolderRow,
  type ItemHistoryRow,
  type ItemRow,
  type SnapshotRow,
  type SyncResult,
} from './rows.js';
import { openCatalogDatabase } from './open-catalog.js';
import type { CatalogSchema } from './schema.js';

/**
 * Snapshot sources of file sets and command outputs: they share the accounts table (a set is
 * "an account" of its snapshots) but are not mail accounts, and never listed as such.
 */
export const SET_SOURCES = ['files', 'commands'] as const;

/** catalog_meta's key for a rebuild under way (its value: when it began). */
const REBUILDING = 'rebuild-started';

/**
 * The catalog: a local, rebuildable database answering "what was where, when" without reading
 * the repository. Everything in it is derived from the repository's snapshots.
 */
export type {
  AccountRow,
  FolderRow,
  ItemHistoryRow,
  ItemRow,
  SearchCriteria,
  SearchHit,
  SnapshotRow,
  SyncResult,
};

export class Catalog {
  /** Calendars and address books. */
  readonly collections: CollectionQueries;
  /** Runs of backups and other operations, and how each went (kept by `rebuild`). */
  readonly runs: RunHistory;

  private constructor(readonly db: Kysely<CatalogSchema>) {
    this.collections = new CollectionQueries(db);
    this.runs = new RunHistory(db);
  }

  /** `warn` hears that an existing catalog file was readable by others and has been tightened. */
  static async open(url: string, warn?: PrivacyWarn): Promise<Catalog> {
    return new Catalog(await openCatalogDatabase(url, warn));
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  /** Ties the catalog to one repository; a catalog of another repository is refused. */
  async bind(repositoryId: string, catalogUrl: string): Promise<void> {
    const row = await this.db
      .selectFrom('catalog_meta')
      .select('value')
      .where('key', '=', 'repository')
      .executeTakeFirst();
    if (!row) {
      await this.db
        .insertInto('catalog_meta')
        .values({ key: 'repository', value: repositoryId })
        .execute();
    } else if (row.value !== repositoryId) {
      throw new CatalogError(
        `the catalog ${catalogUrl} belongs to another repository (${row.value}); set catalog.url to another file, or run \`mailvault catalog rebuild\``,
      );
    }
  }

  /** Records one snapshot the caller has in hand (`runFile`: the run file that holds it). */
  async ingest(
    repository: Repository,
    entry: { id: string; snapshot: Snapshot; runFile?: string },
    hints?: IngestHints,
  ): Promise<void> {
    await ingestSnapshot(this.db, repository, entry, hints);
  }

  /** Notes run files every entry of which was recorded by ingest(): sync passes over them. */
  async runFilesRecorded(names: readonly string[]): Promise<void> {
    for (const name of names)
      await this.db
        .insertInto('recorded_run_files')
        .values({ name })
        .onConflict((c) => c.column('name').doNothing())
        .execute();
  }

  /**
   * Brings the catalog in line with the repository: records snapshots it has not seen (oldest
   * first), from snapshot files and run files, and replays the history of accounts whose
   * snapshots were removed. Returns the number of snapshots added.
   *
   * It resumes where an interrupted sync (or rebuild) stopped, entry by entry: each snapshot is
   * recorded in a transaction of its own, a run file is read again until all its entries are
   * recorded (recorded_run_files), and replays left to do are listed (pending_replays).
   *
   * The repository may still be opening (its key being derived): the files are listed from
   * `storage`, and the repository is awaited only when there is something to read, so a
   * catalog already up to date costs no wait for the key.
   */
  async sync(
    repository: Repository | { storage: Storage; open: () => Promise<Repository> },
  ): Promise<SyncResult> {
    const open = 'open' in repository ? repository.open : () => Promise.resolve(repository);
    const files = { snapshots: new Set<string>(), runs: new Set<string>() };
    for await (const name of repository.storage.names('snapshots')) files.snapshots.add(name);
    for await (const name of repository.storage.names('runs')) files.runs.add(name);
    const known = await this.db
      .selectFrom('snapshots')
      .select(['id', 'account_id', 'run_file'])
      .execute();
    const vanished = known.filter((row) =>
      row.run_file === null ? !files.snapshots.has(row.id) : !files.runs.has(row.run_file),
    );
    const recorded = (await this.db.selectFrom('recorded_run_files').select('name').execute()).map(
      (row) => row.name,
    );
    // An entry is recorded under the first run file found holding it. Another may hold it too
    // (a forget that rewrote a run file without some entries, killed before it removed the old
    // one): when rows of a vanished run file go, every run file is read again, and entries
    // the others hold come back.
    const rereadRuns = vanished.some((row) => row.run_file !== null);
    const recordedRuns = new Set(rereadRuns ? [] : recorded);
    const knownSnapshots = new Set(
      known.filter((row) => row.run_file === null).map((row) => row.id),
    );
    const fresh = {
      snapshots: [...files.snapshots].filter((name) => !knownSnapshots.has(name)),
      runs: [...files.runs].filter((name) => !recordedRuns.has(name)),
    };
    const forgetRuns = rereadRuns ? recorded : recorded.filter((name) => !files.runs.has(name));
    const pending = await this.db.selectFrom('pending_replays').select('account_id').execute();
    if (
      vanished.length + forgetRuns.length + pending.length === 0 &&
      fresh.snapshots.length + fresh.runs.length === 0
    )
      return { added: 0, damaged: [] };
    const stay = new Set(known.map((row) => row.id));
    for (const row of vanished) stay.delete(row.id);
    return this.catchUp(await open(), fresh, { vanished, forgetRuns, known: stay });
  }

  private async catchUp(
    repository: Repository,
    fresh: { snapshots: string[]; runs: string[] },
    {
      vanished,
      forgetRuns,
      known,
    }: {
      vanished: Array<{ id: string; account_id: number }>;
      forgetRuns: string[];
      /** Snapshots recorded that stay: entries of run files read again are passed over. */
      known: ReadonlySet<string>;
    },
  ): Promise<SyncResult> {
    if (vanished.length + forgetRuns.length > 0) {
      await this.db.transaction().execute(async (trx) => {
        for (const name of forgetRuns)
          await trx.deleteFrom('recorded_run_files').where('name', '=', name).execute();
        for (const row of vanished)
          await trx.deleteFrom('snapshots').where('id', '=', row.id).execute();
        for (const accountId of new Set(vanished.map((row) => row.account_id))) {
          await replayAccount(trx, repository, accountId);
        }
      });
    }
    const found: Array<{ id: string; snapshot: Snapshot; runFile?: string }> = [];
    const readRuns: string[] = [];
    const damaged: SyncResult['damaged'] = [];
    // One unreadable file must not hide all the others; check names it too.
    const unreadable = (id: string, error: unknown): void => {
      damaged.push({ id, error: error instanceof Error ? error.message : String(error) });
    };
    for (const id of fresh.snapshots) {
      try {
        found.push({ id, snapshot: await repository.loadSnapshot(id) });
      } catch (error) {
        unreadable(id, error);
      }
    }
    for (const name of fresh.runs) {
      try {
        const entries = expandRunFile(await repository.loadRunFile(name));
        for (const entry of entries)
          if (!known.has(entry.id)) found.push({ ...entry, runFile: name });
        readRuns.push(name);
      } catch (error) {
        unreadable(name, error);
      }
    }
    found.sort(
      (a, b) => a.snapshot.time.localeCompare(b.snapshot.time) || a.id.localeCompare(b.id),
    );
    let added = 0;
    for (const entry of found) {
      const ingested = await ingestSnapshot(this.db, repository, entry, {}, { deferReplay: true });
      if (ingested.added) added++;
    }
    // Every entry of these is recorded now (one already there under another file, too).
    await this.runFilesRecorded(readRuns);
    await replayPending(this.db, repository);
    return { added, damaged };
  }

  /**
   * Empties the catalog and records every snapshot of the repository again. A rebuild that was
   * interrupted (its mark still in catalog_meta) is resumed, not started over: what it recorded
   * came from this repository alone, and the sync goes on from the entry where it stopped.
   */
  async rebuild(repository: Repository): Promise<SyncResult & { resumed: boolean }> {
    const meta = await this.db
      .selectFrom('catalog_meta')
      .select(['key', 'value'])
      .where('key', 'in', ['repository', REBUILDING])
      .execute();
    const resumed =
      meta.some((row) => row.key === REBUILDING) &&
      meta.some((row) => row.key === 'repository' && row.value === repository.config.id);
    if (!resumed) await this.empty(repository.config.id);
    const result = await this.sync(repository);
    await this.db.deleteFrom('catalog_meta').where('key', '=', REBUILDING).execute();
    return { ...result, resumed };
  }

  private async empty(repositoryId: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      for (const table of [
        'item_states',
        'items',
        'folder_states',
        'folders',
        'snapshots',
        'accounts',
        'message_texts',
        'collection_item_states',
        'collection_items',
        'collection_states',
        'collections',
        'recorded_run_files',
        'pending_replays',
      ] as const) {
        await trx.deleteFrom(table).execute();
      }
      await sql`INSERT INTO message_fts (message_fts) VALUES ('delete-all')`.execute(trx);
      await trx.deleteFrom('catalog_meta').execute();
      await trx
        .insertInto('catalog_meta')
        .values([
          { key: 'repository', value: repositoryId },
          { key: REBUILDING, value: new Date().toISOString() },
        ])
        .execute();
    });
  }

  /** Records which accounts a source lists now; the others are marked gone from the given time. */
  async markPresent(source: string, present: readonly string[], time: number): Promise<void> {
    const names = new Set(present);
    const rows = await this.db
      .selectFrom('accounts')
      .select(['id', 'name', 'gone_since'])
      .where('source', '=', source)
      .execute();
    for (const row of rows) {
      const gone = names.has(row.name) ? null : (row.gone_since ?? time);
      if (gone !== row.gone_since)
        await this.db
          .updateTable('accounts')
          .set({ gone_since: gone })
          .where('id', '=', row.id)
          .execute();
    }
  }

  async accounts(): Promise<AccountRow[]> {
    const rows = await this.db
      .selectFrom('accounts as a')
      .leftJoin('snapshots as s', (join) =>
        join.onRef('s.account_id', '=', 'a.id').on('s.kind', 'in', KNOWN_SNAPSHOT_KINDS),
      )
      .select((eb) => [
        'a.source',
        'a.name',
        'a.first_seen',
        'a.last_seen',
        'a.gone_since',
        eb.fn.count<number>('s.id').as('snapshots'),
      ])
      .where('a.source', 'not in', SET_SOURCES)
      .groupBy(['a.id', 'a.source', 'a.name', 'a.first_seen', 'a.last_seen', 'a.gone_since'])
      .orderBy('a.name')
      .orderBy('a.source')
      .execute();
    return rows.map((row) => ({
      source: row.source,
      name: row.name,
      firstSeen: new Date(Number(row.first_seen)),
      lastBackup: new Date(Number(row.last_seen)),
      goneSince: row.gone_since === null ? null : new Date(Number(row.gone_since)),
      snapshots: Number(row.snapshots),
    }));
  }

  /** Accounts with this name (on any source), for resolving a name typed by a user. */
  async findAccounts(name: string): Promise<Array<{ id: number; source: string; name: string }>> {
    return this.db
      .selectFrom('accounts')
      .select(['id', 'source', 'name'])
      .where('name', '=', name)
      .execute();
  }

  async snapshots(filter: { account?: string; source?: string } = {}): Promise<SnapshotRow[]> {
    let query = this.db
      .selectFrom('snapshots as s')
      .innerJoin('accounts as a', 'a.id', 's.account_id')
      .select(SNAPSHOT_COLUMNS)
      .where('s.kind', 'in', KNOWN_SNAPSHOT_KINDS)
      .orderBy('s.time')
      .orderBy('s.id');
    if (filter.account) query = query.where('a.name', '=', filter.account);
    if (filter.source) query = query.where('a.source', '=', filter.source);
    return (await query.execute()).map(toSnapshotRow);
  }

  /** The account's snapshot in force at a moment: the latest taken at or before it. */
  async snapshotAt(
    accountId: number,
    at: { kind: 'first' } | { kind: 'last' } | { kind: 'time'; time: Date },
  ): Promise<SnapshotRow | null> {
    let query = this.db
      .selectFrom('snapshots as s')
      .innerJoin('accounts as a', 'a.id', 's.account_id')
      .select(SNAPSHOT_COLUMNS)
      .where('s.account_id', '=', accountId)
      .where('s.kind', 'in', KNOWN_SNAPSHOT_KINDS);
    if (at.kind === 'first') query = query.orderBy('s.time', 'asc');
    else query = query.orderBy('s.time', 'desc');
    if (at.kind === 'time') query = query.where('s.time', '<=', at.time.getTime());
    const row = await query.orderBy('s.id').limit(1).executeTakeFirst();
    return row ? toSnapshotRow(row) : null;
  }

  async foldersAt(accountId: number, time: number): Promise<FolderRow[]> {
    const rows = await this.db
      .selectFrom('folder_states as s')
      .innerJoin('folders as f', 'f.id', 's.folder_id')
      .select([
        'f.path',
        's.delimiter',
        's.special_use',
        's.subscribed',
        's.attributes',
        's.count',
        's.bytes',
      ])
      .where('f.account_id', '=', accountId)
      .where('s.from_time', '<=', time)
      .where((eb) => eb.or([eb('s.until_time', 'is', null), eb('s.until_time', '>', time)]))
      .orderBy('f.path')
      .execute();
    return rows.map((row) => ({
      path: row.path,
      delimiter: row.delimiter,
      specialUse: row.special_use,
      subscribed: row.subscribed === 1,
      attributes: row.attributes ? row.attributes.split(' ') : [],
      count: Number(row.count),
      bytes: Number(row.bytes),
    }));
  }

  private itemQuery() {
    return this.db
      .selectFrom('items as i')
      .innerJoin('item_states as s', 's.item_id', 'i.id')
      .innerJoin('folders as f', 'f.id', 'i.folder_id')
      .innerJoin('accounts as a', 'a.id', 'i.account_id')
      .select(ITEM_COLUMNS);
  }

  async itemsAt(accountId: number, folder: string, time: number): Promise<ItemRow[]> {
    const rows = await this.itemQuery()
      .where('i.account_id', '=', accountId)
      .where('f.path', '=', folder)
      .where('s.from_time', '<=', time)
      .where((eb) => eb.or([eb('s.until_time', 'is', null), eb('s.until_time', '>', time)]))
      .orderBy('s.uid')
      .execute();
    return rows.map(toItemRow);
  }

  /** Items that were in the folder before the moment and were no longer there at it, as last seen. */
  async deletedItemsAt(accountId: number, folder: string, time: number): Promise<ItemRow[]> {
    const rows = await this.itemQuery()
      .where('i.account_id', '=', accountId)
      .where('f.path', '=', folder)
      .where('s.until_time', '<=', time)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('item_states as later')
              .select('later.id')
              .whereRef('later.item_id', '=', 'i.id')
              .where((eb) =>
                eb.or([eb('later.until_time', 'is', null), eb('later.until_time', '>', time)]),
              )
              .where('later.from_time', '<=', time),
          ),
        ),
      )
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('item_states as newer')
              .select('newer.id')
              .whereRef('newer.item_id', '=', 'i.id')
              .whereRef('newer.from_time', '>', 's.from_time')
              .where('newer.from_time', '<=', time),
          ),
        ),
      )
      .orderBy('s.until_time')
      .execute();
    return rows.map(toItemRow);
  }

  /** Items of an account deleted within a span of time (see deletions.ts). */
  deletedBetween(accountId: number, from: Date, to: Date): Promise<DeletedItem[]> {
    return deletedBetween(this.db, accountId, from, to);
  }

  /** An indexer that makes messages searchable as a backup stores them. */
  textIndexer(): TextIndexer {
    return new TextIndexer(this.db);
  }

  /** Items across all snapshots, by words and dates (see search.ts). */
  search(criteria: SearchCriteria): Promise<SearchHit[]> {
    return searchItems(this.db, criteria);
  }

  /** An item by its id, with its state at its latest appearance. */
  async item(key: string): Promise<ItemRow | null> {
    const row = await this.itemQuery()
      .where('i.key', '=', key)
      .orderBy('s.from_time', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? toItemRow(row) : null;
  }

  async itemHistory(key: string): Promise<ItemHistoryRow[]> {
    const rows = await this.db
      .selectFrom('item_states as s')
      .innerJoin('items as i', 'i.id', 's.item_id')
      .select(['s.from_time', 's.until_time', 's.flags', 's.uid'])
      .where('i.key', '=', key)
      .orderBy('s.from_time')
      .execute();
    return rows.map((row) => ({
      from: new Date(Number(row.from_time)),
      until: row.until_time === null ? null : new Date(Number(row.until_time)),
      flags: row.flags ? row.flags.split(' ') : [],
      uid: Number(row.uid),
    }));
  }

  async counts(): Promise<{ accounts: number; snapshots: number; items: number }> {
    const count = async (table: 'accounts' | 'snapshots' | 'items'): Promise<number> => {
      const row = await this.db
        .selectFrom(table)
        .select(sql<number>`count(*)`.as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    };
    return {
      accounts: await count('accounts'),
      snapshots: await count('snapshots'),
      items: await count('items'),
    };
  }
}
