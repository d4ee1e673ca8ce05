import type { Command } from 'commander';
import { ExitCode } from '../exit-codes.js';
import type { CommandRunner } from '../main.js';
import { formatBytes } from '../output/format.js';

export function registerCheck(program: Command, run: CommandRunner): void {
  program
    .command('check')
    .description(
      'verify the repository; --read-data reads and authenticates every object and names every damaged item',
    )
    .option('--read-data', 'read every pack and authenticate every object')
    .option(
      '--cached',
      "a remote repository: read index, snapshot and run files, and kept packs, from the local cache's copies",
    )
    .action(async (options: { readData?: boolean; cached?: boolean }) =>
      run(async (context) => {
        const { checkRepository } = await import('../../maintenance/check.js');
        // What the remote itself holds, by default: the cache's copies were checked when they
        // were first read, and a damaged or missing file on the remote is what check is for.
        const storage = options.cached
          ? await context.storage()
          : await context.storageWithoutCache();
        // Not context.repository(): that loads the index, and a damaged index is what check must report.
        const repository = await context.openRepository(storage);
        const progress = context.output.progress('check');
        const report = await checkRepository(repository, {
          readData: Boolean(options.readData),
          log: context.log,
          onProgress: (phase, done, total) => progress.setDetail(`${phase} ${done}/${total}`),
        });
        progress.finish();
        context.output.result(report);
        for (const warning of report.warnings) context.output.warn(warning);
        for (const error of report.errors) context.output.line(`error: ${error}`);
        for (const item of report.damagedItems) {
          context.output.line(
            `damaged item: ${item.source}/${item.account} ${item.uid === null ? item.folder : `folder ${item.folder} UID ${item.uid} (${item.date ?? ''})`} "${item.subject ?? '?'}" in ${item.snapshots.length} snapshot(s)`,
          );
        }
        const { stats } = report;
        context.output.line(
          `${report.ok ? 'no errors' : `${report.errors.length} error(s)`}: ${stats.snapshots} snapshots, ${stats.objects} objects in ${stats.packs} packs, ` +
            `${stats.indexes} index files, ${stats.keys} keys${options.readData ? `; read ${formatBytes(stats.bytesRead)}` : ''}`,
        );
        return report.ok ? ExitCode.Ok : ExitCode.Failed;
      }),
    );
}
