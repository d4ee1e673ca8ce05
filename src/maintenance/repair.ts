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
import type { IndexedPack } from '../repository/index/index-file.js';
import type { Repository } from '../repository/repository.js';

export interface IndexRepair {
  indexFilesSuperseded: number;
  objectsDropped: number;
}

/** Writes the index again without the damaged objects; returns what changed. */
export async function dropFromIndex(
  repository: Repository,
  damaged: ReadonlySet<string>,
): Promise<IndexRepair> {
  const affected: string[] = [];
  const kept: IndexedPack[] = [];
  let dropped = 0;
  const names: string[] = [];
  for await (const name of repository.storage.names('index')) names.push(name);
  const contents = [];
  for (const name of names) {
    try {
      contents.push({ name, content: await repository.readIndexFile(name) });
    } catch {
      // A damaged index file is passed over by every reader already (check reports it).
    }
  }
  const superseded = new Set(contents.flatMap(({ content }) => content.superseded));
  for (const { name, content } of contents) {
    if (superseded.has(name)) continue;
    const hit = content.packs.some((pack) =>
      pack.entries.some((entry) => damaged.has(entry.id.toString('hex'))),
    );
    if (!hit) continue;
    affected.push(name);
    for (const pack of content.packs) {
      const entries = pack.entries.filter((entry) => !damaged.has(entry.id.toString('hex')));
      dropped += pack.entries.length - entries.length;
      if (entries.length > 0) kept.push({ id: pack.id, entries });
    }
  }
  if (affected.length === 0) return { indexFilesSuperseded: 0, objectsDropped: 0 };
  await repository.saveIndex({ superseded: affected, packs: kept });
  // Readers pass superseded files over; removing them only saves space.
  for (const name of affected) await repository.storage.remove({ kind: 'index', name });
  return { indexFilesSuperseded: affected.length, objectsDropped: dropped };
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
