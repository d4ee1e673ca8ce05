/**
 * `check --repair` for a damaged snapshot or run file. Such a file cannot be opened, and its key
 * is the repository's, so nothing in the repository holds its content again; but the catalog of a
 * machine that recorded it before the damage does: account, kind, time, run, tree, parent and
 * the counts (not the writer's host and program, nor the folder count and bytes read, which are
 * informational). From that record the file is written again, and only then the damaged one
 * removed, so that prune, which must refuse while what a snapshot needs is unknown, can run again.
 *
 * A snapshot file comes back as a new file (another nonce, so another name and id): its members
 * are the recorded ones, its `hostname` and `program` this mailvault's. The entries of a run file
 * come back in a new run file with the same ids (an entry's id is derived from what it records,
 * format section 9.1). What a readable file already holds (a repair interrupted after writing) is
 * not written twice. A file the catalog never recorded is left as it is, and said so: removing it
 * would let prune delete what only its snapshots need.
 */
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { CatalogSchema } from '../catalog/schema.js';
import type { Repository } from '../repository/repository.js';
import { unchangedSnapshotId, type UnchangedEntry } from '../repository/snapshot/run-file.js';
import type { Snapshot } from '../repository/snapshot/snapshot.js';

export interface SnapshotFileRepair {
  kind: 'snapshots' | 'runs';
  name: string;
  /** The file written in its place (none when a readable file held it all already). */
  written: string | null;
  /** Snapshots it stood for, now in readable files. */
  snapshots: number;
  /** Why it could not be written again (then it is left as it is). */
  notRepaired?: string;
}

interface RecordedSnapshot {
  id: string;
  source: string;
  name: string;
  kind: string;
  time: number;
  run: string;
  tree: string;
  parent: string | null;
  items: number;
  bytes: number;
  new_items: number;
  bytes_added: number;
}

export async function rewriteFromCatalog(
  repository: Repository,
  db: Kysely<CatalogSchema>,
  files: ReadonlyArray<{ kind: 'snapshots' | 'runs'; name: string }>,
  options: { program: string; assertLocked?: () => void },
): Promise<SnapshotFileRepair[]> {
  if (files.length === 0) return [];
  // What the readable files hold, by what identifies a snapshot (not by id: a snapshot file
  // written again has a new one).
  const readable = new Set<string>();
  for await (const { snapshot } of repository.snapshots(() => undefined))
    readable.add(identity(snapshot));
  const repairs: SnapshotFileRepair[] = [];
  for (const file of files) {
    const rows = await recorded(db, file);
    const repair: SnapshotFileRepair = { ...file, written: null, snapshots: rows.length };
    repairs.push(repair);
    if (rows.length === 0) {
      repair.notRepaired = `this machine's catalog never recorded it, so what it held is unknown; if another machine's catalog did, run check --repair there. Removed by hand, it lets prune run, which then deletes what only its snapshot${file.kind === 'runs' ? 's' : ''} needed`;
      continue;
    }
    const summary = (row: RecordedSnapshot): Record<string, number> => ({
      items: row.items,
      bytes: row.bytes,
      newItems: row.new_items,
      bytesAdded: row.bytes_added,
    });
    const missing = rows.filter((row) => !readable.has(identity(asSnapshot(row))));
    options.assertLocked?.();
    if (missing.length > 0 && file.kind === 'snapshots') {
      const row = missing[0] as RecordedSnapshot;
      repair.written = await repository.saveSnapshot({
        ...asSnapshot(row),
        hostname: hostname(),
        program: options.program,
        summary: summary(row),
      });
    } else if (missing.length > 0) {
      const unchanged: UnchangedEntry[] = missing.map((row) => ({
        kind: row.kind,
        source: row.source,
        name: row.name,
        time: new Date(row.time).toISOString(),
        tree: row.tree,
        parent: row.parent,
        summary: summary(row),
      }));
      // The ids must come out as recorded: otherwise the entries would be other snapshots.
      const ids = new Set(rows.map((row) => row.id));
      if (unchanged.some((entry) => !ids.has(unchangedSnapshotId(entry)))) {
        repair.notRepaired = 'the catalog does not give its entries back as they were recorded';
        continue;
      }
      repair.written = await repository.saveRunFile({
        version: 1,
        run: (missing[0] as RecordedSnapshot).run,
        hostname: hostname(),
        program: options.program,
        unchanged,
      });
    }
    await repository.storage.remove(file);
  }
  return repairs;
}

/** The catalog's record of the snapshots a file stood for. */
async function recorded(
  db: Kysely<CatalogSchema>,
  file: { kind: 'snapshots' | 'runs'; name: string },
): Promise<RecordedSnapshot[]> {
  const query = db
    .selectFrom('snapshots as s')
    .innerJoin('accounts as a', 'a.id', 's.account_id')
    .select([
      's.id',
      'a.source',
      'a.name',
      's.kind',
      's.time',
      's.run',
      's.tree',
      's.parent',
      's.items',
      's.bytes',
      's.new_items',
      's.bytes_added',
    ])
    .orderBy('s.time')
    .orderBy('s.id');
  const rows =
    file.kind === 'snapshots'
      ? await query.where('s.id', '=', file.name).where('s.run_file', 'is', null).execute()
      : await query.where('s.run_file', '=', file.name).execute();
  return rows.map((row) => ({ ...row, time: Number(row.time) }));
}

function asSnapshot(row: RecordedSnapshot): Snapshot {
  return {
    version: 1,
    kind: row.kind,
    source: row.source,
    name: row.name,
    time: new Date(row.time).toISOString(),
    run: row.run,
    tree: row.tree,
    parent: row.parent,
    hostname: '',
    program: '',
    summary: {},
  };
}

function identity(snapshot: Snapshot): string {
  return JSON.stringify([
    snapshot.kind,
    snapshot.source,
    snapshot.name,
    snapshot.time,
    snapshot.tree,
  ]);
}
