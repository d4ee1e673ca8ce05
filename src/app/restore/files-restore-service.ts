import { mkdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { SnapshotRow } from '../../catalog/catalog.js';
import { parseAt, type AtSpec } from '../../dates/at-spec.js';
import type { DateSpec } from '../../dates/parse-date.js';
import type { FilesRoot } from '../../filesets/file-tree.js';
import type { NoticeOutcome } from '../../notify/notice.js';
import type { FileSetRestoreReport } from '../../restore/files-restore.js';
import { formatTime } from '../../text/format.js';
import { printable } from '../../text/printable.js';
import { UsageError } from '../errors.js';
import { notified } from '../notified.js';
import { NO_PROGRESS, type ProgressSink } from '../progress.js';
import type { Session } from '../session.js';
import { ownerLabel, snapshotById } from '../snapshot-at.js';

export interface FilesRestoreRequest {
  /** Only these paths, each with everything below it (relative ones from `cwd`); none: all. */
  paths: string[];
  cwd: string;
  at: string;
  /** Below this directory; none: a new directory per set in `cwd`; `/`: in place. */
  target?: string;
  /** Replace existing files and links whose content or target differs. */
  force?: boolean;
  /** Only these file sets (default: every set backed up by then). */
  set?: string[];
  requestedBy: string;
  notify?: string;
}

export interface FilesRestoreResult {
  reports: FileSetRestoreReport[];
  started: Date;
}

/** A file set's snapshot in force at a date, with its root tree. */
export interface FileSetAt {
  name: string;
  snapshot: SnapshotRow;
  root: FilesRoot;
}

function snapshotAt(rows: readonly SnapshotRow[], at: DateSpec): SnapshotRow | null {
  if (at.kind === 'first') return rows[0] ?? null;
  if (at.kind === 'last') return rows.at(-1) ?? null;
  return rows.filter((row) => row.time.getTime() <= at.time.getTime()).at(-1) ?? null;
}

/**
 * The file sets named (each must be configured or backed up: exit 2 otherwise), or every one,
 * with their snapshots at a date. A named set without a backup by then stops the command (exit
 * 1); an unnamed one is passed over with a note, unless none is left.
 */
export async function fileSetsAt(
  session: Session,
  names: readonly string[] | undefined,
  at: AtSpec,
  atText: string,
): Promise<FileSetAt[]> {
  const { readFilesRoot } = await import('../../filesets/file-tree.js');
  const loaded = await session.config();
  const repository = await session.repository();
  const catalog = await session.catalog();
  if (at.kind === 'snapshot') {
    // One snapshot is one file set's: that set alone, and it must be one of those named.
    const row = await snapshotById(catalog, at.id);
    const wrong =
      row.source !== 'files'
        ? 'a file set'
        : names?.length && !names.includes(row.account)
          ? `--set ${names.join(' ')}`
          : null;
    if (wrong)
      throw new UsageError(
        `--at ${at.id}: that snapshot is of ${printable(ownerLabel(row))}, not of ${printable(wrong)}`,
      );
    return [{ name: row.account, snapshot: row, root: await readFilesRoot(repository, row.tree) }];
  }
  const rows = await catalog.snapshots({ source: 'files' });
  const known = [
    ...new Set([...loaded.config.files.map((set) => set.name), ...rows.map((row) => row.account)]),
  ].sort();
  for (const name of names ?? []) {
    if (!known.includes(name))
      throw new UsageError(
        `unknown file set ${name}: ${known.length > 0 ? `the file sets are ${known.join(', ')}` : 'no file set is configured (files: in the configuration) or backed up'}`,
      );
  }
  const wanted = names && names.length > 0 ? [...new Set(names)] : known;
  if (wanted.length === 0)
    throw new UsageError('no file set is configured (files: in the configuration) or backed up');
  const found: FileSetAt[] = [];
  const missing: string[] = [];
  for (const name of wanted) {
    const ofSet = rows.filter((row) => row.account === name);
    const snapshot = snapshotAt(ofSet, at);
    if (snapshot) {
      found.push({ name, snapshot, root: await readFilesRoot(repository, snapshot.tree) });
      continue;
    }
    const first = ofSet[0];
    missing.push(
      first
        ? `no backup of file set ${name} at ${atText}: its first backup is ${formatTime(first.time)}`
        : `file set ${name} has never been backed up`,
    );
  }
  if (missing.length > 0 && (names?.length || found.length === 0)) {
    throw new Error(
      missing.length > 1 ? `${missing[0]} (and ${missing.length - 1} more)` : (missing[0] ?? ''),
    );
  }
  for (const line of missing) session.notices.note(`${line}; passed over`);
  return found;
}

/** A directory name that says what it holds and when it was made: mailvault-restore-SET-YYYYMMDD-HHMMSS. */
function defaultTargetName(set: string, now: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  return `mailvault-restore-${set}-${stamp}`;
}

/** Creates a new directory (never reusing one): NAME, else NAME-2, NAME-3... */
async function newDirectory(base: string): Promise<string> {
  for (let n = 1; ; n++) {
    const path = n === 1 ? base : `${base}-${n}`;
    try {
      await mkdir(path);
      return path;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || n >= 100) throw error;
    }
  }
}

/**
 * Configuration files as they were at a date, below a new directory keeping their absolute paths
 * (in place with target `/`); owners restored when run as root.
 */
