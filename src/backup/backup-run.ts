import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { IngestHints } from '../catalog/ingest.js';
import { newRunId } from '../catalog/run-history.js';
import type { HeaderSummary } from '../mime/header-summary.js';
import type { Repository } from '../repository/repository.js';
import { unchangedSnapshotId, type UnchangedEntry } from '../repository/snapshot/run-file.js';
import type { Snapshot } from '../repository/snapshot/snapshot.js';
import { backupAccount, type AccountJob, type AccountResult } from './account-backup.js';
import type { ItemFailure } from './item-failure.js';
import { NO_CLAIMS, TurnQueue, type PartClaims, type PartName } from './part-claims.js';
import type { SetJob, SetReport, SetResult } from './set-job.js';

export interface BackupRunOptions {
  repository: Repository;
  jobs: AccountJob[];
  /** File sets and commands, backed up after the accounts, one at a time. */
  sets?: SetJob[];
  concurrency: number;
  log: Logger;
  program: string;
  isRetryable: (error: unknown) => boolean;
  /** A refusal of one folder by a server whose connection stays good: that folder fails alone. */
  isFolderRefusal: (error: unknown) => boolean;
  /** The run's id (default: a new one), for a caller that recorded the run before it started. */
  run?: string;
  /**
   * Called for each snapshot once it is in the repository (the catalog records it); `runFile`
   * names the run file that holds it when it is an unchanged one.
   */
  onSnapshot: (
    id: string,
    snapshot: Snapshot,
    hints: IngestHints,
    runFile?: string,
  ) => Promise<void>;
  onProgress?: (event: ProgressEvent) => void;
  /** Each newly stored message (the catalog makes it searchable). */
  onStored?: (sha256: string, summary: HeaderSummary, raw: Buffer) => void | Promise<void>;
  /** Threads that compress and seal (default: one per core). */
  workers?: number;
  /** Turns taken with other runs at the same moment (default: none, a run alone). */
  claims?: PartClaims;
}

export type ProgressEvent =
  | { type: 'account-start'; part: PartName }
  | { type: 'folder'; part: PartName; folder: string }
  | { type: 'message'; bytes: number }
  | { type: 'account-end'; part: PartName; ok: boolean }
  | { type: 'set-start'; kind: SetJob['kind']; name: string }
  | { type: 'set-end'; kind: SetJob['kind']; name: string; ok: boolean }
  /** Another run backs the part up now: this one waits for its turn. */
  | { type: 'waiting'; part: PartName; holder: string };

export interface AccountReport {
  source: string;
  account: string;
  ok: boolean;
  snapshot: string | null;
  /** Its tree was its last snapshot's: recorded in the run file, not a snapshot file. */
  unchanged: boolean;
  error: string | null;
  folders: number;
  items: number;
  newItems: number;
  bytesRead: number;
  bytesAdded: number;
}

export interface RunReport {
  run: string;
  started: Date;
  finished: Date;
  accounts: AccountReport[];
  sets: SetReport[];
  failures: ItemFailure[];
  /** Items backed up as they are but worth a look (calendars and contacts that do not parse). */
  warnings: ItemFailure[];
  totals: {
    accounts: number;
    failedAccounts: number;
    fileSets: number;
    failedFileSets: number;
    commands: number;
    failedCommands: number;
    /** File sets and commands that failed. */
    failedSets: number;
    /** Items and new items of the accounts (each set's are in its report). */
    items: number;
    newItems: number;
    /** Of accounts, file sets and commands alike, as bytesAdded. */
    bytesRead: number;
    bytesAdded: number;
    packs: number;
    /** HTTP requests to DAV servers. */
    davRequests: number;
  };
}

/** Accounts finished since the last checkpoint wait at most this long for their snapshot. */
const CHECKPOINT_INTERVAL_MS = 10_000;
const CHECKPOINT_ACCOUNTS = 32;
/**
 * Unchanged accounts are written in one run file at the end of the run, or before when this many
 * wait or the first has waited this long (a run killed halfway loses only their time stamps).
 */
const RUN_FILE_ENTRIES = 5_000;
const RUN_FILE_INTERVAL_MS = 15 * 60_000;

interface Waiting {
  part: PartName;
  snapshot: Snapshot;
  parentTree: string | null;
  hints: IngestHints;
  report: { snapshot: string | null; bytesAdded: number; unchanged?: boolean };
  bytesAdded: number;
}

/**
 * One backup run over many accounts, several at a time. Snapshots are written at checkpoints,
 * after the packs and index that hold everything they reference, so a crash at any moment leaves
 * only complete snapshots behind.
 */
