import type { Command } from 'commander';
import type { CommandRunner } from '../main.js';
import { formatBytes, formatCount } from '../../text/format.js';

export function registerStats(program: Command, run: CommandRunner): void {
  program
    .command('stats')
    .description('raw bytes, stored bytes, deduplication and compression ratios, objects, packs')
    .action(async () =>
      run(async (context) => {
        const { repositoryStats } = await import('../../app/browse/stats-service.js');
        const stats = await repositoryStats(context);
        const { latestBytes, allSnapshotsBytes: allBytes, uniqueBytes: rawObjectBytes } = stats;
        const { storedObjectBytes: objectBytes, packs, packBytes } = stats;
        context.output.result(stats);
        const rows: Array<[string, string]> = [];
        const line = (label: string, value: string): void => void rows.push([label, value]);
        line('accounts', formatCount(stats.accounts));
        line('snapshots', formatCount(stats.snapshots));
        line(
          'mail in the latest snapshots',
          `${formatCount(stats.latestItems)} items, ${formatBytes(latestBytes)}`,
        );
        line('mail in all snapshots', formatBytes(allBytes));
        line(
          'unique objects (before compression)',
          `${formatCount(stats.objects)} objects, ${formatBytes(rawObjectBytes)}`,
        );
        line(
          'stored (compressed, encrypted)',
          `${formatBytes(objectBytes)} in ${formatCount(packs)} packs (${formatBytes(packBytes)} on disk)`,
        );
        line('deduplication ratio', `${stats.deduplicationRatio.toFixed(2)}x`);
        line('compression ratio', `${stats.compressionRatio.toFixed(2)}x`);
        line('repository size / latest mail', `${stats.repositoryToLatest.toFixed(3)}`);
        // Values in one column, two spaces after the longest label.
        const width = Math.max(...rows.map(([label]) => label.length)) + 2;
        for (const [label, value] of rows) context.output.line(`${label.padEnd(width)}${value}`);
      }),
    );
}
