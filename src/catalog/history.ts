import type { Kysely } from 'kysely';
import type { CatalogSchema } from './schema.js';

/**
 * The whole history of an account, as the catalog recorded it: every folder it ever had and
 * every item ever in it, with the intervals in which the item was present and its flags in
 * each. For investigations (`export --all-versions`); read page by page, as an account's
 * history can be far larger than memory should hold.
 */

export interface HistoryFolder {
  id: number;
  path: string;
  /** As last seen. */
  delimiter: string | null;
  /** Whether the account's latest snapshot has it. */
  present: boolean;
  /** Whether it could ever hold messages (a \Noselect parent cannot). */
  selectable: boolean;
}

export interface HistoryState {
  /** Milliseconds: the first snapshot with this state. */
  from: number;
  /** The first snapshot without it; null while it holds. */
  until: number | null;
  flags: string[];
  uid: number;
}

export interface HistoryItem {
  key: string;
  folder: string;
  sha256: string;
  manifest: string;
  size: number;
  internalDate: string;
  subject: string;
  from: string;
  messageId: string;
  /** In time order; never empty. */
  states: HistoryState[];
}

/** Every folder the account ever had (holding messages or not), by path. */
export async function foldersEver(
  db: Kysely<CatalogSchema>,
  accountId: number,
): Promise<HistoryFolder[]> {
  const rows = await db
    .selectFrom('folders as f')
    .innerJoin('folder_states as s', 's.folder_id', 'f.id')
    .select(['f.id', 'f.path', 's.delimiter', 's.from_time', 's.until_time', 's.listing'])
    .where('f.account_id', '=', accountId)
    .orderBy('f.path')
    .orderBy('s.from_time')
    .execute();
  const folders = new Map<number, HistoryFolder>();
  for (const row of rows) {
    // Rows come oldest first: the last one of a folder is its latest state.
    folders.set(row.id, {
      id: row.id,
      path: row.path,
      delimiter: row.delimiter,
      present: row.until_time === null,
      selectable: row.listing !== null || (folders.get(row.id)?.selectable ?? false),
    });
  }
  return [...folders.values()];
}

/** Items per query: bounded memory, few round trips. */
const PAGE = 500;

/** Every item ever in the folder, in the order the catalog first recorded them. */
export async function* itemsEver(
  db: Kysely<CatalogSchema>,
  folder: { id: number; path: string },
): AsyncGenerator<HistoryItem> {
  let after = 0;
  for (;;) {
    const items = await db
      .selectFrom('items')
      .select([
        'id',
        'key',
        'sha256',
        'manifest',
        'size',
        'internal_date',
        'subject',
        'from_text',
        'message_id',
      ])
      .where('folder_id', '=', folder.id)
      .where('id', '>', after)
      .orderBy('id')
      .limit(PAGE)
      .execute();
    if (items.length === 0) return;
    after = items[items.length - 1]?.id ?? after;
    const states = await db
      .selectFrom('item_states')
      .select(['item_id', 'from_time', 'until_time', 'flags', 'uid'])
      .where(
        'item_id',
        'in',
        items.map((item) => item.id),
      )
      .orderBy('item_id')
      .orderBy('from_time')
      .execute();
    const byItem = new Map<number, HistoryState[]>();
    for (const row of states) {
      const list = byItem.get(row.item_id) ?? [];
      list.push({
        from: Number(row.from_time),
        until: row.until_time === null ? null : Number(row.until_time),
        flags: row.flags ? row.flags.split(' ') : [],
        uid: Number(row.uid),
      });
      byItem.set(row.item_id, list);
    }
    for (const item of items) {
      const itemStates = byItem.get(item.id);
      // An item whose snapshots were all forgotten is in no snapshot any more: nothing to export.
      if (!itemStates || itemStates.length === 0) continue;
      yield {
        key: item.key,
        folder: folder.path,
        sha256: item.sha256,
        manifest: item.manifest,
        size: Number(item.size),
        internalDate: item.internal_date,
        subject: item.subject,
        from: item.from_text,
        messageId: item.message_id,
        states: itemStates,
      };
    }
  }
}

/** The times of the account's snapshots, oldest first. */
export async function snapshotTimes(
  db: Kysely<CatalogSchema>,
  accountId: number,
): Promise<number[]> {
  const rows = await db
    .selectFrom('snapshots')
    .select('time')
    .where('account_id', '=', accountId)
    .orderBy('time')
    .execute();
  return rows.map((row) => Number(row.time));
}

/**
 * When an item was last seen: the latest snapshot before the one that no longer had it (null
 * while it is still present).
 */
export function lastSeen(states: readonly HistoryState[], times: readonly number[]): number | null {
  if (states.some((state) => state.until === null)) return null;
  const gone = Math.max(...states.map((state) => state.until ?? 0));
  let low = 0;
  let high = times.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if ((times[mid] ?? 0) < gone) low = mid + 1;
    else high = mid;
  }
  return low > 0 ? (times[low - 1] ?? null) : Math.max(...states.map((state) => state.from));
}
