// Looking at a repository folder from the outside, as an administrator (or rsync) would: which
// files are there, with which sizes, whether each file's content still matches its name, and
// waiting for files to appear (fault tests kill a process at such moments).
import { createHash } from 'node:crypto';
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { SnapshotWalker } from '../../src/maintenance/snapshot-walk.js';
import { Repository } from '../../src/repository/repository.js';
import { LocalStorage } from '../../src/storage/local/local-storage.js';

/** A file or folder below the repository root; folders end in '/' and have size 0. */
export interface RepositoryEntry {
  path: string;
  size: number;
}

/** Every file and folder below `root`, sorted by path: equal listings mean nothing was written. */
export async function listRepository(root: string): Promise<RepositoryEntry[]> {
  const out: RepositoryEntry[] = [];
  const walk = async (dir: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      const info = await stat(path);
      if (info.isDirectory()) {
        out.push({ path: `${relative(root, path)}/`, size: 0 });
        await walk(path);
      } else {
        out.push({ path: relative(root, path), size: info.size });
      }
    }
  };
  await walk(root);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** How the local backend names a file while it is being written (storage/local). */
export function isTemporaryName(name: string): boolean {
  return name.startsWith('.tmp-');
}

/** The folders whose files are named by the SHA-256 of their content (packs, indexes, snapshots, run files, keys). */
const CONTENT_ADDRESSED = /^(data\/[0-9a-f]{2}|index|snapshots|runs|keys)\/([^/]+)$/;

export interface RepositoryAudit {
  /** Files left under a temporary name, with their folder (e.g. "data/3f/.tmp-0123abcd"). */
  temporary: string[];
  /** Real-named files whose content does not hash to their name: half-written or damaged. */
  mismatched: string[];
  /** Files with a name the repository format does not use. */
  strange: string[];
  /** Real-named files per folder kind. */
  counts: { packs: number; indexes: number; snapshots: number; runs: number; keys: number };
}

/**
 * Reads every file of the repository. A crash must never leave a file under its real name with
 * anything but its complete content: packs, indexes, snapshots and keys are named by the SHA-256
 * of their bytes, so a half-written one shows as `mismatched`.
 */
export async function auditRepository(root: string): Promise<RepositoryAudit> {
  const audit: RepositoryAudit = {
    temporary: [],
    mismatched: [],
    strange: [],
    counts: { packs: 0, indexes: 0, snapshots: 0, runs: 0, keys: 0 },
  };
  for (const entry of await listRepository(root)) {
    if (entry.path.endsWith('/')) continue;
    const name = entry.path.slice(entry.path.lastIndexOf('/') + 1);
    if (isTemporaryName(name)) {
      audit.temporary.push(entry.path);
      continue;
    }
    // The config is named 'config'; locks are not content (a crashed run may leave one behind).
    if (entry.path === 'config' || entry.path.startsWith('locks/')) continue;
    const match = CONTENT_ADDRESSED.exec(entry.path);
    if (!match || !/^[0-9a-f]{64}$/.test(name)) {
      audit.strange.push(entry.path);
      continue;
    }
    const folder = match[1] ?? '';
    if (folder.startsWith('data/')) {
      audit.counts.packs++;
      if (!folder.endsWith(`/${name.slice(0, 2)}`)) audit.strange.push(entry.path);
    } else if (folder === 'index') audit.counts.indexes++;
    else if (folder === 'snapshots') audit.counts.snapshots++;
    else if (folder === 'runs') audit.counts.runs++;
    else audit.counts.keys++;
    const digest = createHash('sha256')
      .update(await readFile(join(root, entry.path)))
      .digest('hex');
    if (digest !== name) audit.mismatched.push(entry.path);
  }
  return audit;
}

/** A file created or renamed into one of the repository's folders. */
export interface RepositoryEvent {
  /** 'data', 'index', 'snapshots' or 'runs'. */
  kind: string;
  name: string;
}

/**
 * Calls `onEvent` for every name that appears in data/xx, index, snapshots and runs (inotify, so
 * within a millisecond or so of the rename). The folders must exist (after `init`).
 * Returns a function that stops watching.
 */
export async function watchRepository(
  root: string,
  onEvent: (event: RepositoryEvent) => void,
): Promise<() => void> {
  const watchers: FSWatcher[] = [];
  const add = (dir: string, kind: string): void => {
    const watcher = watch(dir, (_type, name) => {
      if (name) onEvent({ kind, name: name.toString() });
    });
    watcher.on('error', () => undefined);
    watchers.push(watcher);
  };
  for (const sub of await readdir(join(root, 'data'))) add(join(root, 'data', sub), 'data');
  add(join(root, 'index'), 'index');
  add(join(root, 'snapshots'), 'snapshots');
  add(join(root, 'runs'), 'runs');
  return () => {
    for (const watcher of watchers) watcher.close();
  };
}

/**
 * Packs that hold no tree any snapshot reaches: only a data read reads them (a pack holding a
 * tree is read by every check's walk of the snapshots). For tests that damage message content.
 */
export async function contentPacks(root: string, passphrase: string): Promise<Set<string>> {
  const storage = new LocalStorage(root);
  const repository = await Repository.open(storage, passphrase);
  await repository.loadIndex();
  const treePacks = new Set<string>();
  const walker = new SnapshotWalker(repository, {
    object: (id, type) => {
      if (type === 'tree') treePacks.add(repository.locate(Buffer.from(id, 'hex')).pack);
    },
    unreadable: (id) => {
      throw new Error(`tree ${id} unreadable before any damage`);
    },
  });
  for await (const { snapshot } of repository.snapshots()) await walker.walk(snapshot);
  const all = [...repository.index.packs()];
  await storage.close();
  return new Set(all.filter((pack) => !treePacks.has(pack)));
}
