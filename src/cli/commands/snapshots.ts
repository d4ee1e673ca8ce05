import type { Command } from 'commander';
import type { CommandRunner } from '../main.js';
import { formatBytes, formatCount, formatTime, shortId } from '../../text/format.js';

export function registerSnapshots(program: Command, run: CommandRunner): void {
  program
    .command('snapshots')
    .description('list snapshots: id, time, account, items, size, bytes added')
    .option('--account <account>', 'only this account')
    .action(async (options: { account?: string }) =>
      run(async (context) => {
        const catalog = await context.catalog();
        const rows = await catalog.snapshots({ account: options.account });
        context.output.result(rows.map((row) => ({ ...row, time: row.time.toISOString() })));
        context.output.table(
          ['ID', 'TIME', 'ACCOUNT', 'ITEMS', 'SIZE', 'ADDED'],
          rows.map((row) => [
            shortId(row.id),
            formatTime(row.time),
            `${row.source}/${row.account}`,
            formatCount(row.items),
            formatBytes(row.bytes),
            formatBytes(row.bytesAdded),
          ]),
          [3, 4, 5],
        );
        context.output.note(`${rows.length} snapshot(s)`);
      }),
    );
}
