import type { Command } from 'commander';
import type { CommandRunner } from '../main.js';
import { formatBytes, formatCount } from '../../text/format.js';

export function registerStats(program: Command, run: CommandRunner): void {
  program
    .command('stats')
    .description('raw bytes, stored bytes, deduplication and compression ratios, objects, packs')
    .action(async () =>
      run(async (context) => {
        const repository = await context.repository();
        const catalog = await context.catalog();
        const snapshots = await catalog.snapshots();
        const latest = new Map<string, (typeof snapshots)[number]>();
        for (const snapshot of snapshots)
          latest.set(`${snapshot.source}/${snapshot.account}`, snapshot);
        let objectBytes = 0;
        let rawObjectBytes = 0;
        for (const [, location] of repository.index.entries()) {
          objectBytes += location.length;
          rawObjectBytes += location.rawLength;
        }
        let packBytes = 0;
        let packs = 0;
        for await (const file of repository.storage.list('data')) {
          packBytes += file.size;
          packs++;
        }
        const allBytes = snapshots.reduce((sum, s) => sum + s.bytes, 0);
        const latestBytes = [...latest.values()].reduce((sum, s) => sum + s.bytes, 0);
        const stats = {
          accounts: latest.size,
          snapshots: snapshots.length,
          latestItems: [...latest.values()].reduce((sum, s) => sum + s.items, 0),
          latestBytes,
          allSnapshotsBytes: allBytes,
          objects: repository.index.size,
          uniqueBytes: rawObjectBytes,
          storedObjectBytes: objectBytes,
          packs,
          packBytes,
          deduplicationRatio: rawObjectBytes > 0 ? allBytes / rawObjectBytes : 0,
          compressionRatio: objectBytes > 0 ? rawObjectBytes / objectBytes : 0,
          repositoryToLatest: latestBytes > 0 ? packBytes / latestBytes : 0,
        };
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
