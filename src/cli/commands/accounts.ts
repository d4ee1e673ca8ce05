import type { Command } from 'commander';
import type { CommandRunner } from '../main.js';
import { formatTime } from '../../text/format.js';

export function registerAccounts(program: Command, run: CommandRunner): void {
  program
    .command('accounts')
    .description(
      'every account known to the backups, with its last backup and whether it still exists on its source',
    )
    .action(async () =>
      run(async (context) => {
        const catalog = await context.catalog();
        const rows = await catalog.accounts();
        context.output.result(
          rows.map((row) => ({
            source: row.source,
            account: row.name,
            snapshots: row.snapshots,
            firstBackup: row.firstSeen.toISOString(),
            lastBackup: row.lastBackup.toISOString(),
            onSource: row.goneSince === null,
            goneSince: row.goneSince?.toISOString() ?? null,
          })),
        );
        context.output.table(
          ['ACCOUNT', 'SERVER', 'SNAPSHOTS', 'LAST BACKUP', 'ON SOURCE'],
          rows.map((row) => [
            row.name,
            row.source,
            String(row.snapshots),
            formatTime(row.lastBackup),
            row.goneSince ? `gone since ${formatTime(row.goneSince)}` : 'yes',
          ]),
          [2],
        );
      }),
    );
}