export async function restoreFilesAt(
  session: Session,
  options: FilesRestoreRequest,
  progress: ProgressSink = NO_PROGRESS,
): Promise<FilesRestoreResult> {
  const { findStoredEntry } = await import('../../filesets/stored-tree.js');
  const at = parseAt(options.at);
  const paths = [...new Set(options.paths.map((path) => resolve(options.cwd, path)))];
  const targetRoot = options.target !== undefined ? resolve(options.cwd, options.target) : null;
  if (targetRoot) {
    const existing = await stat(targetRoot).catch(() => null);
    if (existing && !existing.isDirectory())
      throw new UsageError(`--target ${options.target}: exists and is not a directory`);
  }
  const repository = await session.repository();
  let sets = await fileSetsAt(session, options.set, at, options.at);

  // Each path must be in some set's snapshot; a set is restored for the paths it holds.
  const pathsOf = new Map<string, string[]>();
  for (const set of sets) pathsOf.set(set.name, []);
  for (const path of paths) {
    const holders: FileSetAt[] = [];
    for (const set of sets)
      if (await findStoredEntry(repository, set.root, path)) holders.push(set);
    if (holders.length === 0)
      throw new Error(
        `${path} is not in ${sets.length > 1 ? 'any of the backups of file sets' : 'the backup of file set'} ${sets
          .map((set) => `${set.name} of ${formatTime(set.snapshot.time)}`)
          .join(', ')}`,
      );
    for (const holder of holders) pathsOf.get(holder.name)?.push(path);
  }
  if (paths.length > 0) sets = sets.filter((set) => (pathsOf.get(set.name) ?? []).length > 0);

  const { restoreFileSet } = await import('../../restore/files-restore.js');
  const { FileTarget } = await import('../../targets/files/file-target.js');
  const { SystemAccounts } = await import('../../sources/files/system-accounts.js');
  const owners = process.getuid?.() === 0 ? await SystemAccounts.load() : null;
  const started = new Date();
  progress({ type: 'started', operation: 'restore', parts: sets.length });
  const reports = await notified(session, {
    kind: 'restore',
    requestedBy: options.requestedBy,
    title: `restore of file set${sets.length > 1 ? 's' : ''} ${sets.map((set) => set.name).join(', ')}`,
    initiator: options.notify,
    parameters: {
      'File sets': sets
        .map(
          (set) =>
            `${set.name} as of ${formatTime(set.snapshot.time)} (snapshot ${set.snapshot.id.slice(0, 12)})`,
        )
        .join('; '),
      ...(paths.length > 0 ? { Paths: paths.join(', ') } : {}),
      Target: targetRoot ?? 'new directories ./mailvault-restore-<set>-<time>',
      ...(options.force ? { Force: 'existing files that differ are replaced' } : {}),
    },
    outcome: (done: FileSetRestoreReport[]) => ({ outcome: filesOutcome(done), report: done }),
    work: async () => {
      const done: FileSetRestoreReport[] = [];
      for (const set of sets) {
        let root = targetRoot;
        if (root) await mkdir(root, { recursive: true });
        else root = await newDirectory(resolve(options.cwd, defaultTargetName(set.name, started)));
        const part = { kind: 'files' as const, source: 'files', name: set.name };
        progress({ type: 'part-started', part });
        const report = await restoreFileSet({
          repository,
          set: set.name,
          snapshot: set.snapshot.id,
          snapshotTime: set.snapshot.time,
          root: set.root,
          paths: pathsOf.get(set.name) ?? [],
          target: new FileTarget({ root, force: Boolean(options.force), owners }),
          targetDescription: root,
          onEntry: (path, bytes) => {
            progress({ type: 'items', items: 1, bytes });
            progress({ type: 'folder', part, folder: path });
          },
        });
        progress({ type: 'part-finished', part, ok: report.skipped + report.failed === 0 });
        done.push(report);
      }
      return done;
    },
  });
  const partial = reports.some((report) => report.skipped + report.failed > 0);
  progress({ type: 'finished', outcome: partial ? 'partial' : 'ok' });
  return { reports, started };
}

export function totalsOf(reports: readonly FileSetRestoreReport[]) {
  const sum = (key: 'restored' | 'alreadyPresent' | 'skipped' | 'failed' | 'bytes'): number =>
    reports.reduce((total, report) => total + report[key], 0);
  return {
    restored: sum('restored'),
    alreadyPresent: sum('alreadyPresent'),
    skipped: sum('skipped'),
    failed: sum('failed'),
    bytes: sum('bytes'),
  };
}

function filesOutcome(reports: readonly FileSetRestoreReport[]): NoticeOutcome {
  const totals = totalsOf(reports);
  return {
    rowLabel: 'file set',
    columns: ['restored', 'already present', 'skipped', 'failed'],
    rows: reports.map((report) => ({
      name: report.set,
      counts: [report.restored, report.alreadyPresent, report.skipped, report.failed],
      note: `into ${report.target}`,
    })),
    totals: [totals.restored, totals.alreadyPresent, totals.skipped, totals.failed],
    failures: reports.flatMap((report) =>
      report.items.map((item) => ({
        where: `${report.set} ${item.path}`,
        reason: `${item.outcome}: ${item.reason}`,
      })),
    ),
    notes: [...new Set(reports.flatMap((report) => report.notes))],
  };
}