export async function runBackup(options: BackupRunOptions): Promise<RunReport> {
  const run = options.run ?? newRunId(new Date());
  const started = new Date();
  const claims = options.claims ?? NO_CLAIMS;
  const writer = options.repository.writer({ workers: options.workers });
  const reports: AccountReport[] = [];
  const failures: ItemFailure[] = [];
  const warnings: ItemFailure[] = [];
  let davRequests = 0;
  const pending: Array<{ job: AccountJob; result: AccountResult; report: AccountReport }> = [];
  const pendingSets: Array<{ job: SetJob; result: SetResult; report: SetReport }> = [];
  const setReports: SetReport[] = [];
  let lastCheckpoint = Date.now();
  let checkpointChain: Promise<void> = Promise.resolve();

  const unchanged: Waiting[] = [];
  let unchangedSince = 0;

  /** A snapshot file, or an entry of the run file when its tree is its parent's. */
  const record = async (waiting: Waiting): Promise<void> => {
    const { snapshot, report } = waiting;
    report.bytesAdded = waiting.bytesAdded;
    if (waiting.parentTree === snapshot.tree) {
      if (unchanged.length === 0) unchangedSince = Date.now();
      unchanged.push(waiting);
      // Its snapshot is its parent's: another run may start from that one at once.
      await claims.release(waiting.part);
      return;
    }
    const id = await options.repository.saveSnapshot(snapshot);
    report.snapshot = id;
    await options.onSnapshot(id, snapshot, waiting.hints);
    await claims.release(waiting.part);
  };

  const writeRunFile = async (final: boolean): Promise<void> => {
    if (unchanged.length === 0) return;
    if (
      !final &&
      unchanged.length < RUN_FILE_ENTRIES &&
      Date.now() - unchangedSince < RUN_FILE_INTERVAL_MS
    )
      return;
    const entries = unchanged.splice(0);
    const file = await options.repository.saveRunFile({
      version: 1,
      run,
      hostname: hostname(),
      program: options.program,
      unchanged: entries.map(({ snapshot }) => toEntry(snapshot)),
    });
    for (const { snapshot, report, hints } of entries) {
      const id = unchangedSnapshotId(snapshot);
      report.snapshot = id;
      report.unchanged = true;
      await options.onSnapshot(id, snapshot, hints, file);
    }
  };

  const checkpoint = (final = false): Promise<void> => {
    checkpointChain = checkpointChain.then(async () => {
      const batch = pending.splice(0);
      const sets = pendingSets.splice(0);
      lastCheckpoint = Date.now();
      if (batch.length > 0 || sets.length > 0) await writer.flush();
      for (const { job, result, report } of sets) {
        await record({
          part: { source: job.source, name: job.name },
          snapshot: {
            version: 1,
            kind: job.kind,
            source: job.source,
            name: job.name,
            time: result.time.toISOString(),
            run,
            tree: result.tree,
            parent: job.parent,
            hostname: hostname(),
            program: options.program,
            summary: { ...result.summary, bytesAdded: result.added.bytes },
          },
          parentTree: job.parentTree,
          hints: {},
          report,
          bytesAdded: result.added.bytes,
        });
      }
      for (const { job, result, report } of batch) {
        await record({
          part: { source: job.source, name: job.account },
          snapshot: {
            version: 1,
            kind: 'account',
            source: job.source,
            name: job.account,
            time: result.time.toISOString(),
            run,
            tree: result.tree,
            parent: job.parent?.id ?? null,
            hostname: hostname(),
            program: options.program,
            summary: {
              folders: result.folders,
              items: result.items,
              bytes: result.bytes,
              newItems: result.newItems,
              bytesRead: result.bytesRead,
              // Final now: the flush above waited for every object to be sealed.
              bytesAdded: result.added.bytes,
              ...(job.openCollections
                ? { collections: result.collections, collectionItems: result.collectionItems }
                : {}),
            },
          },
          parentTree: job.parent?.treeId ?? null,
          hints: { summaries: result.summaries.map, listings: result.listings },
          report,
          bytesAdded: result.added.bytes,
        });
      }
      await writeRunFile(final);
    });
    return checkpointChain;
  };

  const context = {
    repository: options.repository,
    writer,
    log: options.log,
    isRetryable: options.isRetryable,
    isFolderRefusal: options.isFolderRefusal,
    onMessage: (bytes: number) => options.onProgress?.({ type: 'message', bytes }),
    onStored: options.onStored,
    onFolder: (part: PartName, folder: string) =>
      options.onProgress?.({ type: 'folder', part, folder }),
  };

  async function backupSet(claimed: SetJob): Promise<SetReport> {
    options.onProgress?.({ type: 'set-start', kind: claimed.kind, name: claimed.name });
    let job = claimed;
    const report: SetReport = {
      kind: job.kind,
      name: job.name,
      ok: false,
      snapshot: null,
      unchanged: false,
      error: null,
      items: 0,
      newItems: 0,
      bytesRead: 0,
      bytesAdded: 0,
    };
    try {
      job = await claims.currentSet(claimed);
      const result = await job.backup({ repository: options.repository, writer, log: options.log });
      Object.assign(report, {
        ok: true,
        items: result.summary.items ?? 0,
        newItems: result.summary.newItems ?? 0,
        bytesRead: result.summary.bytesRead ?? 0,
      });
      failures.push(...result.failures);
      pendingSets.push({ job, result, report });
    } catch (error) {
      report.error = error instanceof Error ? error.message : String(error);
      options.log.error({ kind: job.kind, set: job.name, err: error }, report.error);
      await claims.release({ source: job.source, name: job.name });
    }
    options.onProgress?.({ type: 'set-end', kind: job.kind, name: job.name, ok: report.ok });
    return report;
  }

  const turns = <J>(jobs: readonly J[], partOf: (job: J) => PartName): TurnQueue<J> =>
    new TurnQueue(jobs, partOf, claims, {
      onWait: (part, holder) => options.onProgress?.({ type: 'waiting', part, holder }),
      // The snapshots ready are written first: the run holding the part may be waiting for one.
      beforeWait: () =>
        pending.length + pendingSets.length > 0 ? checkpoint() : Promise.resolve(),
    });
  const queue = turns(options.jobs, (job) => ({ source: job.source, name: job.account }));
  const worker = async (): Promise<void> => {
    for (let claimed = await queue.next(); claimed; claimed = await queue.next()) {
      let job = claimed;
      options.onProgress?.({
        type: 'account-start',
        part: { source: job.source, name: job.account },
      });
      const report: AccountReport = {
        source: job.source,
        account: job.account,
        ok: false,
        snapshot: null,
        unchanged: false,
        error: null,
        folders: 0,
        items: 0,
        newItems: 0,
        bytesRead: 0,
        bytesAdded: 0,
      };
      reports.push(report);
      try {
        job = await claims.currentAccount(claimed);
        const result = await backupAccount(context, job);
        Object.assign(report, {
          ok: true,
          folders: result.folders,
          items: result.items,
          newItems: result.newItems,
          bytesRead: result.bytesRead,
        });
        failures.push(...result.failures);
        warnings.push(...result.warnings);
        davRequests += result.davRequests;
        pending.push({ job, result, report });
        if (
          pending.length >= CHECKPOINT_ACCOUNTS ||
          Date.now() - lastCheckpoint >= CHECKPOINT_INTERVAL_MS
        )
          await checkpoint();
      } catch (error) {
        report.error = error instanceof Error ? error.message : String(error);
        options.log.error({ account: job.account, source: job.source, err: error }, report.error);
        await claims.release({ source: job.source, name: job.account });
      }
      options.onProgress?.({
        type: 'account-end',
        part: { source: job.source, name: job.account },
        ok: report.ok,
      });
    }
  };
  try {
    await Promise.all(
      Array.from(
        { length: Math.max(1, Math.min(options.concurrency, options.jobs.length)) },
        worker,
      ),
    );
    const sets = turns(options.sets ?? [], (job) => ({ source: job.source, name: job.name }));
    for (let job = await sets.next(); job; job = await sets.next()) {
      setReports.push(await backupSet(job));
    }
    await checkpoint(true);
    // Objects of accounts that failed halfway are in packs now; index them so the next run reuses them.
    await writer.flush();
  } finally {
    await writer.close();
    // What is left held (a part that failed with the catalog) holds nothing once the run ends.
    await claims.releaseAll().catch(() => undefined);
  }

  const ok = reports.filter((report) => report.ok);
  const ofKind = (kind: SetJob['kind']) => setReports.filter((report) => report.kind === kind);
  const failed = (sets: SetReport[]) => sets.filter((report) => !report.ok).length;
  return {
    run,
    started,
    finished: new Date(),
    accounts: reports,
    sets: setReports,
    failures,
    warnings,
    totals: {
      accounts: reports.length,
      failedAccounts: reports.length - ok.length,
      fileSets: ofKind('files').length,
      failedFileSets: failed(ofKind('files')),
      commands: ofKind('command').length,
      failedCommands: failed(ofKind('command')),
      failedSets: failed(setReports),
      items: ok.reduce((sum, r) => sum + r.items, 0),
      newItems: ok.reduce((sum, r) => sum + r.newItems, 0),
      bytesRead: [...reports, ...setReports].reduce((sum, r) => sum + r.bytesRead, 0),
      bytesAdded: writer.stats.bytesAdded,
      packs: writer.stats.packsWritten,
      davRequests,
    },
  };
}

function toEntry(snapshot: Snapshot): UnchangedEntry {
  const { kind, source, name, time, tree, parent, summary } = snapshot;
  return { kind, source, name, time, tree, parent, summary };
}
