import type { CheckReport, DamagedItem } from '../../maintenance/check.js';
import type { RepairFolder, RepositoryRepair } from '../../maintenance/repair.js';
import type { SnapshotFileRepair } from '../../maintenance/snapshot-file-repair.js';
import type { Repository } from '../../repository/repository.js';
import { UsageError } from '../errors.js';
import { recordRun, startRun } from '../run-record.js';
import type { Session } from '../session.js';

/** What a repair did, with the damaged items only its own reading found. */
export type CheckRepair = RepositoryRepair & {
  folders: RepairFolder[];
  files: SnapshotFileRepair[];
  found: DamagedItem[];
};

export interface CheckRequest {
  /** Read every pack and authenticate every object. */
  readData?: boolean;
  /** Read this share of the packs (such as 10%), going on from where the last run stopped. */
  readDataSubset?: string;
  /** A remote repository: read from the local cache's copies. */
  cached?: boolean;
  /** Put right what the check found. */
  repair?: boolean;
  /** The program that writes repaired snapshot files, as they record it. */
  program: string;
  onCheckProgress?: (phase: string, done: number, total: number) => void;
  onRepairProgress?: (phase: string, done: number, total: number) => void;
}

export interface CheckResult {
  report: CheckReport;
  percent: number | undefined;
  /** The packs a subset check read, and how many there were. */
  slice: { chosen: string[]; cursor: string | null; of: number } | undefined;
  repair: CheckRepair | null;
}

/**
 * Verifies the repository as the remote holds it (or the cache, with cached): its structure, and
 * with readData every object, naming each damaged item; with repair, puts right what it can.
 * In the run history from its start; a repair holds the repository's lock.
 */
export async function checkRepositoryAt(
  session: Session,
  options: CheckRequest,
): Promise<CheckResult> {
  const { checkRepository } = await import('../../maintenance/check.js');
  const { parseSubset, nextSlice } = await import('../../maintenance/data-subset.js');
  let percent: number | undefined;
  if (options.readDataSubset !== undefined) {
    if (options.readData)
      throw new UsageError('--read-data reads every pack: give it or --read-data-subset');
    try {
      percent = parseSubset(options.readDataSubset);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  // In the run history from its start: a check killed halfway shows as interrupted.
  await startRun(session, 'check');
  // What the remote itself holds, by default: the cache's copies were checked when they
  // were first read, and a damaged or missing file on the remote is what check is for.
  const storage = options.cached ? await session.storage() : await session.storageWithoutCache();
  // Not session.repository(): that loads the index, and a damaged index is what check must report.
  const repository = await session.openRepository(storage);
  // A repair writes the index again from the one this check loads: no prune (or other
  // repair) may change it meanwhile. A check that only reads takes no lock.
  const lock = options.repair ? await session.lock('check --repair', storage) : null;
  try {
    // Where the last subset stopped is kept in the catalog, so the next run goes on from there.
    let slice: { chosen: string[]; cursor: string | null; of: number } | undefined;
    const cursorKey = 'check.readDataSubset.cursor';
    const { readMetaValue, writeMetaValue } = await import('../../catalog/meta-values.js');
    const cursor =
      percent === undefined
        ? null
        : await readMetaValue((await session.catalog({ sync: false })).db, cursorKey);
    const started = new Date();
    const report = await checkRepository(repository, {
      readData: Boolean(options.readData) || percent !== undefined,
      ...(percent === undefined
        ? {}
        : {
            readPacks: (packs: readonly string[]) => {
              slice = { ...nextSlice(packs, percent, cursor), of: packs.length };
              return new Set(slice.chosen);
            },
          }),
      log: session.log,
      onProgress: options.onCheckProgress,
      repair: Boolean(options.repair),
    });
    await recordRun(session, {
      kind: 'check',
      started,
      outcome: report.ok ? 'ok' : 'failed',
      counts: {
        errors: report.errors.length,
        damagedObjects: report.damagedObjects.length,
        packsRead: report.stats.packsRead,
        bytesRead: report.stats.bytesRead,
      },
      error: report.errors[0] ?? null,
    });
    if (slice?.cursor) {
      await writeMetaValue((await session.catalog({ sync: false })).db, cursorKey, slice.cursor);
    }
    lock?.assertHeld();
    const repair =
      options.repair && needsRepair(report, repository)
        ? await repairDamage(session, repository, report, options, () => lock?.assertHeld())
        : null;
    return { report, percent, slice, repair };
  } finally {
    await lock?.release();
  }
}

/** Whether check --repair has something to do: damage, or an index that is not whole. */
function needsRepair(report: CheckReport, repository: Repository): boolean {
  return (
    report.damagedObjects.length > 0 ||
    report.damagedHeaders.length > 0 ||
    repository.packsFromHeaders.size > 0 ||
    report.unreadableFiles.some((file) => file.damaged) ||
    report.unreadableSnapshotFiles.some((file) => file.damaged)
  );
}

/**
 * check --repair: the index written again as the packs say (damaged objects left out), then the
 * next backup re-reads the folders of damaged messages.
 */
async function repairDamage(
  session: Session,
  repository: Repository,
  report: CheckReport,
  options: CheckRequest,
  assertLocked: () => void,
): Promise<CheckRepair> {
  const { repairRepository, markForRepair, itemsNeeding } =
    await import('../../maintenance/repair.js');
  const { rewriteFromCatalog } = await import('../../maintenance/snapshot-file-repair.js');
  // Damaged snapshot and run files first: until they are readable again, prune must refuse.
  const files = await rewriteFromCatalog(
    repository,
    (await session.catalog({ sync: false })).db,
    report.unreadableSnapshotFiles.filter((file) => file.damaged),
    { program: options.program, assertLocked },
  );
  const repaired = await repairRepository(repository, report, {
    assertLocked,
    onProgress: options.onRepairProgress,
  });
  // Damage found only by the repair's own reading is repaired the same way.
  const found = await itemsNeeding(repository, repaired.newlyDamaged);
  // Mail folders only: calendars and contacts are compared by ETag, not read again (yet).
  const folders = [
    ...new Map(
      [...report.damagedItems, ...found]
        .filter((item) => item.uid !== null)
        .map((item) => [
          JSON.stringify([item.source, item.account, item.folder]),
          { source: item.source, account: item.account, folder: item.folder },
        ]),
    ).values(),
  ];
  if (folders.length > 0) await markForRepair((await session.catalog({ sync: false })).db, folders);
  return { ...repaired, folders, files, found };
}
