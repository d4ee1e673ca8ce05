import type { Kysely, Transaction } from 'kysely';
import { readAccountTree, type AccountTree, type FolderRecord } from '../mailbox/account-tree.js';
import { readAllEntries, type MessageEntry } from '../mailbox/folder-listing.js';
import { itemKeys } from '../mailbox/item-key.js';
import { loadMessage, loadMessagePrefix } from '../mailbox/message-store.js';
import { extractText } from '../mime/text-extract.js';
import type { HeaderSummary } from '../mime/header-summary.js';
import type { Repository } from '../repository/repository.js';
import type { Snapshot } from '../repository/snapshot/snapshot.js';
import { KNOWN_SNAPSHOT_KINDS } from '../repository/snapshot/snapshot-kind.js';
import type { CatalogSchema } from './schema.js';
import { indexTexts, indexedLength } from './text-index.js';
import { storedSummary } from './text-summary.js';
import { applyCollections, forgetCollectionStates } from './collection-ingest.js';

type Db = Kysely<CatalogSchema> | Transaction<CatalogSchema>;

/** What the backup already knows, so the catalog need not read it back from the repository. */
export interface IngestHints {
  summaries?: ReadonlyMap<string, HeaderSummary>;
  listings?: ReadonlyMap<string, readonly MessageEntry[]>;
}

interface Context {
  db: Db;
  repository: Repository;
  accountId: number;
  source: string;
  account: string;
  time: number;
  hints: IngestHints;
}

const BATCH = 400;

/**
 * Records a snapshot in the catalog: the account's folders and items with the intervals in which
 * each was present, and their flags over time. Only folders whose listing changed since the
 * account's previous snapshot are compared item by item. A snapshot older than one already
 * recorded (a copy from elsewhere) makes the account's history be replayed in time order; with
 * `deferReplay` the account is listed in pending_replays instead, in the same transaction, so that
 * a sync killed before its replays still does them the next time (replayPending).
 */
export async function ingestSnapshot(
  db: Kysely<CatalogSchema>,
  repository: Repository,
  { id, snapshot, runFile }: { id: string; snapshot: Snapshot; runFile?: string },
  hints: IngestHints = {},
  options: { deferReplay?: boolean } = {},
): Promise<{ added: boolean }> {
  const time = Date.parse(snapshot.time);
  return db.transaction().execute(async (trx) => {
    if (await trx.selectFrom('snapshots').select('id').where('id', '=', id).executeTakeFirst())
      return { added: false };
    const accountId = await ensureAccount(trx, snapshot.source, snapshot.name, time);
    const latest = await trx
      .selectFrom('snapshots')
      .select(['time', 'tree'])
      .where('account_id', '=', accountId)
      .where('kind', 'in', KNOWN_SNAPSHOT_KINDS)
      .orderBy('time', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    const summary = snapshot.summary;
    await trx
      .insertInto('snapshots')
      .values({
        id,
        account_id: accountId,
        kind: snapshot.kind,
        time,
        run: snapshot.run,
        tree: snapshot.tree,
        parent: snapshot.parent,
        items: summary.items ?? 0,
        bytes: summary.bytes ?? 0,
        new_items: summary.newItems ?? 0,
        bytes_added: summary.bytesAdded ?? 0,
        run_file: runFile ?? null,
      })
      .execute();
    // File sets and command outputs are listed with their snapshots; their content is browsed
    // from the repository (restore files, restore command), not from catalog tables. A kind this
    // mailvault does not know (a newer one wrote it) is recorded, so that it is not read again at
    // every sync, and passed over by every query (format section 9.3).
    if (snapshot.kind !== 'account') return { added: true };
    const context: Context = {
      db: trx,
      repository,
      accountId,
      source: snapshot.source,
      account: snapshot.name,
      time,
      hints,
    };
    if (latest && Number(latest.time) >= time) {
      // Older than what is recorded: the history is replayed, once for many such snapshots
      // when the caller gathers them (a copy, or a sync after snapshots with older dates).
      if (options.deferReplay) {
        await trx
          .insertInto('pending_replays')
          .values({ account_id: accountId })
          .onConflict((c) => c.column('account_id').doNothing())
          .execute();
        return { added: true };
      }
      await replayAccount(trx, repository, accountId, hints);
    } else if (latest?.tree === snapshot.tree) {
      // The same tree as the account's latest (an unchanged account): every interval stays
      // open, and nothing is to be read.
    } else {
      await applyTree(context, await readAccountTree(repository, snapshot.tree));
    }
    return { added: true };
  });
}

/** Replays the accounts listed in pending_replays, each in a transaction that unlists it. */
export async function replayPending(
  db: Kysely<CatalogSchema>,
  repository: Repository,
): Promise<void> {
  const pending = await db.selectFrom('pending_replays').select('account_id').execute();
  for (const { account_id: accountId } of pending) {
    await db.transaction().execute(async (trx) => {
      await replayAccount(trx, repository, accountId);
      await trx.deleteFrom('pending_replays').where('account_id', '=', accountId).execute();
    });
  }
}

async function ensureAccount(db: Db, source: string, name: string, time: number): Promise<number> {
  const row = await db
    .selectFrom('accounts')
    .select(['id', 'first_seen', 'last_seen'])
    .where('source', '=', source)
    .where('name', '=', name)
    .executeTakeFirst();
  if (!row) {
    const inserted = await db
      .insertInto('accounts')
      .values({ source, name, first_seen: time, last_seen: time, gone_since: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    return inserted.id;
  }
  await db
    .updateTable('accounts')
    .set({
      first_seen: Math.min(Number(row.first_seen), time),
      last_seen: Math.max(Number(row.last_seen), time),
    })
    .where('id', '=', row.id)
    .execute();
  return row.id;
}

/**
 * Forgets the account's intervals and applies each of its snapshots again, oldest first (a
 * snapshot with the tree of the one before changes nothing, and is passed over).
 */
export async function replayAccount(
  db: Db,
  repository: Repository,
  accountId: number,
  hints: IngestHints = {},
): Promise<void> {
  // Item keys are made of the source and account name: the account's own, always.
  const account = await db
    .selectFrom('accounts')
    .select(['source', 'name'])
    .where('id', '=', accountId)
    .executeTakeFirstOrThrow();
  const context = {
    db,
    repository,
    accountId,
    source: account.source,
    account: account.name,
    hints,
  };
  const folderIds = db.selectFrom('folders').select('id').where('account_id', '=', accountId);
  const itemIds = db.selectFrom('items').select('id').where('account_id', '=', accountId);
  await db.deleteFrom('item_states').where('item_id', 'in', itemIds).execute();
  await db.deleteFrom('folder_states').where('folder_id', 'in', folderIds).execute();
  await forgetCollectionStates(db, accountId);
  const snapshots = await db
    .selectFrom('snapshots')
    .select(['tree', 'time'])
    .where('account_id', '=', accountId)
    .where('kind', '=', 'account')
    .orderBy('time')
    .orderBy('id')
    .execute();
  let previous: string | undefined;
  for (const snapshot of snapshots) {
    if (snapshot.tree === previous) continue;
    previous = snapshot.tree;
    const tree = await readAccountTree(repository, snapshot.tree);
    await applyTree({ ...context, time: Number(snapshot.time) }, tree);
  }
  // Items no remaining snapshot holds (forgotten with their snapshots, or left out of a snapshot
  // written again under retention.deletedItems) cannot be restored: they leave the catalog.
  await db
    .deleteFrom('items')
    .where('account_id', '=', accountId)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('item_states').select('id').whereRef('item_id', '=', 'items.id'))),
    )
    .execute();
  await db
    .deleteFrom('collection_items')
    .where('account_id', '=', accountId)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('collection_item_states')
            .select('id')
            .whereRef('item_id', '=', 'collection_items.id'),
        ),
      ),
    )
    .execute();
}

