/**
 * Which snapshots a copy sends: those of the source (all, or those of the given accounts) that
 * the destination does not have yet. A snapshot file is named by the hash of its bytes and
 * copied as it is, so the same name on the destination is the same snapshot; an entry of a run
 * file has an id of its own, the same in every repository, whichever run file holds it.
 */
import type { Repository } from '../repository/repository.js';
import type { Storage } from '../storage/storage.js';
import { expandRunFile } from '../repository/snapshot/run-file.js';
import type { Snapshot } from '../repository/snapshot/snapshot.js';
import {
  accountOf,
  type CopyFailure,
  type SnapshotToCopy,
  type SourceRunFile,
} from './copy-snapshots.js';

export interface Selection {
  /** Oldest first. */
  toCopy: SnapshotToCopy[];
  /** Snapshots the destination has already. */
  skipped: number;
  /** Source snapshot files that cannot be read (so not copied). */
  unreadable: CopyFailure[];
  /** Accounts asked for that no snapshot of the source belongs to. */
  unknownAccounts: string[];
}

/**
 * `accounts`: names as elsewhere on the command line, `alice@example.com` or with its source,
 * `mail1/alice@example.com` (file sets and commands: `files/NAME`, `commands/NAME`); none: all.
 */
export async function selectSnapshots(
  source: Repository,
  destination: { storage: Storage; repository: Repository | null },
  accounts: readonly string[],
): Promise<Selection> {
  const present = new Set<string>();
  for await (const name of destination.storage.names('snapshots')) present.add(name);
  const presentRuns = new Set<string>();
  if (destination.repository) {
    for await (const name of destination.storage.names('runs')) presentRuns.add(name);
    // The destination's run files, read to know which entries it has: a copy made in part
    // holds entries in files of its own.
    for (const name of presentRuns) {
      const file = await destination.repository.loadRunFile(name);
      for (const { id } of expandRunFile(file)) present.add(id);
    }
  }
  const wanted = new Set(accounts);
  const matched = new Set<string>();
  const selection: Selection = { toCopy: [], skipped: 0, unreadable: [], unknownAccounts: [] };
  /** Whether a snapshot of this account is to be copied (and notes the account as found). */
  const selected = (snapshot: Snapshot): boolean => {
    const account = [snapshot.name, accountOf(snapshot)].find((a) => wanted.has(a));
    if (wanted.size > 0 && account === undefined) return false;
    if (account !== undefined) matched.add(account);
    return true;
  };
  const unreadable = (name: string, error: unknown): void => {
    const message = error instanceof Error ? error.message : String(error);
    selection.unreadable.push({ snapshot: name, account: '?', time: '', error: message });
  };
  for await (const name of source.storage.names('snapshots')) {
    // With every account wanted, a snapshot already there need not even be read.
    if (wanted.size === 0 && present.has(name)) {
      selection.skipped++;
      continue;
    }
    let file;
    try {
      file = await source.loadSnapshotFile(name);
    } catch (error) {
      unreadable(name, error);
      continue;
    }
    if (!selected(file.snapshot)) continue;
    if (present.has(name)) selection.skipped++;
    else selection.toCopy.push({ name, ...file });
  }
  for await (const name of source.storage.names('runs')) {
    let runFile: SourceRunFile;
    try {
      runFile = { name, ...(await source.loadRunFileBytes(name)) };
    } catch (error) {
      unreadable(name, error);
      continue;
    }
    const snapshots = expandRunFile(runFile.file);
    snapshots.forEach(({ id, snapshot }, i) => {
      if (!selected(snapshot)) return;
      const entry = runFile.file.unchanged[i];
      if (present.has(id)) selection.skipped++;
      else if (entry) selection.toCopy.push({ name: id, snapshot, entry, runFile });
    });
  }
  selection.toCopy.sort(
    (a, b) => compare(a.snapshot.time, b.snapshot.time) || compare(a.name, b.name),
  );
  selection.unknownAccounts = accounts.filter((account) => !matched.has(account));
  return selection;
}

/** ISO 8601 UTC times and hex names sort as plain strings, whatever the locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
