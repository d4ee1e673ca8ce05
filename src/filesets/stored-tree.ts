import type { Repository } from '../repository/repository.js';
import {
  readDirectory,
  readFilesRoot,
  type DirEntry,
  type FileRecord,
  type FilesRoot,
  type SymlinkEntry,
  type TreeEntry,
} from './file-tree.js';

/**
 * A stored file set, depth first as it was walked: a directory's 'enter', its entries, its
 * 'leave'. `selected` is false for a directory that is only on the way to a selected path.
 */
export type StoredEvent =
  | { type: 'enter'; path: string; entry: DirEntry; selected: boolean }
  | { type: 'leave'; path: string; entry: DirEntry; selected: boolean }
  | { type: 'item'; path: string; entry: FileRecord | SymlinkEntry }
  /** A directory whose tree could not be read: what was below it is unknown. */
  | { type: 'unreadable'; path: string; entry: DirEntry; error: Error };

export function joinPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** Normalizes a path to select: absolute, no trailing slash, no empty, "." or ".." parts. */
export function selectionPath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

const under = (path: string, base: string): boolean =>
  path === base || path.startsWith(base === '/' ? '/' : `${base}/`);

/**
 * Walks a stored file set; with `select`, only those paths (each with everything below it) and
 * the directories on the way to them.
 */
export async function* walkStoredTree(
  repository: Repository,
  root: FilesRoot,
  select: readonly string[] = ['/'],
): AsyncGenerator<StoredEvent> {
  const paths = select.map(selectionPath);
  const selected = (path: string): boolean => paths.some((base) => under(path, base));
  const onTheWay = (path: string): boolean => paths.some((base) => under(base, path));

  async function* directory(path: string, entry: DirEntry): AsyncGenerator<StoredEvent> {
    const whole = selected(path);
    let entries: TreeEntry[];
    try {
      entries = (await readDirectory(repository, entry.tree)).entries;
    } catch (error) {
      yield { type: 'unreadable', path, entry, error: error as Error };
      return;
    }
    yield { type: 'enter', path, entry, selected: whole };
    for (const child of entries) {
      const childPath = joinPath(path, child.name);
      if (child.type === 'dir') {
        if (whole || onTheWay(childPath)) yield* directory(childPath, child);
      } else if (whole || selected(childPath)) {
        yield { type: 'item', path: childPath, entry: child };
      }
    }
    yield { type: 'leave', path, entry, selected: whole };
  }

  if (onTheWay('/') || selected('/')) yield* directory('/', root.root);
}

/** The entry at a path in a stored file set, or null; reads only the directories on the way. */
export async function findStoredEntry(
  repository: Repository,
  root: FilesRoot,
  path: string,
): Promise<TreeEntry | null> {
  let entry: TreeEntry = root.root;
  for (const part of selectionPath(path).split('/').filter(Boolean)) {
    if (entry.type !== 'dir') return null;
    const found: TreeEntry | undefined = (await readDirectory(repository, entry.tree)).entries.find(
      (child) => child.name === part,
    );
    if (!found) return null;
    entry = found;
  }
  return entry;
}

/** Trees a walk has read (a Set of hex ids will do; the snapshot walker keeps a bitset). */
export interface SeenTrees {
  has(id: string): boolean;
  add(id: string): void;
}

/**
 * Every object a 'files' snapshot needs, for `check`: the root and directory trees ('tree') and
 * the content chunks ('data'). Trees already in `walked` (shared with another snapshot) are not
 * read again. A tree that cannot be read is reported and its children are unknown.
 */
export async function visitFileSetObjects(
  repository: Repository,
  rootId: string,
  visit: (id: string, type: 'tree' | 'data', path: string) => void,
  unreadable: (id: string, path: string, error: Error) => void,
  walked: SeenTrees = new Set<string>(),
): Promise<void> {
  visit(rootId, 'tree', '/');
  let root: FilesRoot;
  try {
    root = await readFilesRoot(repository, rootId);
  } catch (error) {
    unreadable(rootId, '/', error as Error);
    return;
  }
  const pending: Array<{ id: string; path: string }> = [{ id: root.root.tree, path: '/' }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    visit(next.id, 'tree', next.path);
    if (walked.has(next.id)) continue;
    walked.add(next.id);
    let entries: TreeEntry[];
    try {
      entries = (await readDirectory(repository, next.id)).entries;
    } catch (error) {
      unreadable(next.id, next.path, error as Error);
      continue;
    }
    for (const entry of entries) {
      const path = joinPath(next.path, entry.name);
      if (entry.type === 'dir') pending.push({ id: entry.tree, path });
      else if (entry.type === 'file') for (const chunk of entry.chunks) visit(chunk, 'data', path);
    }
  }
}
