import type { Command } from 'commander';
import type { RunReport } from '../../backup/backup-run.js';
import type { AccountJob } from '../../backup/account-backup.js';
import type { SetJob, SetReport } from '../../backup/set-job.js';
import type { Catalog } from '../../catalog/catalog.js';
import type { Config } from '../../config/schema.js';
import { ImapError } from '../../imap/imap-error.js';
import { readAccountTree, type AccountTree } from '../../mailbox/account-tree.js';
import { LARGE_MESSAGE_BYTES } from '../../mailbox/large-message.js';
import type { HookOutcome } from '../../hooks/post-backup-hook.js';
import { newRunId } from '../../catalog/run-history.js';
import type { LoadedConfig } from '../../config/loaded-config.js';
import type { Repository } from '../../repository/repository.js';
import { pendingUploadsMessage, type AccountRef, type CliContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { recordRun, startRun } from '../record-run.js';
import {
  backupOutcome,
  backupRunRecord,
  failedParts,
  failureMessage,
  isItemFailure,
  setLabel,
} from './backup-history.js';
import { catalogClaims, type JobMaker } from './backup-claims.js';
import { runHookAfter } from './backup-hook.js';
import type { CommandRunner } from '../main.js';
import { formatBytes, formatCount, formatDuration } from '../output/format.js';
import type { StorageRequestCounts } from '../../storage/wrappers/counting-storage.js';
import type { Output } from '../output/output.js';
import { PROGRAM } from '../program-name.js';
import { davAccess, imapEndpoint, imapLogin, type DavAccess } from '../server-access.js';
import type { ImapCounters } from '../../imap/connect.js';
import type { PendingUploads } from '../../storage/cache/repository-storage.js';

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
        const loaded = await context.config();
        const { config } = loaded;
        const setNames = new Set([...config.files, ...config.commands].map((set) => set.name));
        const accountNames = names.filter((name) => !setNames.has(name));
        const wanted = (name: string) => names.length === 0 || names.includes(name);
        // Sets named alone: no account is backed up.
        const refs =
          names.length > 0 && accountNames.length === 0 ? [] : await context.accounts(accountNames);
        // In the history from now on: a run killed from here shows as interrupted.
        const { id: runId } = await startRun(context, 'backup', { id: newRunId(new Date()) });
        const repository = await context.repository();
        const catalog = await context.catalog();
        // The key is unlocked: what the run says from here on (that it waits for another run) is
        // shown as it happens, not held back to its end.
        await context.output.settled();
        const setMakers = await setJobs(catalog, config, wanted, loaded.directory);
        const counters: ImapCounters = { commands: 0 };
        // Folders `check --repair` found damaged messages in: read whole, not from the parent.
        const { repairFolders, repairDone } = await import('../../maintenance/repair.js');
        const repairs = await repairFolders(catalog.db);
        const accountMakers = new Map<AccountJob, JobMaker<AccountJob>>();
        for (const ref of refs) {
          const repaired = repairs
            .filter((r) => r.source === ref.server.name && r.account === ref.account.name)
            .map((r) => r.folder);
          const maker: JobMaker<AccountJob> = {
            latest: async () => (await lastSnapshot(catalog, ref))?.id ?? null,
            make: async () =>
              accountJob(context, loaded, ref, {
                parent: await parentOf(catalog, repository, ref, repaired),
                counters,
              }),
          };
          accountMakers.set(await maker.make(), maker);
        }
        const jobs = [...accountMakers.keys()];
        const sets = [...setMakers.keys()];
        // Other backup runs at the same moment: each account, file set and command in turn.
        const claims = await catalogClaims(catalog, repository, runId, {
          accounts: accountMakers,
          sets: setMakers,
        });
        const texts = catalog.textIndexer();
        const progress = context.output.progress('backup');
        progress.setTotal(jobs.length + sets.length);
        // Run files every entry of which this run recorded: the next sync need not read them.
        const runFiles = { recorded: new Set<string>(), failed: new Set<string>() };
        let report;
        try {
          report = await runBackup({
            repository,
            run: runId,
            jobs,
            sets,
            concurrency: loaded.config.backup.concurrency,
            workers: loaded.config.backup.workers,
            log: context.log,
            program: PROGRAM,
            isRetryable: (error) => error instanceof ImapError && error.retryable,
            isFolderRefusal: (error) => error instanceof ImapError && error.kind === 'refused',
            claims,
            onSnapshot: async (id, snapshot, hints, runFile) => {
              await texts.flush();
              try {
                await catalog.ingest(repository, { id, snapshot, runFile }, hints);
              } catch (error) {
                if (runFile !== undefined) runFiles.failed.add(runFile);
                throw error;
              }
              if (runFile !== undefined) runFiles.recorded.add(runFile);
            },
            onStored: (sha256, summary, raw) => texts.add(sha256, summary, raw),
            onProgress: (event) => {
              if (event.type === 'message') progress.add(1, event.bytes);
              else if (event.type === 'account-end' || event.type === 'set-end') progress.step();
              else if (event.type === 'set-start')
                progress.setDetail(`${event.kind} ${event.name}`);
              else if (event.type === 'folder')
                progress.setDetail(`${event.account} ${event.folder}`);
              else if (event.type === 'waiting')
                context.output.note(
                  `${event.part.source}/${event.part.name}: ${event.holder} is backing it up; this run backs up the rest first, then waits for it and backs up what changed since`,
                );
            },
          });
        } finally {
          progress.finish();
          await texts.close();
        }
        await catalog.runFilesRecorded(
          [...runFiles.recorded].filter((name) => !runFiles.failed.has(name)),
        );
        if (accountNames.length === 0 && refs.length > 0) {
          for (const server of loaded.config.servers) {
            const present = refs
              .filter((ref) => ref.server.name === server.name)
              .map((ref) => ref.account.name);
            await catalog.markPresent(server.name, present, report.started.getTime());
          }
        }
        if (repairs.length > 0)
          await repairDone(
            catalog.db,
            report.accounts
              .filter((account) => account.ok)
              .map((account) => ({ source: account.source, account: account.account })),
          );
        // With a remote repository, what the run saved waits in the local cache until the remote
        // takes it: the summary says whether it all got there.
        const pendingUploads = await context.finishUploads();
        const outcome = backupOutcome(report);
        const record = backupRunRecord(report, outcome);
        await recordRun(context, record.run, record.parts);
        // After the uploads: the hook may hand the repository on, so all of it must be there.
        const hook = await runHookAfter(context, loaded, catalog, report, outcome);
        const code = exitCodeFor(report, context.output);
        printReport(context.output, report, {
          counters,
          storageRequests: context.storageRequests(),
          pendingUploads,
          hook,
        });
        if (pendingUploads.files > 0)
          context.output.problem(
            pendingUploadsMessage(pendingUploads, (await context.storage()).location),
          );
        return code;
      }),
    );
}

