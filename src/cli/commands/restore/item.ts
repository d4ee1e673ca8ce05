import type { Command } from 'commander';
import type { CommandRunner } from '../../main.js';
import { addNotifyOption, cliRequester } from '../../notify.js';
import { withProgressView } from '../../output/progress-view.js';
import { exitCodeOf, printRestoreReport } from './restore-output.js';

interface ItemOptions {
  toFolder?: string;
  toAccount?: string;
  toServer?: string;
  notify?: string;
}

export function registerRestoreItem(restore: Command, run: CommandRunner): void {
  const command = restore
    .command('item')
    .description(
      'single items, into their folder (recreated if gone), another folder or another account',
    )
    .argument('<item...>', 'item ids, as ls and search print them')
    .option('--to-folder <folder>', 'into this folder instead (created if missing)')
    .option('--to-account <account>', 'into this account instead')
    .option(
      '--to-server <server>',
      'the server of the target account (default: the backed-up one)',
    );
  addNotifyOption(command).action(async (keys: string[], options: ItemOptions) =>
    run(async (context) => {
      const { restoreItems } = await import('../../../app/restore/item-restore-service.js');
      const started = Date.now();
      const reports = await withProgressView(context.output, 'restore', (sink) =>
        restoreItems(
          context,
          {
            keys,
            toFolder: options.toFolder,
            toAccount: options.toAccount,
            toServer: options.toServer,
            requestedBy: cliRequester(context.terminal.env),
            notify: options.notify,
          },
          sink,
        ),
      );
      let code = 0;
      for (const report of reports) {
        printRestoreReport(context.output, report, Date.now() - started);
        code = Math.max(code, exitCodeOf(report));
      }
      return code;
    }),
  );
}
