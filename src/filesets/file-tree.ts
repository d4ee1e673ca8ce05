import { checkVersion } from '../mailbox/tree-version.js';
import type { ByteTally, ObjectWriter } from '../repository/object-writer.js';
import type { Repository } from '../repository/repository.js';

/**
 * The trees of a 'files' snapshot (docs/format-files.md): a root naming the set's include and
 * exclude entries and the "/" directory, and one tree object per directory listing its entries
 * with their metadata. A directory whose listing did not change is the same JSON, so the same
 * object: an unchanged subtree costs no new object.
 */
export interface EntryMeta {
  name: string;
  /** Permission bits with setuid, setgid and sticky. */
  mode: number;
  uid: number;
  gid: number;
  user: string | null;
  group: string | null;
  /** Modification time in nanoseconds since the epoch, a decimal string. */
  mtime: string;
}

export interface DirEntry extends EntryMeta {
  type: 'dir';
  /** Id of the directory's tree object. */
  tree: string;
  /** A directory on the way to an include path: only some of its children were backed up. */
  partial?: true;
}

export interface FileRecord extends EntryMeta {
  type: 'file';
  size: number;
  /** SHA-256 of the content, hex; checked when it is read back. */
  sha256: string;
  /** Ids of the data objects holding the content, in order (repository-format section 11). */
  chunks: string[];
  /** Inode number and change time (ns), decimal strings: what the next backup compares. */
  ino: string;
  ctime: string;
}

export interface SymlinkEntry extends EntryMeta {
  type: 'symlink';
  target: string;
}

export type TreeEntry = DirEntry | FileRecord | SymlinkEntry;

export interface DirectoryTree {
  v: 1;
  /** Sorted by the UTF-8 bytes of their names. */
  entries: TreeEntry[];
}

export interface FilesRoot {
  v: 1;
  /** The set's configuration when it was backed up. */
  include: string[];
  exclude: string[];
  /** The "/" directory (name ""). */
  root: DirEntry;
}

/** Members in one fixed order: the same metadata always gives the same JSON. */
function base(entry: EntryMeta): EntryMeta {
  return {
    name: entry.name,
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    user: entry.user,
    group: entry.group,
    mtime: entry.mtime,
  };
}

export function dirEntry(meta: EntryMeta, tree: string, partial: boolean): DirEntry {
  const entry: DirEntry = { type: 'dir', ...base(meta), tree };
  if (partial) entry.partial = true;
  return entry;
}

export function fileRecord(
  meta: EntryMeta,
  file: { size: number; sha256: string; chunks: string[]; ino: string; ctime: string },
): FileRecord {
  return {
    type: 'file',
    ...base(meta),
    size: file.size,
    sha256: file.sha256,
    chunks: file.chunks,
    ino: file.ino,
    ctime: file.ctime,
  };
}

export function symlinkEntry(meta: EntryMeta, target: string): SymlinkEntry {
  return { type: 'symlink', ...base(meta), target };
}

export function compareEntryNames(a: { name: string }, b: { name: string }): number {
  return Buffer.compare(Buffer.from(a.name), Buffer.from(b.name));
}

const save = async (writer: ObjectWriter, value: unknown, tally?: ByteTally): Promise<string> =>
  (await writer.save('tree', Buffer.from(JSON.stringify(value)), tally)).id.toString('hex');

export async function writeDirectory(
  writer: ObjectWriter,
  entries: TreeEntry[],
  tally?: ByteTally,
): Promise<string> {
  const tree: DirectoryTree = { v: 1, entries: [...entries].sort(compareEntryNames) };
  return save(writer, tree, tally);
}

export async function writeFilesRoot(
  writer: ObjectWriter,
  root: FilesRoot,
  tally?: ByteTally,
): Promise<string> {
  const value: FilesRoot = {
    v: root.v,
    include: root.include,
    exclude: root.exclude,
    root: root.root,
  };
  return save(writer, value, tally);
}

/** Refuses what a restore must never act on: names that would leave their directory. */
function checkName(name: unknown, id: string): void {
  if (
    typeof name !== 'string' ||
    name === '' ||
    name === '.' ||
    name === '..' ||
    name.includes('/') ||
    name.includes('\0')
  )
    throw new Error(`directory tree ${id}: invalid entry name ${JSON.stringify(name)}`);
}

export async function readDirectory(repository: Repository, id: string): Promise<DirectoryTree> {
  const tree = checkVersion(
    await repository.readTree<DirectoryTree>(Buffer.from(id, 'hex')),
    'directory tree',
    id,
  );
  if (!Array.isArray(tree.entries)) throw new Error(`directory tree ${id}: no entries`);
  for (const entry of tree.entries) checkName(entry.name, id);
  return tree;
}

export async function readFilesRoot(repository: Repository, id: string): Promise<FilesRoot> {
  const root = checkVersion(
    await repository.readTree<FilesRoot>(Buffer.from(id, 'hex')),
    'file set tree',
    id,
  );
  if (root.root?.type !== 'dir') throw new Error(`file set tree ${id}: no root directory`);
  return root;
}
