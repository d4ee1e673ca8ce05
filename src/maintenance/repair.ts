/**
 * `check --repair`: puts right what check found, without removing anything a snapshot needs.
 *
 * - The index is written again (format section 8: new files first, the last naming the files it
 *   replaces in `superseded`, then those go), listing every pack as the packs themselves say:
 *   those only a damaged index file listed, read from their own headers and verified whole
 *   (index-rebuild.ts); those whose header is damaged or that hold a damaged object, their intact
 *   objects copied into new packs (header-repair.ts); and without the objects found damaged, so
 *   no backup takes them for stored any more. The damaged index files are among those replaced.
 * - A damaged condemned file is removed: it was passed over already, and the next prune
 *   condemns its packs again if nothing needs them.
 * - The folders that hold damaged messages are marked, and the next backup of each reads it
 *   whole instead of from its last snapshot's listing (an unchanged folder is otherwise not read
 *   at all). Objects are named by their content, so each message stored again under the same id
 *   heals every old snapshot that needed it too.
 */
import type { Kysely } from 'kysely';
import type { CatalogSchema } from '../catalog/schema.js';
import { readMetaValue, writeMetaValue } from '../catalog/meta-values.js';
import { rewriteIndex } from '../repository/index/rewrite-index.js';
import type { Repository } from '../repository/repository.js';
import type { CheckReport } from './check.js';
import { traceItems, type AffectedItem } from './item-trace.js';
import { rewritePacks } from './header-repair.js';
import { verifyPacks } from './index-rebuild.js';

export interface RepositoryRepair {
  /** Packs that only a damaged index file (or none) listed, verified and indexed again. */
  packsIndexed: number;
  objectsIndexed: number;
  /** Packs whose header was damaged or that held damaged objects, whose intact objects went into new packs. */
  packsRewritten: number;
  objectsRewritten: number;
  /** Objects left out of the index: damaged, so that backups store them again. */
  objectsDropped: number;
  /** Objects the repair found damaged that check had not (hex ids). */
  newlyDamaged: string[];
  indexFilesWritten: number;
  /** Index files replaced, the damaged ones among them, and removed. */
  indexFilesSuperseded: number;
  condemnedFilesRemoved: number;
}

/**
 * Repairs what `report` found; the index must be loaded as check left it, and the repository
 * lock held (`assertLocked` is called before each change).
 */
export async function repairRepository(
  repository: Repository,
  report: CheckReport,
  options: {
    assertLocked?: () => void;
    onProgress?: (phase: string, done: number, total: number) => void;
  } = {},
): Promise<RepositoryRepair> {
  const assertLocked = options.assertLocked ?? (() => undefined);
  const outcome: RepositoryRepair = {
    packsIndexed: 0,
    objectsIndexed: 0,
    packsRewritten: 0,
    objectsRewritten: 0,
    objectsDropped: 0,
    newlyDamaged: [],
    indexFilesWritten: 0,
    indexFilesSuperseded: 0,
    condemnedFilesRemoved: 0,
  };
  const damaged = new Set(report.damagedObjects);
  const fromHeaders = new Set(repository.packsFromHeaders);
  if (fromHeaders.size > 0) {
    const verified = await verifyPacks(repository, fromHeaders, (done, total) =>
      options.onProgress?.('verifying packs', done, total),
    );
    outcome.packsIndexed = verified.packs;
    outcome.objectsIndexed = verified.objects;
    for (const id of verified.damagedObjects) if (!damaged.has(id)) outcome.newlyDamaged.push(id);
    for (const id of verified.damagedObjects) damaged.add(id);
  }
  const headerless = new Set(report.damagedHeaders.map((entry) => entry.pack));
  const rewriting = new Set([...headerless, ...(await packsWithDamage(repository, damaged))]);
  if (rewriting.size > 0) {
    assertLocked();
    const rewritten = await rewritePacks(repository, rewriting, damaged);
    outcome.packsRewritten = rewritten.packs;
    outcome.objectsRewritten = rewritten.objects;
    for (const id of rewritten.damagedObjects) if (!damaged.has(id)) outcome.newlyDamaged.push(id);
    for (const id of rewritten.damagedObjects) damaged.add(id);
  }
  const damagedIndexFiles = report.unreadableFiles
    .filter((file) => file.kind === 'index' && file.damaged)
    .map((file) => file.name);
  const dropping = [...damaged].some((hex) => repository.index.has(Buffer.from(hex, 'hex')));
  if (dropping || damagedIndexFiles.length > 0 || fromHeaders.size > 0 || rewriting.size > 0) {
    assertLocked();
    const rewrite = await rewriteIndex(repository, (id) => damaged.has(id.toString('hex')), {
      alsoReplace: damagedIndexFiles,
    });
    outcome.objectsDropped = rewrite.objectsDropped;
    outcome.indexFilesWritten = rewrite.filesWritten;
    outcome.indexFilesSuperseded = rewrite.filesRemoved;
  }
  for (const file of report.unreadableFiles) {
    if (file.kind !== 'condemned' || !file.damaged) continue;
    assertLocked();
    try {
      await repository.storage.remove({ kind: 'condemned', name: file.name });
      outcome.condemnedFilesRemoved++;
    } catch (error) {
      if (!repository.storage.isNotFound(error)) throw error;
    }
  }
  return outcome;
}

/**
 * The packs still there that hold a damaged object the index lists. Their intact objects are
 * copied into new packs like those of a damaged header: otherwise the pack, whose bytes no longer
 * match its name, would stay in the index for its intact objects, and every `check --read-data`
 * would report it damaged again until a prune happened to repack it.
 */
async function packsWithDamage(
  repository: Repository,
  damaged: ReadonlySet<string>,
): Promise<Set<string>> {
  const packs = new Set<string>();
  for (const hex of damaged) {
    const location = repository.index.get(Buffer.from(hex, 'hex'));
    if (location) packs.add(location.pack);
  }
  if (packs.size === 0) return packs;
  // A pack that cannot be read at all (gone) has nothing to copy: its objects are only dropped.
  const present = new Set<string>();
  for await (const file of repository.storage.list('data')) present.add(file.name);
  return new Set([...packs].filter((pack) => present.has(pack)));
}

/** The items that need any of `ids` (hex), in every snapshot that can be read. */
export async function itemsNeeding(
  repository: Repository,
  ids: readonly string[],
): Promise<AffectedItem[]> {
  if (ids.length === 0) return [];
  const snapshots = [];
  for await (const entry of repository.snapshots(() => undefined)) snapshots.push(entry);
  return traceItems(repository, snapshots, new Set(ids));
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
