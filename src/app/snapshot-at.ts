import type { Catalog, SnapshotRow } from '../catalog/catalog.js';
import { snapshotsByIdPrefix, type SnapshotById } from '../catalog/snapshot-ids.js';
import type { AtSpec } from '../dates/at-spec.js';
import { UsageError } from './errors.js';
import { formatTime } from '../text/format.js';
import { printable } from '../text/printable.js';

/** Candidates named when a prefix is ambiguous: enough to pick from, not a listing. */
const CANDIDATES = 5;

/** What a snapshot is of, as the commands name it. */
export function ownerLabel(row: { source: string; account: string }): string {
  if (row.source === 'files') return `file set ${row.account}`;
  if (row.source === 'commands') return `command ${row.account}`;
  return `${row.source}/${row.account}`;
}

/**
 * The one snapshot whose id begins with `id` (a whole id, or a prefix as `snapshots` prints it);
 * none, or several, is bad usage, said with the candidates.
 */
export async function snapshotById(
  catalog: Catalog,
  id: string,
  option = '--at',
): Promise<SnapshotById> {
  const found = await snapshotsByIdPrefix(catalog.db, id, CANDIDATES + 1);
  const [first] = found;
  if (!first)
    throw new UsageError(
      `${option} ${id}: no snapshot has this id (mailvault snapshots lists them)`,
    );
  if (found.length > 1) {
    const listed = found
      .slice(0, CANDIDATES)
      .map((row) => `${row.id} (${printable(ownerLabel(row))}, ${formatTime(row.time)})`);
    throw new UsageError(
      `${option} ${id}: the ids of ${found.length > CANDIDATES ? `more than ${CANDIDATES}` : found.length} snapshots begin so: ${listed.join(', ')}; give more of the id`,
    );
  }
  return first;
}

/** Refuses a snapshot of another account, file set or command than the one the command is for. */
export function checkOwner(
  row: SnapshotById,
  owner: { source: string; account: string },
  option = '--at',
): void {
  if (row.source === owner.source && row.account === owner.account) return;
  throw new UsageError(
    `${option} ${row.id.slice(0, 12)}: that snapshot is of ${printable(ownerLabel(row))}, not of ${printable(ownerLabel(owner))}`,
  );
}

/**
 * The snapshot `--at` names for an account: its own snapshot by id, or the one in force at a
 * moment (the latest taken at or before it); null when there is none by then.
 */
export async function accountSnapshotAt(
  catalog: Catalog,
  account: { id: number; source: string; name: string },
  at: AtSpec,
  option = '--at',
): Promise<SnapshotRow | null> {
  if (at.kind !== 'snapshot') return catalog.snapshotAt(account.id, at);
  const row = await snapshotById(catalog, at.id, option);
  checkOwner(row, { source: account.source, account: account.name }, option);
  return row;
}

/** A moment for options that take one (search --after, undelete --from): a snapshot's time. */
export async function momentOf(catalog: Catalog, at: AtSpec, option: string): Promise<Date> {
  if (at.kind === 'time') return at.time;
  if (at.kind === 'snapshot') return (await snapshotById(catalog, at.id, option)).time;
  throw new UsageError(`${option}: give a date, an age or a snapshot id, not ${at.kind}`);
}
