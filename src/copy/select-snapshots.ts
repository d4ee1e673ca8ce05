/**
 * Which snapshots a copy sends: those of the source (all, or those of the given accounts) whose
 * file the destination does not have yet. A snapshot file is named by the hash of its bytes and
 * copied as it is, so the same name on the destination is the same snapshot.
 */
import type { Repository } from '../repository/repository.js';
import type { Storage } from '../storage/storage.js';
import { accountOf, type CopyFailure, type SnapshotToCopy } from './copy-snapshots.js';

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
  destination: Storage,
  accounts: readonly string[],
): Promise<Selection> {
  const present = new Set<string>();
  for await (const name of destination.names('snapshots')) present.add(name);
  const wanted = new Set(accounts);
  const matched = new Set<string>();
  const selection: Selection = { toCopy: [], skipped: 0, unreadable: [], unknownAccounts: [] };
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
      const message = error instanceof Error ? error.message : String(error);
      selection.unreadable.push({ snapshot: name, account: '?', time: '', error: message });
      continue;
    }
    const account = [file.snapshot.name, accountOf(file.snapshot)].find((a) => wanted.has(a));
    if (wanted.size > 0 && account === undefined) continue;
    if (account !== undefined) matched.add(account);
    if (present.has(name)) selection.skipped++;
    else selection.toCopy.push({ name, ...file });
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
