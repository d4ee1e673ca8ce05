import type { Kysely } from 'kysely';
import { SNAPSHOT_COLUMNS, toSnapshotRow, type SnapshotRow } from './rows.js';
import type { CatalogSchema } from './schema.js';

/** A snapshot found by its id, with the account (or file set, or command) it is of. */
export interface SnapshotById extends SnapshotRow {
  accountId: number;
}

/**
 * The snapshots whose id begins with `prefix` (lowercase hexadecimal, as ids are), at most
 * `limit` of them, oldest first: one when the prefix names a snapshot, more when it is ambiguous.
 */
export async function snapshotsByIdPrefix(
  db: Kysely<CatalogSchema>,
  prefix: string,
  limit: number,
): Promise<SnapshotById[]> {
  const rows = await db
    .selectFrom('snapshots as s')
    .innerJoin('accounts as a', 'a.id', 's.account_id')
    .select([...SNAPSHOT_COLUMNS, 's.account_id'])
    // Ids are hexadecimal, so the prefix holds no LIKE wildcard.
    .where('s.id', 'like', `${prefix}%`)
    .orderBy('s.time')
    .orderBy('s.id')
    .limit(limit)
    .execute();
  return rows.map((row) => ({ ...toSnapshotRow(row), accountId: Number(row.account_id) }));
}
