import type { Command } from 'commander';
import type { RunReport } from '../../backup/backup-run.js';
import type { AccountJob } from '../../backup/account-backup.js';
import { ImapError } from '../../imap/imap-error.js';
import { readAccountTree } from '../../mailbox/account-tree.js';
import { ExitCode } from '../exit-codes.js';
import type { CommandRunner } from '../main.js';
import { formatBytes, formatCount, formatDuration } from '../output/format.js';
import type { Output } from '../output/output.js';
import { PROGRAM } from '../program-name.js';
import { imapEndpoint, imapLogin } from '../server-access.js';
import type { ImapCounters } from '../../imap/connect.js';

export function registerBackup(program: Command, run: CommandRunner): void {
  program
    .command('backup')
    .description('back up every configured account, or those named')
    .argument('[account...]', 'accounts to back up (default: all)')
    .action(async (names: string[]) =>
      run(async (context) => {
        const { runBackup } = await import('../../backup/backup-run.js');
        const { ImapAccountReader } = await import('../../sources/imap/imap-account-reader.js');
        const loaded = await context.config();
        const refs = await context.accounts(names);
        const repository = await context.repository();
        const catalog = await context.catalog();
        const counters: ImapCounters = { commands: 0 };
        const jobs: AccountJob[] = [];
        for (const ref of refs) {
          const endpoint = await imapEndpoint(loaded, ref.server);
          const login = await imapLogin(loaded, ref.server, ref.serverIndex, ref.account);
          const known = (await catalog.findAccounts(ref.account.name)).find(
            (account) => account.source === ref.server.name,
          );
          const last = known ? await catalog.snapshotAt(known.id, { kind: 'last' }) : null;
          jobs.push({
            source: ref.server.name,
            account: ref.account.name,
            retries: ref.server.imap.retries,
            parent: last
              ? { id: last.id, tree: await readAccountTree(repository, last.tree) }
              : null,
            openReader: () =>
              ImapAccountReader.open(endpoint, login, { log: context.log, counters }),
          });
        }
        const texts = catalog.textIndexer();
        const progress = context.output.progress('backup');
        progress.setTotal(jobs.length);
        let report;
        try {
          report = await runBackup({
            repository,
            jobs,
            concurrency: loaded.config.backup.concurrency,
            workers: loaded.config.backup.workers,
            log: context.log,
            program: PROGRAM,
            isRetryable: (error) => error instanceof ImapError && error.retryable,
            onSnapshot: async (id, _snapshot, hints) => {
              await texts.flush();
              await catalog.ingest(repository, id, hints);
            },
            onStored: (sha256, summary, raw) => texts.add(sha256, summary, raw),
            onProgress: (event) => {
              if (event.type === 'message') progress.add(1, event.bytes);
              else if (event.type === 'account-end') progress.step();
              else if (event.type === 'folder')
                progress.setDetail(`${event.account} ${event.folder}`);
            },
          });
        } finally {
          progress.finish();
          await texts.close();
        }
        if (names.length === 0) {
          for (const server of loaded.config.servers) {
            const present = refs
              .filter((ref) => ref.server.name === server.name)
              .map((ref) => ref.account.name);
            await catalog.markPresent(server.name, present, report.started.getTime());
          }
        }
        const code = exitCodeFor(report);
        printReport(context.output, report, counters);
        return code;
      }),
    );
}

function exitCodeFor(report: RunReport): ExitCode {
  const failed = report.accounts.filter((account) => !account.ok);
  if (report.accounts.length > 0 && failed.length === report.accounts.length) {
    const first = failed[0]?.error ?? 'failed';
    throw new Error(
      failed.length > 1 ? `${first} (and ${failed.length - 1} other account(s) failed)` : first,
    );
  }
  return failed.length > 0 || report.failures.length > 0 ? ExitCode.Partial : ExitCode.Ok;
}

function printReport(output: Output, report: RunReport, counters: ImapCounters): void {
  const seconds = (report.finished.getTime() - report.started.getTime()) / 1000;
  const { totals } = report;
  output.result({
    run: report.run,
    started: report.started.toISOString(),
    finished: report.finished.toISOString(),
    seconds,
    imapCommands: counters.commands,
    totals,
    accounts: report.accounts,
    failures: report.failures,
  });
  for (const account of report.accounts) {
    if (!account.ok) output.line(`FAILED  ${account.source}/${account.account}: ${account.error}`);
  }
  for (const failure of report.failures) {
    output.line(
      `FAILED  ${failure.source}/${failure.account} ${failure.folder ?? ''} UID ${failure.uid ?? '?'}: ${failure.reason}`,
    );
  }
  output.line(
    `backed up ${totals.accounts - totals.failedAccounts}/${totals.accounts} accounts: ${formatCount(totals.items)} items, ` +
      `${formatCount(totals.newItems)} new, ${formatBytes(totals.bytesRead)} read, ${formatBytes(totals.bytesAdded)} added ` +
      `in ${formatDuration(seconds * 1000)}`,
  );
}
