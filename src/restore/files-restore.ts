import type { DirEntry, EntryMeta, FilesRoot } from '../filesets/file-tree.js';
import { walkStoredTree } from '../filesets/stored-tree.js';
import type { Repository } from '../repository/repository.js';
import { readStream } from '../repository/stream-store.js';
import type { EntryMetadata, EntryOutcome, FileTarget } from '../targets/files/file-target.js';

export interface FileSetRestoreOptions {
  repository: Repository;
  set: string;
  snapshot: string;
  snapshotTime: Date;
  root: FilesRoot;
  /** Absolute paths, each with everything below it; empty: the whole set. */
  paths: readonly string[];
  target: FileTarget;
  /** Where the target is, for the report. */
  targetDescription: string;
  /** Each file, link or directory done (bytes: a file's size). */
  onEntry?: (path: string, bytes: number) => void;
}

export interface FileSetRestoreItem {
  path: string;
  outcome: 'skipped' | 'failed';
  reason: string;
}

/** What a file set's restore did: counts of files, links and directories, and why any were not. */
export interface FileSetRestoreReport {
  set: string;
  snapshot: string;
  snapshotTime: string;
  target: string;
  paths: string[];
  restored: number;
  alreadyPresent: number;
  skipped: number;
  failed: number;
  /** Bytes of the files written. */
  bytes: number;
  items: FileSetRestoreItem[];
  notes: string[];
}

function metadataOf(entry: EntryMeta): EntryMetadata {
  return {
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    user: entry.user,
    group: entry.group,
    mtimeNs: BigInt(entry.mtime),
  };
}

/** A directory not restored: what was below it is counted with it, not listed one by one. */
interface Blocked {
  item: FileSetRestoreItem;
  below: number;
}

/**
 * Restores a file set's snapshot, or some paths of it, through a file target: directories as they
 * come (their metadata at the end), files only once their content has been read back and
 * verified. Directories on the way to what is selected, and those that were only on the way to
 * an include path when backed up, are created where missing but not counted.
 */
export async function restoreFileSet(
  options: FileSetRestoreOptions,
): Promise<FileSetRestoreReport> {
  const { repository, target } = options;
  const report: FileSetRestoreReport = {
    set: options.set,
    snapshot: options.snapshot,
    snapshotTime: options.snapshotTime.toISOString(),
    target: options.targetDescription,
    paths: [...options.paths],
    restored: 0,
    alreadyPresent: 0,
    skipped: 0,
    failed: 0,
    bytes: 0,
    items: [],
    notes: [],
  };
  const blocked: Blocked[] = [];
  const open: Array<Blocked | null> = [];
  const createdDirectories = new Set<string>();

  const count = (path: string, outcome: EntryOutcome, counted: boolean): Blocked | null => {
    if (outcome.kind === 'restored' || outcome.kind === 'present') {
      if (counted) report[outcome.kind === 'restored' ? 'restored' : 'alreadyPresent']++;
      return null;
    }
    report[outcome.kind]++;
    const item: FileSetRestoreItem = { path, outcome: outcome.kind, reason: outcome.reason };
    report.items.push(item);
    const stop = { item, below: 0 };
    blocked.push(stop);
    return stop;
  };
  const blockedBy = (): Blocked | null => open.find((entry) => entry !== null) ?? null;

  const walk = walkStoredTree(
    repository,
    options.root,
    options.paths.length > 0 ? options.paths : ['/'],
  );
  for await (const event of walk) {
    const stop = blockedBy();
    if (event.type === 'leave') {
      open.pop();
      continue;
    }
    if (stop) {
      stop.below++;
      if (event.type === 'enter') open.push(null);
      continue;
    }
    if (event.type === 'unreadable') {
      count(
        event.path,
        { kind: 'failed', reason: `its stored listing cannot be read: ${event.error.message}` },
        true,
      );
      continue;
    }
    if (event.type === 'enter') {
      const ancestor = !event.selected || Boolean((event.entry as DirEntry).partial);
      const outcome = await target.directory(event.path, metadataOf(event.entry), ancestor);
      if (outcome.kind === 'restored' && !ancestor)
        createdDirectories.add(target.destination(event.path));
      open.push(count(event.path, outcome, !ancestor));
      options.onEntry?.(event.path, 0);
      continue;
    }
    const { entry, path } = event;
    const metadata = metadataOf(entry);
    let outcome: EntryOutcome;
    if (entry.type === 'symlink') {
      outcome = await target.symlink(path, metadata, entry.target);
    } else {
      outcome = await target.file(path, metadata, entry, () => readStream(repository, entry));
      if (outcome.kind === 'restored') report.bytes += entry.size;
    }
    count(path, outcome, true);
    options.onEntry?.(path, entry.type === 'file' ? entry.size : 0);
  }
  const finished = await target.finish();
  for (const problem of finished.problems) {
    if (createdDirectories.has(problem.path)) report.restored--;
    report.failed++;
    report.items.push({ path: problem.path, outcome: 'failed', reason: problem.reason });
  }
  for (const { item, below } of blocked) {
    if (below === 0) continue;
    report[item.outcome] += below;
    item.reason += `; ${below} entr${below === 1 ? 'y' : 'ies'} below it ${item.outcome === 'failed' ? 'failed' : 'skipped'} with it`;
  }
  if (finished.microsecondTimes)
    report.notes.push(
      `the times of ${finished.microsecondTimes.entries} entr${finished.microsecondTimes.entries === 1 ? 'y are' : 'ies are'} right to the microsecond, not the nanosecond: ${finished.microsecondTimes.reason}`,
    );
  if (!target.setsOwners)
    report.notes.push(
      'owners and groups were not restored: that needs root (the files belong to the user who ran the restore)',
    );
  return report;
}
