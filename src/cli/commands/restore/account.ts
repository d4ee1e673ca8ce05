import type { Command } from 'commander';
import { ImapError } from '../../../imap/imap-error.js';
import { parseAt } from '../../../dates/at-spec.js';
import type { ImapCounters } from '../../../imap/connect.js';
import { readAccountTree } from '../../../mailbox/account-tree.js';
import { resolveAccount } from '../../../app/account-resolution.js';
import { accountSnapshotAt } from '../../snapshot-at.js';
import type { CliContext } from '../../context.js';
import { UsageError } from '../../exit-codes.js';
import type { CommandRunner } from '../../main.js';
import { addNotifyOption, notified } from '../../notify.js';
import { formatTime } from '../../../text/format.js';
import { restoreOutcome } from '../../restore-outcome.js';
import type { RestoreReport } from '../../../restore/restore-report.js';
import { buildReport, exitCodeOf, printRestoreReport } from './restore-output.js';
import { openJustProvisioned } from '../../../restore/login-patience.js';
import { findServer, openTarget } from './restore-target.js';
import type { AccountRestoreOutcome } from '../../../restore/account-restore.js';
import {
  collectionsOfTree,
  kindsOf,
  mergeOutcome,
  parseParts,
  restoreCollectionsInto,
} from './collection-target.js';

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

/** Runs the server's provisioning hook for an account (--create-account). */
export async function createAccount(
  context: CliContext,
  serverName: string | undefined,
  account: string,
): Promise<void> {
  const { provisionAccount } = await import('../../../provisioning/provision-account.js');
  const loaded = await context.config();
  const { server, serverIndex } = await findServer(context, serverName, `creating ${account}`);
  if (!server.provisioning)
    throw new UsageError(
      `--create-account: servers[${serverIndex}].provisioning.command is not configured for ${server.name}`,
    );
  await provisionAccount(server.provisioning.command, account, { cwd: loaded.directory });
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
      const { restoreAccount } = await import('../../../restore/account-restore.js');
      const at = parseAt(options.at);
      const parts = parseParts(options.only);
      const loaded = await context.config();
      const repository = await context.repository();
      const catalog = await context.catalog();
      const account = await resolveAccount(catalog, name, options.source);
      const snapshot = await accountSnapshotAt(catalog, account, at);
      if (!snapshot)
        throw new Error(`no backup of ${name} at ${options.at}: its first backup is later`);
      const targetAccount = options.toAccount ?? account.name;
      const targetServer = options.toServer ?? account.source;
      const started = Date.now();
      const report = await notified(context, {
        kind: 'restore',
        title: `restore of ${account.name}`,
        initiator: options.notify,
        parameters: {
          Account: `${account.source}/${account.name}`,
          Target: `${targetServer}/${targetAccount}`,
          'As of': `${formatTime(snapshot.time)} (snapshot ${snapshot.id.slice(0, 12)})`,
          ...(options.folder ? { Folders: options.folder.join(', ') } : {}),
          ...(options.only ? { Only: options.only } : {}),
        },
        outcome: (report: RestoreReport) => ({ outcome: restoreOutcome(report), report }),
        work: async () => {
          if (options.createAccount) await createAccount(context, targetServer, targetAccount);
          const tree = await readAccountTree(repository, snapshot.tree);
          const progress = context.output.progress('restore');
          const outcome: AccountRestoreOutcome = { folders: [], failures: [], bytes: 0 };
          try {
            if (parts.has('mail')) {
              const counters: ImapCounters = { commands: 0 };
              const open = () => openTarget(context, targetServer, targetAccount, counters);
              const { target } = options.createAccount
                ? await openJustProvisioned(open)
                : await open().catch((error: unknown) => {
                    throw withCreateAccountHint(error, targetAccount !== account.name);
                  });
              try {
                mergeOutcome(
                  outcome,
                  await restoreAccount({
                    repository,
                    tree,
                    target,
                    log: context.log,
                    batchSize: loaded.config.restore.batchSize,
                    workers: loaded.config.restore.workers,
                    folders: options.folder,
                    intoFolder: options.intoFolder,
                    onFolder: (folder) => progress.setDetail(folder),
                    onMessages: (count, bytes) => progress.add(count, bytes),
                  }),
                );
              } finally {
                await target.close();
              }
            }
            await restoreCollectionsInto(
              context,
              { server: targetServer, account: targetAccount },
              await collectionsOfTree(repository, tree, kindsOf(parts)),
              outcome,
              progress,
            );
            return buildReport(
              {
                account: `${account.source}/${account.name}`,
                target: `${targetServer}/${targetAccount}`,
                snapshot: snapshot.id,
                snapshotTime: snapshot.time.toISOString(),
              },
              outcome,
            );
          } finally {
            progress.finish();
          }
        },
      });
      printRestoreReport(context.output, report, Date.now() - started);
      return exitCodeOf(report);
    }),
  );
}

/**
 * A login refused for another account may mean the account does not exist yet: say what creates
 * it. (Into the account itself, the backup's own account, a refusal is about the credentials.)
 */
function withCreateAccountHint(error: unknown, intoAnother: boolean): unknown {
  if (intoAnother && error instanceof ImapError && error.kind === 'auth')
    error.message += '; if the account does not exist yet, --create-account creates it first';
  return error;
}