/** The account's last snapshot in the catalog. */
async function lastSnapshot(catalog: Catalog, ref: AccountRef) {
  const known = (await catalog.findAccounts(ref.account.name)).find(
    (account) => account.source === ref.server.name,
  );
  return known ? catalog.snapshotAt(known.id, { kind: 'last' }) : null;
}

/** The account's last snapshot, the base of this run, without the folders a repair asks to read whole. */
async function parentOf(
  catalog: Catalog,
  repository: Repository,
  ref: AccountRef,
  repaired: readonly string[],
): Promise<AccountJob['parent']> {
  const last = await lastSnapshot(catalog, ref);
  if (!last) return null;
  return {
    id: last.id,
    treeId: last.tree,
    time: last.time,
    tree: withoutFolders(await readAccountTree(repository, last.tree), repaired),
  };
}

/**
 * One account's backup. What it needs from the configuration (its login, the server's CA, its
 * DAV access) is read here; when that fails, the account fails alone (its mail part when the IMAP
 * side cannot be reached, its calendars and contacts when the DAV side cannot), with the reason,
 * and the rest of the run goes on.
 */
async function accountJob(
  context: CliContext,
  loaded: LoadedConfig,
  ref: AccountRef,
  extra: { parent: AccountJob['parent']; counters: ImapCounters },
): Promise<AccountJob> {
  const { ImapAccountReader } = await import('../../sources/imap/imap-account-reader.js');
  const imap = await settled(async () => ({
    endpoint: await imapEndpoint(loaded, ref.server),
    login: await imapLogin(loaded, ref.server, ref.serverIndex, ref.account),
  }));
  const dav = await settled(() => davAccess(loaded, ref.server, ref.serverIndex, ref.account));
  return {
    source: ref.server.name,
    account: ref.account.name,
    retries: ref.server.imap.retries,
    parent: extra.parent,
    openReader: () => {
      if ('error' in imap) return Promise.reject(imap.error);
      return ImapAccountReader.open(imap.value.endpoint, imap.value.login, {
        log: context.log,
        counters: extra.counters,
        // Large messages are read in ranges into a spool file, never whole.
        large: { threshold: LARGE_MESSAGE_BYTES },
      });
    },
    ...('error' in dav || dav.value
      ? {
          openCollections: async () => {
            if ('error' in dav) throw dav.error;
            const { openDavAccountReader } =
              await import('../../sources/dav/dav-account-reader.js');
            return openDavAccountReader(dav.value as DavAccess, ref.account.name);
          },
        }
      : {}),
  };
}

