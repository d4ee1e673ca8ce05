import type { Command } from 'commander';
import type { CheckReport, DamagedItem } from '../../maintenance/check.js';
import type { RepairFolder, RepositoryRepair } from '../../maintenance/repair.js';
import type { SnapshotFileRepair } from '../../maintenance/snapshot-file-repair.js';
import type { Repository } from '../../repository/repository.js';
import type { CliContext } from '../context.js';
import { recordRun, startRun } from '../../app/run-record.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import type { CommandRunner } from '../main.js';
import { formatBytes } from '../../text/format.js';
import { PROGRAM } from '../program-name.js';

type CheckRepair = RepositoryRepair & { folders: RepairFolder[]; files: SnapshotFileRepair[] };

export function registerCheck(program: Command, run: CommandRunner): void {
  program
    .command('check')
    .description(
      'verify the repository; --read-data reads and authenticates every object and names every damaged item',
    )
    .option('--read-data', 'read every pack and authenticate every object')
    .option(
      '--repair',
      'put right what check found: rebuild the index from the packs where an index file or a pack header is damaged, write a damaged snapshot or run file again from the catalog, remove a damaged condemned file, drop damaged objects from the index and have the next backup read the folders that need them whole, storing again what the server still has',
    )
    .option(
      '--read-data-subset <percent>',
      'read this share of the packs (such as 10%), going on at each run from where the last stopped, so that every pack is read in turn',
    )
    .option(
      '--cached',
      "a remote repository: read index, snapshot and run files, and kept packs, from the local cache's copies",
    )
    .action(
      async (options: {
        readData?: boolean;
        readDataSubset?: string;
        cached?: boolean;
        repair?: boolean;
      }) =>
        run(async (context) => {
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
          await startRun(context, 'check');
          // What the remote itself holds, by default: the cache's copies were checked when they
          // were first read, and a damaged or missing file on the remote is what check is for.
          const storage = options.cached
            ? await context.storage()
            : await context.storageWithoutCache();
          // Not context.repository(): that loads the index, and a damaged index is what check must report.
          const repository = await context.openRepository(storage);
          // A repair writes the index again from the one this check loads: no prune (or other
          // repair) may change it meanwhile. A check that only reads takes no lock.
          const lock = options.repair ? await context.lock('check --repair', storage) : null;
          try {
            // Where the last subset stopped is kept in the catalog, so the next run goes on from there.
            let slice: { chosen: string[]; cursor: string | null; of: number } | undefined;
            const cursorKey = 'check.readDataSubset.cursor';
            const { readMetaValue, writeMetaValue } = await import('../../catalog/meta-values.js');
            const cursor =
              percent === undefined
                ? null
                : await readMetaValue((await context.catalog({ sync: false })).db, cursorKey);
            const progress = context.output.progress('check');
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
              log: context.log,
              onProgress: (phase, done, total) => progress.setDetail(`${phase} ${done}/${total}`),
              repair: Boolean(options.repair),
            });
            progress.finish();
            await recordRun(context, {
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
              await writeMetaValue(
                (await context.catalog({ sync: false })).db,
                cursorKey,
                slice.cursor,
              );
            }
            lock?.assertHeld();
            const repair =
              options.repair && needsRepair(report, repository)
                ? await repairDamage(context, repository, report, () => lock?.assertHeld())
                : null;
            context.output.result({
              ...report,
              ...(slice
                ? {
                    subset: {
                      percent,
                      packs: slice.chosen.length,
                      of: slice.of,
                      first: slice.chosen[0] ?? null,
                      last: slice.chosen.at(-1) ?? null,
                    },
                  }
                : {}),
              ...(options.repair ? { repair } : {}),
            });
            for (const warning of report.warnings) context.output.warn(warning);
            for (const error of report.errors) context.output.problem(`error: ${error}`);
            for (const item of report.damagedItems)
              context.output.problem(`damaged item: ${describeItem(item)}`);
            for (const item of report.unindexedItems)
              context.output.problem(`unindexed item: ${describeItem(item)}`);
            for (const file of repair?.files ?? [])
              if (file.notRepaired)
                context.output.problem(
                  `not repaired: ${file.kind === 'runs' ? 'run file' : 'snapshot'} ${file.name}: ${file.notRepaired}`,
                );
            if (repair) context.output.line(`repair: ${describeRepair(repair)}`);
            const { stats } = report;
            context.output.line(
              `${report.ok ? 'no errors' : `${report.errors.length} error(s)`}: ${stats.snapshots} snapshots, ${stats.objects} objects in ${stats.packs} packs, ` +
                `${stats.indexes} index files, ${stats.keys} keys${options.readData || slice ? `; read ${formatBytes(stats.bytesRead)}` : ''}` +
                (slice
                  ? ` (${stats.packsRead} of ${slice.of} packs; the next run goes on from there)`
                  : ''),
            );
            return report.ok ? ExitCode.Ok : ExitCode.Failed;
          } finally {
            await lock?.release();
          }
        }),
    );
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
  context: CliContext,
  repository: Repository,
  report: CheckReport,
  assertLocked: () => void,
): Promise<CheckRepair> {
  const { repairRepository, markForRepair, itemsNeeding } =
    await import('../../maintenance/repair.js');
  const { rewriteFromCatalog } = await import('../../maintenance/snapshot-file-repair.js');
  // Damaged snapshot and run files first: until they are readable again, prune must refuse.
  const files = await rewriteFromCatalog(
    repository,
    (await context.catalog({ sync: false })).db,
    report.unreadableSnapshotFiles.filter((file) => file.damaged),
    { program: PROGRAM, assertLocked },
  );
  const progress = context.output.progress('repair');
  const repaired = await repairRepository(repository, report, {
    assertLocked,
    onProgress: (phase, done, total) => progress.setDetail(`${phase} ${done}/${total}`),
  });
  progress.finish();
  // Damage found only by the repair's own reading is repaired the same way.
  const found = await itemsNeeding(repository, repaired.newlyDamaged);
  for (const item of found) context.output.problem(`damaged item: ${describeItem(item)}`);
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
  if (folders.length > 0) await markForRepair((await context.catalog({ sync: false })).db, folders);
  return { ...repaired, folders, files };
}

