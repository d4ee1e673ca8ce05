import type { Command } from 'commander';
import type { RunReport } from '../../backup/backup-run.js';
import type { AccountJob } from '../../backup/account-backup.js';
import type { SetJob } from '../../backup/set-job.js';
import type { Catalog } from '../../catalog/catalog.js';
import type { Config } from '../../config/schema.js';
import { ImapError } from '../../imap/imap-error.js';
import { readAccountTree } from '../../mailbox/account-tree.js';
import { ExitCode } from '../exit-codes.js';
import type { CommandRunner } from '../main.js';
import { formatBytes, formatCount, formatDuration } from '../output/format.js';
import type { Output } from '../output/output.js';
import { PROGRAM } from '../program-name.js';
import { davAccess, imapEndpoint, imapLogin } from '../server-access.js';
import type { ImapCounters } from '../../imap/connect.js';

export function registerBackup(program: Command, run: CommandRunner): void {
  program
    .command('backup')
    .description(
      'back up every configured account, file set and command, or those named (accounts, or set names)',
    )
    .argument('[name...]', 'accounts, file sets or commands to back up (default: all)')
    .action(async (names: string[]) =>
      run(async (context) => {
        const { runBackup } = await import('../../backup/backup-run.js');
        const { ImapAccountReader } = await import('../../sources/imap/imap-account-reader.js');
        const loaded = await context.config();
        const { config } = loaded;
        const setNames = new Set([...config.files, ...config.commands].map((set) => set.name));
        const accountNames = names.filter((name) => !setNames.has(name));
        const wanted = (name: string) => names.length === 0 || names.includes(name);
        // Sets named alone: no account is backed up.
        const refs =
          names.length > 0 && accountNames.length === 0 ? [] : await context.accounts(accountNames);
        const repository = await context.repository();
        const catalog = await context.catalog();
        const sets = await setJobs(catalog, config, wanted, loaded.directory);
        const counters: ImapCounters = { commands: 0 };
        const jobs: AccountJob[] = [];
        for (const ref of refs) {
          const endpoint = await imapEndpoint(loaded, ref.server);
          const login = await imapLogin(loaded, ref.server, ref.serverIndex, ref.account);
          const dav = await davAccess(loaded, ref.server, ref.serverIndex, ref.account);
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
            ...(dav
              ? {
                  openCollections: async () => {
                    const { openDavAccountReader } =
                      await import('../../sources/dav/dav-account-reader.js');
                    return openDavAccountReader(dav, ref.account.name);
                  },
                }
              : {}),
          });
        }
        const texts = catalog.textIndexer();
        const progress = context.output.progress('backup');
        progress.setTotal(jobs.length + sets.length);
        let report;
        try {
          report = await runBackup({
            repository,
            jobs,
            sets,
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
              else if (event.type === 'account-end' || event.type === 'set-end') progress.step();
              else if (event.type === 'set-start')
                progress.setDetail(`${event.kind} ${event.name}`);
              else if (event.type === 'folder')
                progress.setDetail(`${event.account} ${event.folder}`);
            },
          });
        } finally {
          progress.finish();
          await texts.close();
        }
        if (accountNames.length === 0 && refs.length > 0) {
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

/** File sets and commands to back up, each with its previous snapshot. */
async function setJobs(
  catalog: Catalog,
  config: Config,
  wanted: (name: string) => boolean,
  cwd: string,
): Promise<SetJob[]> {
  const { fileSetJob } = await import('../../backup/file-set-job.js');
  const { commandJob } = await import('../../backup/command-job.js');
  const previous = async (source: string, name: string) => {
    const rows = await catalog.snapshots({ source, account: name });
    const last = rows.at(-1);
    return last ? { id: last.id, tree: last.tree } : null;
  };
  const jobs: SetJob[] = [];
  for (const set of config.files.filter((set) => wanted(set.name)))
    jobs.push(fileSetJob(set, await previous('files', set.name)));
  for (const [index, command] of config.commands.entries()) {
    if (wanted(command.name))
      jobs.push(commandJob(command, await previous('commands', command.name), { cwd, index }));
  }
  return jobs;
}

function exitCodeFor(report: RunReport): ExitCode {
  const failed = [
    ...report.accounts.filter((account) => !account.ok),
    ...report.sets.filter((set) => !set.ok),
  ];
  const total = report.accounts.length + report.sets.length;
  if (total > 0 && failed.length === total) {
    const first = failed[0]?.error ?? 'failed';
    throw new Error(
      failed.length > 1 ? `${first} (and ${failed.length - 1} other(s) failed)` : first,
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
    davRequests: report.totals.davRequests,
    totals,
    accounts: report.accounts,
    sets: report.sets,
    failures: report.failures,
    warnings: report.warnings,
  });
  for (const warning of report.warnings)
    output.line(
      `WARNING ${warning.source}/${warning.account} ${warning.folder ?? ''} ${warning.item ?? ''}: ${warning.reason}`,
    );
  for (const account of report.accounts) {
    if (!account.ok) output.line(`FAILED  ${account.source}/${account.account}: ${account.error}`);
  }
  for (const set of report.sets) {
    if (!set.ok) output.line(`FAILED  ${set.kind} ${set.name}: ${set.error}`);
  }
  for (const failure of report.failures) {
    output.line(
      `FAILED  ${failure.source}/${failure.account} ${failure.folder ?? ''} ${failure.uid !== undefined ? `UID ${failure.uid}` : (failure.item ?? '')}: ${failure.reason}`,
    );
  }
  for (const set of report.sets.filter((set) => set.ok)) {
    output.line(
      `backed up ${set.kind} ${set.name}: ${formatCount(set.items)} items, ${formatBytes(set.bytesRead)} read, ${formatBytes(set.bytesAdded)} added`,
    );
  }
  output.line(
    `backed up ${totals.accounts - totals.failedAccounts}/${totals.accounts} accounts: ${formatCount(totals.items)} items, ` +
      `${formatCount(totals.newItems)} new, ${formatBytes(totals.bytesRead)} read, ${formatBytes(totals.bytesAdded)} added ` +
      `in ${formatDuration(seconds * 1000)}`,
  );
}