/** What `work` gives, or the error it failed with: to be thrown where it concerns one account. */
async function settled<T>(work: () => Promise<T>): Promise<{ value: T } | { error: unknown }> {
  try {
    return { value: await work() };
  } catch (error) {
    return { error };
  }
}

/** File sets and commands to back up, each with its previous snapshot, and how to make it again. */
async function setJobs(
  catalog: Catalog,
  config: Config,
  wanted: (name: string) => boolean,
  cwd: string,
): Promise<Map<SetJob, JobMaker<SetJob>>> {
  const { fileSetJob } = await import('../../backup/file-set-job.js');
  const { commandJob } = await import('../../backup/command-job.js');
  const previous = async (source: string, name: string) => {
    const rows = await catalog.snapshots({ source, account: name });
    const last = rows.at(-1);
    return last ? { id: last.id, tree: last.tree } : null;
  };
  const makers: Array<JobMaker<SetJob>> = [];
  const maker = (source: string, name: string, job: (parent: Parent) => SetJob) =>
    makers.push({
      latest: async () => (await previous(source, name))?.id ?? null,
      make: async () => job(await previous(source, name)),
    });
  type Parent = Awaited<ReturnType<typeof previous>>;
  for (const set of config.files.filter((set) => wanted(set.name)))
    maker('files', set.name, (parent) => fileSetJob(set, parent));
  for (const [index, command] of config.commands.entries()) {
    if (wanted(command.name))
      maker('commands', command.name, (parent) => commandJob(command, parent, { cwd, index }));
  }
  const jobs = new Map<SetJob, JobMaker<SetJob>>();
  for (const made of makers) jobs.set(await made.make(), made);
  return jobs;
}

/**
 * As for accounts, so for file sets and commands: when everything asked for failed, the backup
 * failed (exit 1, with the first reason and the names of the others); when some of it failed, or
 * some items could not be read, it finished with failures (exit 3), each listed.
 */
function exitCodeFor(report: RunReport, output: Output): ExitCode {
  const outcome = backupOutcome(report);
  if (outcome === 'failed') {
    // The error line gives one reason; the others are worth as much to whoever reads it.
    if (failedParts(report).length > 1) printFailures(output, report);
    throw new Error(failureMessage(report));
  }
  return outcome === 'partial' ? ExitCode.Partial : ExitCode.Ok;
}

/** What the summary says beside the run's own report. */
interface ReportExtras {
  counters: ImapCounters;
  storageRequests: StorageRequestCounts;
  pendingUploads: PendingUploads;
  /** How hooks.postBackup went (null: none configured). */
  hook: HookOutcome | null;
}