async function applyTree(context: Context, tree: AccountTree): Promise<void> {
  await applyFolders(context, tree);
  await applyCollections(context, tree.collections ?? []);
}

async function applyFolders(context: Context, tree: AccountTree): Promise<void> {
  const { db, accountId, time } = context;
  const open = await db
    .selectFrom('folder_states as s')
    .innerJoin('folders as f', 'f.id', 's.folder_id')
    .select([
      'f.id as folderId',
      'f.path',
      's.listing',
      's.delimiter',
      's.special_use',
      's.subscribed',
      's.attributes',
      's.count',
    ])
    .where('f.account_id', '=', accountId)
    .where('s.until_time', 'is', null)
    .execute();
  const openByPath = new Map(open.map((row) => [row.path, row]));
  for (const folder of tree.folders) {
    const previous = openByPath.get(folder.path);
    openByPath.delete(folder.path);
    const state = folderState(folder);
    if (
      previous &&
      previous.listing === state.listing &&
      previous.delimiter === state.delimiter &&
      previous.special_use === state.special_use &&
      previous.subscribed === state.subscribed &&
      previous.attributes === state.attributes
    ) {
      continue;
    }
    const folderId = previous?.folderId ?? (await ensureFolder(db, accountId, folder.path));
    if (previous) await closeFolderState(db, folderId, time);
    await db
      .insertInto('folder_states')
      .values({ folder_id: folderId, from_time: time, until_time: null, ...state })
      .execute();
    if (previous?.listing !== state.listing) await diffItems(context, folderId, folder);
  }
  for (const gone of openByPath.values()) {
    await closeFolderState(db, gone.folderId, time);
    await diffItems(context, gone.folderId, null);
  }
}

function folderState(folder: FolderRecord) {
  return {
    delimiter: folder.delimiter,
    special_use: folder.specialUse,
    subscribed: folder.subscribed ? 1 : 0,
    attributes: folder.attributes.join(' '),
    count: folder.count,
    bytes: folder.bytes,
    listing: folder.listing,
  };
}

