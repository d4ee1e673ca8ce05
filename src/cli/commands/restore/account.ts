import type { Command } from 'commander';
import { parseParts } from '../../../app/restore/collection-target.js';
import type { CommandRunner } from '../../main.js';
import { addNotifyOption, cliRequester } from '../../notify.js';
import { withProgressView } from '../../output/progress-view.js';
import { exitCodeOf, printRestoreReport } from './restore-output.js';

interface AccountOptions {
  at: string;
  source?: string;
  folder?: string[];
  intoFolder?: string;
  toAccount?: string;
  toServer?: string;
  createAccount?: boolean;
  only?: string;
  notify?: string;
}

export function registerRestoreAccount(restore: Command, run: CommandRunner): void {
  const command = restore
    .command('account')
    .description(
      'an account as it was at a date, merged into itself or another account: missing folders and messages are added, nothing is deleted',
    )
    .argument('<account>', 'the account')
    .option(
      '--at <date>',
      'as it was at this date, or in this snapshot (its id) (default: last)',
      'last',
    )
    .option('--source <server>', 'the server, when the account name exists on several')
    .option('--folder <folder...>', 'only these folders (with their subfolders)')
    .option(
      '--into-folder <folder>',
      'put the restored folders below this folder instead of merging',
    )
    .option('--to-account <account>', 'restore into this account instead')
    .option('--to-server <server>', 'the server of the target account (default: the backed-up one)')
    .option(
      '--create-account',
      "create the target account first, through the server's provisioning command",
    )
    .option('--only <parts>', 'only these parts: mail, calendars, contacts (comma-separated)');
  addNotifyOption(command).action(async (name: string, options: AccountOptions) =>
    run(async (context) => {
      const { restoreAccountAt } = await import('../../../app/restore/account-restore-service.js');
      const parts = parseParts(options.only);
      const started = Date.now();
      const report = await withProgressView(context.output, 'restore', (sink) =>
        restoreAccountAt(
          context,
          {
            account: name,
            source: options.source,
            at: options.at,
            folders: options.folder,
            intoFolder: options.intoFolder,
            toAccount: options.toAccount,
            toServer: options.toServer,
            createAccount: options.createAccount,
            parts,
            requestedBy: cliRequester(context.terminal.env),
            notify: options.notify,
          },
          sink,
        ),
      );
      printRestoreReport(context.output, report, Date.now() - started);
      return exitCodeOf(report);
    }),
  );
}