function printReport(output: Output, report: RunReport, extras: ReportExtras): void {
  const { counters, storageRequests, pendingUploads } = extras;
  const seconds = (report.finished.getTime() - report.started.getTime()) / 1000;
  const { totals } = report;
  output.result({
    run: report.run,
    started: report.started.toISOString(),
    finished: report.finished.toISOString(),
    seconds,
    imapCommands: counters.commands,
    davRequests: report.totals.davRequests,
    // Requests to the repository's storage (retries included) and bytes moved: on a remote
    // repository, what a run costs.
    storageRequests,
    // Files saved to the local cache that the remote has not taken yet (the next run sends them).
    pendingUploads,
    totals,
    accounts: report.accounts,
    sets: report.sets,
    failures: report.failures,
    warnings: report.warnings,
    hook: extras.hook,
  });
  printFailures(output, report);
  for (const set of report.sets.filter((set) => set.ok)) {
    output.line(
      `backed up ${setLabel(set)}: ${formatCount(set.items)} items, ${formatBytes(set.bytesRead)} read, ${formatBytes(set.bytesAdded)} added`,
    );
  }
  output.line(summaryLine(report));
}

function printFailures(output: Output, report: RunReport): void {
  for (const warning of report.warnings)
    output.problem(`WARNING ${where(warning)}: ${warning.reason}`);
  for (const part of failedParts(report)) output.problem(`FAILED  ${part.label}: ${part.error}`);
  for (const failure of report.failures)
    output.problem(`FAILED  ${where(failure)}: ${failure.reason}`);
}

/** The account, then the folder and the message's UID or the item, as far as they are known. */
function where(at: {
  source: string;
  account: string;
  folder?: string;
  uid?: number;
  item?: string;
}): string {
  const item = at.uid !== undefined ? `UID ${at.uid}` : at.item;
  return [`${at.source}/${at.account}`, at.folder, item].filter(Boolean).join(' ');
}

/** "3/3 accounts", "1/2 commands": what succeeded of what was asked, named by kind. */
function fraction(ok: number, total: number, singular: string, plural: string): string {
  return `${formatCount(ok)}/${formatCount(total)} ${total === 1 ? singular : plural}`;
}

/**
 * The run in one line, naming only what it was asked to back up: "backed up 2/2 accounts
 * (1,200 items, 12 new), 1/1 file set (35 items, 2 new), 0/1 command: 4 MB read, 1 MB added in
 * 3.1 s; 3 items could not be read". A run of sets alone says nothing of accounts.
 */
function summaryLine(report: RunReport): string {
  const { totals } = report;
  const elapsed = report.finished.getTime() - report.started.getTime();
  const parts: string[] = [];
  if (totals.accounts > 0)
    parts.push(
      `${fraction(totals.accounts - totals.failedAccounts, totals.accounts, 'account', 'accounts')} ` +
        `(${formatCount(totals.items)} items, ${formatCount(totals.newItems)} new)`,
    );
  const fileSets = report.sets.filter((set) => set.kind === 'files' && set.ok);
  if (totals.fileSets > 0)
    parts.push(
      `${fraction(fileSets.length, totals.fileSets, 'file set', 'file sets')} ` +
        `(${formatCount(sum(fileSets, 'items'))} items, ${formatCount(sum(fileSets, 'newItems'))} new)`,
    );
  if (totals.commands > 0)
    parts.push(
      fraction(totals.commands - totals.failedCommands, totals.commands, 'command', 'commands'),
    );
  const what = parts.length > 0 ? parts.join(', ') : 'nothing (no accounts, file sets or commands)';
  const items = report.failures.filter(isItemFailure).length;
  const notRead = report.failures.length - items;
  const unread =
    (notRead > 0
      ? `; ${formatCount(notRead)} folder${notRead === 1 ? '' : 's'} or part${notRead === 1 ? '' : 's'} of accounts not backed up`
      : '') +
    (items > 0 ? `; ${formatCount(items)} item${items === 1 ? '' : 's'} could not be read` : '');
  return (
    `backed up ${what}: ${formatBytes(totals.bytesRead)} read, ${formatBytes(totals.bytesAdded)} added ` +
    `in ${formatDuration(elapsed)}${unread}`
  );
}

function sum(sets: SetReport[], key: 'items' | 'newItems'): number {
  return sets.reduce((total, set) => total + set[key], 0);
}

/** The tree without these folders: the backup then reads them whole, as new. */
function withoutFolders(tree: AccountTree, folders: readonly string[]): AccountTree {
  if (folders.length === 0) return tree;
  return { ...tree, folders: tree.folders.filter((folder) => !folders.includes(folder.path)) };
}
