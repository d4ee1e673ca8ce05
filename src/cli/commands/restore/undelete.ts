import type { Command } from 'commander';
import { formatTime } from '../../../text/format.js';
import type { CommandRunner } from '../../main.js';
import { addNotifyOption, cliRequester } from '../../notify.js';
import { withProgressView } from '../../output/progress-view.js';
import { exitCodeOf, printRestoreReport } from './restore-output.js';

interface UndeleteOptions {
  from: string;
  to: string;
  source?: string;
  intoFolder?: string;
  toAccount?: string;
  toServer?: string;
  notify?: string;
}

export function registerRestoreUndelete(restore: Command, run: CommandRunner): void {
  const command = restore
    .command('undelete')
    .description(
      'items deleted between two dates (expunged, or gone with their folder; not moved), back into their folders, tagged undelete_DD_MM_YY',
    )
    .argument('<account>', 'the account')
    .requiredOption('--from <date>', 'deleted at or after this date')
    .requiredOption('--to <date>', 'deleted at or before this date')
    .option('--source <server>', 'the server, when the account name exists on several')
    .option('--into-folder <folder>', 'put them below this folder instead of their own')
    .option('--to-account <account>', 'into this account instead')
    .option(
      '--to-server <server>',
      'the server of the target account (default: the backed-up one)',
    );
  addNotifyOption(command).action(async (name: string, options: UndeleteOptions) =>
    run(async (context) => {
      const { undelete } = await import('../../../app/restore/undelete-service.js');
      const started = Date.now();
      const result = await withProgressView(context.output, 'restore', (sink) =>
        undelete(
          context,
          {
            account: name,
            source: options.source,
            from: options.from,
            to: options.to,
            intoFolder: options.intoFolder,
            toAccount: options.toAccount,
            toServer: options.toServer,
            requestedBy: cliRequester(context.terminal.env),
            notify: options.notify,
          },
          sink,
        ),
      );
      printRestoreReport(context.output, result.report, Date.now() - started);
      context.output.note(
        `${result.deleted} item(s) deleted between ${formatTime(result.from)} and ${formatTime(result.to)}, tagged ${result.keyword}`,
      );
      return exitCodeOf(result.report);
    }),
  );
}