/** "mail1/alice folder INBOX UID 3 (2026-11-20T…) \"Subject\"", or the part of a snapshot. */
function describeItem(item: DamagedItem): string {
  const account = `${item.source}/${item.account}`;
  const where =
    item.part === 'account tree'
      ? 'its account tree'
      : item.part === 'folder listing'
        ? `folder ${item.folder}: its listing`
        : item.uid === null
          ? `${item.folder} "${item.subject ?? '?'}"`
          : `folder ${item.folder} UID ${item.uid} (${item.date ?? ''}) "${item.subject ?? '?'}"`;
  return `${account} ${where} in ${item.snapshots.length} snapshot(s)`;
}

function describeRepair(repair: CheckRepair): string {
  const done: string[] = [];
  for (const file of repair.files) {
    if (file.notRepaired) continue;
    const what = file.kind === 'runs' ? 'run file' : 'snapshot file';
    done.push(
      file.written
        ? `damaged ${what} ${file.name} written again from the catalog as ${file.written} (${file.snapshots} snapshot(s)) and removed`
        : `damaged ${what} ${file.name} removed (readable files hold its ${file.snapshots} snapshot(s))`,
    );
  }
  if (repair.packsIndexed > 0)
    done.push(
      `${repair.packsIndexed} pack(s) no readable index file listed were read whole, verified, and their ${repair.objectsIndexed} intact object(s) indexed again`,
    );
  if (repair.packsRewritten > 0)
    done.push(
      `${repair.packsRewritten} pack(s) with a damaged header had their ${repair.objectsRewritten} intact object(s) written into new packs (prune deletes the old ones)`,
    );
  if (repair.objectsDropped > 0)
    done.push(`${repair.objectsDropped} damaged object(s) dropped from the index`);
  if (repair.indexFilesWritten > 0)
    done.push(
      `${repair.indexFilesWritten} index file(s) written in place of ${repair.indexFilesSuperseded}`,
    );
  if (repair.condemnedFilesRemoved > 0)
    done.push(`${repair.condemnedFilesRemoved} damaged condemned file(s) removed`);
  if (repair.folders.length > 0)
    done.push(
      `the next backup reads ${repair.folders.length} folder(s) whole and stores again what the server still has: ${repair.folders.map((f) => `${f.source}/${f.account} ${f.folder}`).join(', ')}`,
    );
  return done.length > 0 ? done.join('; ') : 'nothing could be repaired';
}
