/**
 * `check --repair`: makes the next backup store again what the server still has of the damaged
 * messages. Two steps:
 *
 * - the index forgets the damaged objects: every index file that lists one is superseded by a
 *   new one listing the rest (format section 8), so no backup takes them for stored any more;
 * - the folders that hold damaged messages are marked, and the next backup of each reads it
 *   whole instead of from its last snapshot's listing (an unchanged folder is otherwise not read
 *   at all). Objects are named by their content, so each message stored again under the same id
 *   heals every old snapshot that needed it too.
 */
import type { Kysely } from 'kysely';
import type { CatalogSchema } from '../catalog/schema.js';
import { readMetaValue, writeMetaValue } from '../catalog/meta-values.js';
import { rewriteIndex } from '../repository/index/rewrite-index.js';
import type { Repository } from '../repository/repository.js';

export interface IndexRepair {
  indexFilesSuperseded: number;
  objectsDropped: number;
}

/** Writes the index again without the damaged objects (the index must be loaded). */
export async function dropFromIndex(
  repository: Repository,
  damaged: ReadonlySet<string>,
): Promise<IndexRepair> {
  const indexed = [...damaged].some((hex) => repository.index.has(Buffer.from(hex, 'hex')));
  if (!indexed) return { indexFilesSuperseded: 0, objectsDropped: 0 };
  const rewrite = await rewriteIndex(repository, (id) => damaged.has(id.toString('hex')));
  return { indexFilesSuperseded: rewrite.filesRemoved, objectsDropped: rewrite.objectsDropped };
}

/** One folder of one account, as the repair list names it. */
export interface RepairFolder {
  source: string;
  account: string;
  folder: string;
}

const REPAIR_KEY = 'repair.folders';

export async function repairFolders(db: Kysely<CatalogSchema>): Promise<RepairFolder[]> {
  const value = await readMetaValue(db, REPAIR_KEY);
  return value ? (JSON.parse(value) as RepairFolder[]) : [];
}

/** Adds folders to read whole at the next backup. */
export async function markForRepair(
  db: Kysely<CatalogSchema>,
  folders: readonly RepairFolder[],
): Promise<void> {
  const all = new Map(
    [...(await repairFolders(db)), ...folders].map((f) => [
      JSON.stringify([f.source, f.account, f.folder]),
      f,
    ]),
  );
  await writeMetaValue(db, REPAIR_KEY, JSON.stringify([...all.values()]));
}

/** The backup of these accounts went well: their folders are whole again. */
export async function repairDone(
  db: Kysely<CatalogSchema>,
  accounts: ReadonlyArray<{ source: string; account: string }>,
): Promise<void> {
  const done = new Set(accounts.map((a) => JSON.stringify([a.source, a.account])));
  const left = (await repairFolders(db)).filter(
    (f) => !done.has(JSON.stringify([f.source, f.account])),
  );
  await writeMetaValue(db, REPAIR_KEY, JSON.stringify(left));
}
