import type { AccountJob } from '../../backup/account-backup.js';
import type { RunReport } from '../../backup/backup-run.js';
import type { SetJob } from '../../backup/set-job.js';
import type { Catalog } from '../../catalog/catalog.js';
import { newRunId, type RunOutcome } from '../../catalog/run-history.js';
import type { LoadedConfig } from '../../config/loaded-config.js';
import type { Config } from '../../config/schema.js';
import type { HookOutcome } from '../../hooks/post-backup-hook.js';
import type { ImapCounters } from '../../imap/connect.js';
import { ImapError } from '../../imap/imap-error.js';
import { readAccountTree, type AccountTree } from '../../mailbox/account-tree.js';
import { LARGE_MESSAGE_BYTES } from '../../mailbox/large-message.js';
import type { Repository } from '../../repository/repository.js';
import type { PendingUploads } from '../../storage/cache/repository-storage.js';
import type { StorageRequestCounts } from '../../storage/wrappers/counting-storage.js';
import { NO_PROGRESS, type ProgressSink, type WorkPart } from '../progress.js';
import { recordRun, startRun } from '../run-record.js';
import { davAccess, imapEndpoint, imapLogin, type DavAccess } from '../server-access.js';
import type { AccountRef, Session } from '../session.js';
import { catalogClaims, type JobMaker } from './claims.js';
import { backupOutcome, backupRunRecord } from './history.js';
import { runHookAfter } from './hook.js';

export interface BackupRequest {
  /** Accounts, file sets or commands, by name; none: everything configured. */
  names: readonly string[];
  /** The program and version that writes the snapshots, as they record it. */
  program: string;
  /** Where the postBackup hook's own output goes (none: nowhere). */
  hookOutput?: NodeJS.WritableStream;
}

export interface BackupResult {
  report: RunReport;
  outcome: RunOutcome;
  /** IMAP commands sent, for the cost of a run. */
  imapCommands: number;
  /** Requests to the repository's storage (retries included) and bytes moved. */
  storageRequests: StorageRequestCounts;
  /** What the run saved that the remote has not taken yet, and where it goes. */
  pendingUploads: PendingUploads;
  location: string;
  /** How hooks.postBackup went (null: none configured, or the run failed). */
  hook: HookOutcome | null;
}

/**
 * One backup run: every configured account, file set and command (or those named), each backed
 * up from its last snapshot, taking turns with other runs at the same moment; recorded in the
 * catalog's history from its start, its uploads waited for, then handed to the postBackup hook.
 * A failed run is a result (outcome 'failed'), not an exception: each part fails alone.
 */
export async function backUp(
  session: Session,
  request: BackupRequest,
  progress: ProgressSink = NO_PROGRESS,
): Promise<BackupResult> {
  const { runBackup } = await import('../../backup/backup-run.js');
  const loaded = await session.config();
  const { config } = loaded;
  const { names } = request;
  const setNames = new Set([...config.files, ...config.commands].map((set) => set.name));
  const accountNames = names.filter((name) => !setNames.has(name));
  const wanted = (name: string) => names.length === 0 || names.includes(name);
  // Sets named alone: no account is backed up.
  const refs =
    names.length > 0 && accountNames.length === 0 ? [] : await session.accounts(accountNames);
  // In the history from now on: a run killed from here shows as interrupted.
  const { id: runId } = await startRun(session, 'backup', { id: newRunId(new Date()) });
  const repository = await session.repository();
  const catalog = await session.catalog();
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
        accountJob(session, loaded, ref, {
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
  progress({ type: 'started', operation: 'backup', parts: jobs.length + sets.length });
  // Run files every entry of which this run recorded: the next sync need not read them.
  const runFiles = { recorded: new Set<string>(), failed: new Set<string>() };
  const account = (part: { source: string; name: string }): WorkPart => ({
    kind: 'account',
    ...part,
  });
  let report;
  try {
    report = await runBackup({
      repository,
      run: runId,
      jobs,
      sets,
      concurrency: config.backup.concurrency,
      workers: config.backup.workers,
      log: session.log,
      program: request.program,
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
        if (event.type === 'message') progress({ type: 'items', items: 1, bytes: event.bytes });
        else if (event.type === 'account-start')
          progress({ type: 'part-started', part: account(event.part) });
        else if (event.type === 'account-end')
          progress({ type: 'part-finished', part: account(event.part), ok: event.ok });
        else if (event.type === 'folder')
          progress({ type: 'folder', part: account(event.part), folder: event.folder });
        else if (event.type === 'set-start')
          progress({ type: 'part-started', part: setPart(event.kind, event.name) });
        else if (event.type === 'set-end')
          progress({ type: 'part-finished', part: setPart(event.kind, event.name), ok: event.ok });
        else if (event.type === 'waiting')
          progress({ type: 'waiting', part: partOf(event.part, setNames), holder: event.holder });
      },
    });
  } finally {
    await texts.close();
  }
  await catalog.runFilesRecorded(
    [...runFiles.recorded].filter((name) => !runFiles.failed.has(name)),
  );
  if (accountNames.length === 0 && refs.length > 0) {
    for (const server of config.servers) {
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
        .filter((done) => done.ok)
        .map((done) => ({ source: done.source, account: done.account })),
    );
  // With a remote repository, what the run saved waits in the local cache until the remote
  // takes it: the result says whether it all got there.
  const pendingUploads = await session.finishUploads();
  const outcome = backupOutcome(report);
  const record = backupRunRecord(report, outcome);
  await recordRun(session, record.run, record.parts);
  // After the uploads: the hook may hand the repository on, so all of it must be there.
  const hook = await runHookAfter(session, loaded, catalog, report, outcome, request.hookOutput);
  progress({ type: 'finished', outcome });
  return {
    report,
    outcome,
    imapCommands: counters.commands,
    storageRequests: session.storageRequests(),
    pendingUploads,
    location: (await session.storage()).location,
    hook,
  };
}

/** A file set's or command's part: its source is 'files' or 'commands', as the catalog's. */
function setPart(kind: SetJob['kind'], name: string): WorkPart {
  return { kind, source: kind === 'files' ? 'files' : 'commands', name };
}

/** A part another run holds: a file set or command by its source, else an account. */
function partOf(part: { source: string; name: string }, setNames: ReadonlySet<string>): WorkPart {
  if (part.source === 'files' && setNames.has(part.name)) return setPart('files', part.name);
  if (part.source === 'commands' && setNames.has(part.name)) return setPart('command', part.name);
  return { kind: 'account', ...part };
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
  session: Session,
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
        log: session.log,
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

/** The tree without these folders: the backup then reads them whole, as new. */
function withoutFolders(tree: AccountTree, folders: readonly string[]): AccountTree {
  if (folders.length === 0) return tree;
  return { ...tree, folders: tree.folders.filter((folder) => !folders.includes(folder.path)) };
}
