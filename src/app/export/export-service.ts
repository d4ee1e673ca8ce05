import { parseAt } from '../../dates/at-spec.js';
import type { ExportOutcome } from '../../export/export-account.js';
import { checkPlan, planExport, type ExportPlan } from '../../export/export-plan.js';
import type { ExportSource } from '../../export/export-source.js';
import type { ExportDescription } from '../../export/export-writer.js';
import type { NoticeOutcome } from '../../notify/notice.js';
import { formatTime } from '../../text/format.js';
import { resolveAccount } from '../account-resolution.js';
import { UsageError } from '../errors.js';
import { notified } from '../notified.js';
import { NO_PROGRESS, type ProgressSink } from '../progress.js';
import type { Session } from '../session.js';
import { accountSnapshotAt } from '../snapshot-at.js';

export interface ExportRequest {
  account: string;
  source?: string;
  /** mbox, maildir or eml. */
  format: string;
  /** A new directory; or a .mbox file (mbox, one folder); or a .zip file (eml). */
  output: string;
  /** As it was at this date or in this snapshot (default: last); not with allVersions. */
  at?: string;
  /** Only these folders (with their subfolders). */
  folder?: string[];
  /** Every message ever backed up, deleted ones included, with a manifest beside the export. */
  allVersions?: boolean;
  /** Replace an existing output file, or an earlier export in the directory. */
  force?: boolean;
  requestedBy: string;
  notify?: string;
}

export interface ExportResult {
  description: ExportDescription;
  /** What was exported, in words: the account as of its snapshot, or every version of it. */
  where: string;
  outcome: ExportOutcome;
}

/** Output mistakes (an existing output, a bad format) are usage errors: exit 2, nothing written. */
async function asUsage<T>(work: () => Promise<T> | T): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof Error && error.name === 'OutputError') throw new UsageError(error.message);
    throw error;
  }
}

/**
 * An account as it was at a date, or every message it ever held, written as mbox, Maildir or .eml
 * files (or a zip of them). Output mistakes are found before anything is opened; messages that
 * cannot be read are listed in the outcome.
 */
export async function exportAccountAt(
  session: Session,
  options: ExportRequest,
  progress: ProgressSink = NO_PROGRESS,
): Promise<ExportResult> {
  const wanted = (options.folder ?? []).map((f) => (/^inbox$/i.test(f) ? 'INBOX' : f));
  const plan = await asUsage(() =>
    planExport(options.format, options.output, wanted, Boolean(options.allVersions)),
  );
  if (options.allVersions && options.at !== undefined)
    throw new UsageError('--all-versions exports every snapshot; it does not take --at');
  const at = parseAt(options.at ?? 'last');
  // Before the passphrase is asked for or anything is opened.
  await asUsage(() => checkPlan(plan, Boolean(options.force)));

  const loaded = await session.config();
  const repository = await session.repository();
  const catalog = await session.catalog();
  const account = await resolveAccount(catalog, options.account, options.source);
  const part = { kind: 'account' as const, source: account.source, name: account.name };
  const exportSource = await import('../../export/export-source.js');
  const base = {
    format: plan.format,
    layout: layoutOf(plan),
    account: account.name,
    source: account.source,
    allVersions: Boolean(options.allVersions),
    exported: new Date().toISOString(),
  };
  let source: ExportSource;
  let description: ExportDescription;
  let where: string;
  if (options.allVersions) {
    const history = await import('../../catalog/history.js');
    const folders = await history.foldersEver(catalog.db, account.id);
    checkFolders(exportSource.unknownFolders(folders, wanted), `${account.name} never had`);
    const times = await history.snapshotTimes(catalog.db, account.id);
    source = exportSource.historySource(catalog.db, folders, times, wanted, plan.singleMbox);
    description = { ...base, snapshot: null, snapshotTime: null };
    where = `every version of ${account.source}/${account.name} in ${times.length} snapshot(s)`;
  } else {
    const snapshot = await accountSnapshotAt(catalog, account, at);
    if (!snapshot) {
      const first = await catalog.snapshotAt(account.id, { kind: 'first' });
      throw new UsageError(
        `no backup of ${options.account} at ${options.at ?? 'last'}: its first backup is ${first ? formatTime(first.time) : 'missing'}`,
      );
    }
    const { readAccountTree } = await import('../../mailbox/account-tree.js');
    const tree = await readAccountTree(repository, snapshot.tree);
    const when = formatTime(snapshot.time);
    checkFolders(
      exportSource.unknownFolders(tree.folders, wanted),
      `${account.name} had no`,
      ` at ${when}`,
    );
    source = exportSource.snapshotSource(repository, tree, wanted, plan.singleMbox);
    description = {
      ...base,
      snapshot: snapshot.id,
      snapshotTime: snapshot.time.toISOString(),
    };
    where = `${account.source}/${account.name} as of ${when} (snapshot ${snapshot.id.slice(0, 12)})`;
  }
  if (plan.singleMbox && source.folders.length === 0)
    throw new UsageError(`${wanted[0] ?? ''} holds no messages (it is only a parent folder)`);

  const { exportAccount } = await import('../../export/export-account.js');
  progress({ type: 'started', operation: 'export', parts: null });
  const outcome = await notified(session, {
    kind: 'export',
    requestedBy: options.requestedBy,
    title: `export of ${account.name}`,
    initiator: options.notify,
    parameters: {
      Account: `${account.source}/${account.name}`,
      Format: options.format,
      Output: options.output,
      'As of': options.allVersions ? 'every version' : (options.at ?? 'last'),
    },
    outcome: (done: ExportOutcome) => ({ outcome: exportNotice(done), report: done }),
    work: () =>
      asUsage(() =>
        exportAccount({
          repository,
          plan,
          force: Boolean(options.force),
          source,
          description,
          workers: loaded.config.restore.workers,
          onFolder: (folder) => progress({ type: 'folder', part, folder }),
          onMessages: (items, bytes) => progress({ type: 'items', items, bytes }),
        }),
      ),
  });
  return { description, where, outcome };
}

function layoutOf(plan: ExportPlan): string {
  if (plan.format === 'maildir') return 'maildir++ (UTF-8 names)';
  if (plan.format === 'eml') return plan.zip ? 'zip of a folder tree' : 'folder tree';
  return plan.singleMbox ? 'one mboxrd file' : 'one mboxrd file per folder';
}

function checkFolders(unknown: string[], prefix: string, suffix = ''): void {
  if (unknown.length > 0)
    throw new UsageError(
      `${prefix} folder ${unknown.map((f) => JSON.stringify(f)).join(', ')}${suffix}`,
    );
}

/** An export's outcome as the table of its 'finished' notice. */
function exportNotice(outcome: ExportOutcome): NoticeOutcome {
  return {
    rowLabel: 'folder',
    columns: ['exported', 'failed'],
    rows: outcome.folders.map((folder) => ({
      name: folder.folder,
      counts: [folder.messages, folder.failed],
    })),
    totals: [outcome.messages, outcome.failures.length],
    failures: outcome.failures.map((failure) => ({
      where: `${failure.folder} UID ${failure.uid}`,
      reason: failure.reason,
    })),
    notes: [`written to ${outcome.output}`],
  };
}
