import type { Command } from 'commander';
import { parseDate } from '../../dates/parse-date.js';
import type { ImapCounters } from '../../imap/connect.js';
import { readAccountTree } from '../../mailbox/account-tree.js';
import type { RestoreReport } from '../../restore/restore-report.js';
import { resolveAccount } from '../account-resolution.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import type { CommandRunner } from '../main.js';
import { formatBytes, formatCount, formatDuration, formatTime } from '../output/format.js';
import type { Output } from '../output/output.js';
import { imapEndpoint, imapLogin } from '../server-access.js';

interface AccountOptions {
  at: string;
  source?: string;
  folder?: string[];
  intoFolder?: string;
}

export function registerRestore(program: Command, run: CommandRunner): void {
  const restore = program.command('restore').description('put backed-up data back');
  restore
    .command('account')
    .description(
      'an account as it was at a date, merged back: missing folders and messages are added, nothing is deleted',
    )
    .argument('<account>', 'the account')
    .option('--at <date>', 'as it was at this date (default: last)', 'last')
    .option('--source <server>', 'the server, when the account name exists on several')
    .option('--folder <folder...>', 'only these folders (with their subfolders)')
    .option(
      '--into-folder <folder>',
      'put the restored folders below this folder instead of merging',
    )
    .action(async (name: string, options: AccountOptions) =>
      run(async (context) => {
        const { restoreAccount } = await import('../../restore/account-restore.js');
        const { ImapRestoreTarget } = await import('../../targets/imap/imap-restore-target.js');
        const at = parseDate(options.at, '--at', 'end');
        const loaded = await context.config();
        const repository = await context.repository();
        const catalog = await context.catalog();
        const account = await resolveAccount(catalog, name, options.source);
        const snapshot = await catalog.snapshotAt(account.id, at);
        if (!snapshot)
          throw new Error(`no backup of ${name} at ${options.at}: its first backup is later`);
        const refs = await context.accounts().catch(() => []);
        const ref = refs.find(
          (r) => r.server.name === account.source && r.account.name === account.name,
        );
        const serverIndex = loaded.config.servers.findIndex(
          (server) => server.name === account.source,
        );
        const server = loaded.config.servers[serverIndex];
        if (!server)
          throw new UsageError(
            `server ${account.source} of ${account.name} is not in the configuration`,
          );
        const login = await imapLogin(
          loaded,
          server,
          serverIndex,
          ref?.account ?? { name: account.name },
        );
        const started = Date.now();
        const counters: ImapCounters = { commands: 0 };
        const target = await ImapRestoreTarget.open(await imapEndpoint(loaded, server), login, {
          log: context.log,
          counters,
        });
        const progress = context.output.progress('restore');
        let outcome;
        try {
          outcome = await restoreAccount({
            repository,
            tree: await readAccountTree(repository, snapshot.tree),
            target,
            log: context.log,
            batchSize: loaded.config.restore.batchSize,
            workers: loaded.config.restore.workers,
            folders: options.folder,
            intoFolder: options.intoFolder,
            onFolder: (folder) => progress.setDetail(folder),
            onMessages: (count, bytes) => progress.add(count, bytes),
          });
        } finally {
          progress.finish();
          await target.close();
        }
        const report: RestoreReport = {
          account: `${account.source}/${account.name}`,
          target: `${server.name}/${account.name}`,
          snapshot: snapshot.id,
          snapshotTime: snapshot.time.toISOString(),
          folders: outcome.folders,
          failures: outcome.failures,
          totals: {
            restored: outcome.folders.reduce((sum, f) => sum + f.restored, 0),
            alreadyPresent: outcome.folders.reduce((sum, f) => sum + f.alreadyPresent, 0),
            failed: outcome.failures.length,
            foldersCreated: outcome.folders.filter((f) => f.created).length,
            bytes: outcome.bytes,
          },
        };
        printRestoreReport(context.output, report, Date.now() - started);
        return report.totals.failed > 0 ? ExitCode.Partial : ExitCode.Ok;
      }),
    );
}

export function printRestoreReport(output: Output, report: RestoreReport, elapsedMs: number): void {
  output.result({ ...report, seconds: elapsedMs / 1000 });
  output.note(
    `restoring ${report.account} as of ${formatTime(new Date(report.snapshotTime))} into ${report.target}`,
  );
  output.table(
    ['FOLDER', 'RESTORED', 'ALREADY THERE', 'FAILED', ''],
    report.folders.map((f) => [
      f.target,
      formatCount(f.restored),
      formatCount(f.alreadyPresent),
      formatCount(f.failed),
      f.created ? 'created' : '',
    ]),
    [1, 2, 3],
  );
  for (const failure of report.failures)
    output.line(
      `FAILED  ${failure.folder}${failure.uid ? ` UID ${failure.uid}` : ''}: ${failure.reason}`,
    );
  const { totals } = report;
  output.line(
    `restored ${formatCount(totals.restored)} items (${formatBytes(totals.bytes)}), ${formatCount(totals.alreadyPresent)} already there, ` +
      `${formatCount(totals.failed)} failed, ${totals.foldersCreated} folder(s) created, in ${formatDuration(elapsedMs)}`,
  );
}