async function ensureFolder(db: Db, accountId: number, path: string): Promise<number> {
  const row = await db
    .selectFrom('folders')
    .select('id')
    .where('account_id', '=', accountId)
    .where('path', '=', path)
    .executeTakeFirst();
  if (row) return row.id;
  const inserted = await db
    .insertInto('folders')
    .values({ account_id: accountId, path })
    .returning('id')
    .executeTakeFirstOrThrow();
  return inserted.id;
}

async function closeFolderState(db: Db, folderId: number, time: number): Promise<void> {
  await db
    .updateTable('folder_states')
    .set({ until_time: time })
    .where('folder_id', '=', folderId)
    .where('until_time', 'is', null)
    .execute();
}

/** Compares a folder's open item states with its new listing (null: the folder is gone). */
async function diffItems(
  context: Context,
  folderId: number,
  folder: FolderRecord | null,
): Promise<void> {
  const { db, time } = context;
  const entries = folder?.listing
    ? (context.hints.listings?.get(folder.listing) ??
      (await readAllEntries(context.repository, folder.listing)))
    : [];
  const keys = folder ? itemKeys(context.source, context.account, folder.path, entries) : [];
  const open = await db
    .selectFrom('item_states as s')
    .innerJoin('items as i', 'i.id', 's.item_id')
    .select(['s.id', 's.item_id', 's.flags', 's.uid', 'i.key'])
    .where('i.folder_id', '=', folderId)
    .where('s.until_time', 'is', null)
    .execute();
  const openByKey = new Map(open.map((row) => [row.key, row]));
  const toClose: number[] = [];
  const toOpen: Array<{ key: string; entry: MessageEntry }> = [];
  entries.forEach((entry, i) => {
    const key = keys[i] ?? '';
    const current = openByKey.get(key);
    openByKey.delete(key);
    const flags = entry.flags.join(' ');
    if (current && current.flags === flags && Number(current.uid) === entry.uid) return;
    if (current) toClose.push(current.id);
    toOpen.push({ key, entry });
  });
  for (const stale of openByKey.values()) toClose.push(stale.id);
  for (const ids of batches(toClose)) {
    await db.updateTable('item_states').set({ until_time: time }).where('id', 'in', ids).execute();
  }
  for (const batch of batches(toOpen)) {
    const itemIds = await ensureItems(context, folderId, batch);
    await db
      .insertInto('item_states')
      .values(
        batch.map(({ key, entry }) => ({
          item_id: itemIds.get(key) ?? 0,
          from_time: time,
          until_time: null,
          flags: entry.flags.join(' '),
          uid: entry.uid,
        })),
      )
      .execute();
  }
}

async function ensureItems(
  context: Context,
  folderId: number,
  batch: Array<{ key: string; entry: MessageEntry }>,
): Promise<Map<string, number>> {
  const { db } = context;
  const known = await db
    .selectFrom('items')
    .select(['id', 'key'])
    .where(
      'key',
      'in',
      batch.map((b) => b.key),
    )
    .execute();
  const ids = new Map(known.map((row) => [row.key, row.id]));
  const missing = batch.filter((b) => !ids.has(b.key));
  if (missing.length > 0) {
    const rows = [];
    for (const { key, entry } of missing) {
      const summary =
        context.hints.summaries?.get(entry.manifest) ??
        (await storedSummary(context.repository, entry.manifest));
      rows.push({
        key,
        account_id: context.accountId,
        folder_id: folderId,
        sha256: entry.sha256,
        manifest: entry.manifest,
        size: entry.size,
        internal_date: entry.date,
        sent_date: summary.date,
        from_text: summary.from,
        to_text: summary.to,
        cc_text: summary.cc,
        subject: summary.subject,
        message_id: summary.messageId,
      });
    }
    const inserted = await db.insertInto('items').values(rows).returning(['id', 'key']).execute();
    for (const row of inserted) ids.set(row.key, row.id);
    for (const [i, { entry }] of missing.entries())
      await indexText(context, entry, rows[i] as (typeof rows)[number]);
  }
  return ids;
}

/** Makes a message findable by its words, once per distinct message (read back if need be). */
async function indexText(
  context: Context,
  entry: MessageEntry,
  row: { from_text: string; to_text: string; subject: string },
): Promise<void> {
  const { db } = context;
  if (
    await db
      .selectFrom('message_texts')
      .select('id')
      .where('sha256', '=', entry.sha256)
      .executeTakeFirst()
  )
    return;
  // As at backup: a large message's text is read from its first INDEXED_PREFIX_BYTES only.
  const length = indexedLength(entry.size);
  const body = extractText(
    length < entry.size
      ? await loadMessagePrefix(context.repository, entry.manifest, length)
      : await loadMessage(context.repository, entry.manifest),
  );
  await indexTexts(db, [
    { sha256: entry.sha256, from: row.from_text, to: row.to_text, subject: row.subject, body },
  ]);
}

function* batches<T>(values: readonly T[]): Generator<T[]> {
  for (let i = 0; i < values.length; i += BATCH) yield values.slice(i, i + BATCH);
}
