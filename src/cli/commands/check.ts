import type { Command } from 'commander';
import type { DamagedItem } from '../../maintenance/check.js';
import type { CheckRepair } from '../../app/maintenance/check-service.js';
import { ExitCode } from '../exit-codes.js';
import type { CommandRunner } from '../main.js';
import { formatBytes } from '../../text/format.js';
import { PROGRAM } from '../program-name.js';

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
          const { checkRepositoryAt } = await import('../../app/maintenance/check-service.js');
          const bars = {
            check: context.output.progress('check'),
            repair: context.output.progress('repair'),
          };
          let result;
          try {
            result = await checkRepositoryAt(context, {
              ...options,
              program: PROGRAM,
              onCheckProgress: (phase, done, total) =>
                bars.check.setDetail(`${phase} ${done}/${total}`),
              onRepairProgress: (phase, done, total) => {
                bars.check.finish();
                bars.repair.setDetail(`${phase} ${done}/${total}`);
              },
            });
          } finally {
            bars.check.finish();
            bars.repair.finish();
          }
          const { report, percent, slice, repair } = result;
          // Damage found only by the repair's own reading, named first as the repair found it.
          for (const item of repair?.found ?? [])
            context.output.problem(`damaged item: ${describeItem(item)}`);
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
            // What it repaired, as before; the items only it found are listed above.
            ...(options.repair ? { repair: repair && { ...repair, found: undefined } } : {}),
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
        }),
    );
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
