import { sql, type Kysely } from 'kysely';
import { ITEM_COLUMNS, toItemRow, type ItemRow } from './rows.js';
import type { CatalogSchema } from './schema.js';

/** An item that was deleted: as it was just before, and when it went. */
export interface DeletedItem extends ItemRow {
  /** The last backup that held it. */
  lastSeen: Date;
  /** The first backup that no longer did. */
  goneAt: Date;
}

/**
 * Items of an account deleted within a span of time: expunged, or gone with their folder, but not
 * moved (the same bytes present elsewhere in the account at the moment it went) and not merely
 * re-flagged. A deletion is known to lie between the last backup that held the item and the first
 * that did not; an item counts when that span overlaps [from, to]. Each comes with the state
 * (flags, folder) it had just before.
 */
export async function deletedBetween(
  db: Kysely<CatalogSchema>,
  accountId: number,
  from: Date,
  to: Date,
): Promise<DeletedItem[]> {
  const rows = await db
    .selectFrom('items as i')
    .innerJoin('item_states as s', 's.item_id', 'i.id')
    .innerJoin('folders as f', 'f.id', 'i.folder_id')
    .innerJoin('accounts as a', 'a.id', 'i.account_id')
    .select([
      ...ITEM_COLUMNS,
      's.until_time as gone_at',
      sql<number>`(SELECT max(sn.time) FROM snapshots sn WHERE sn.account_id = i.account_id AND sn.time < s.until_time)`.as(
        'last_seen',
      ),
    ])
    .where('i.account_id', '=', accountId)
    .where('s.until_time', 'is not', null)
    .where('s.until_time', '>', from.getTime())
    // A re-flag closes one state and opens the next at the same moment: not a deletion.
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('item_states as next')
            .select('next.id')
            .whereRef('next.item_id', '=', 'i.id')
            .whereRef('next.from_time', '=', 's.until_time'),
        ),
      ),
    )
    // Present elsewhere in the account when it went: moved, not deleted.
    .where(
      sql<boolean>`NOT EXISTS (SELECT 1 FROM items j JOIN item_states sj ON sj.item_id = j.id
        WHERE j.account_id = i.account_id AND j.sha256 = i.sha256 AND j.id <> i.id
          AND sj.from_time <= s.until_time AND (sj.until_time IS NULL OR sj.until_time > s.until_time))`,
    )
    .orderBy('f.path')
    .orderBy('s.uid')
    .execute();
  return rows
    .filter((row) => row.last_seen !== null && Number(row.last_seen) <= to.getTime())
    .map((row) => ({
      ...toItemRow(row),
      lastSeen: new Date(Number(row.last_seen)),
      goneAt: new Date(Number(row.gone_at)),
    }));
}
