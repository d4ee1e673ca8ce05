import type { ByteTally, ObjectWriter } from '../repository/object-writer.js';
import type { Repository } from '../repository/repository.js';
import type { StoredStream } from '../repository/stream-store.js';
import {
  dirEntry,
  fileRecord,
  readDirectory,
  symlinkEntry,
  writeDirectory,
  writeFilesRoot,
  type DirEntry,
  type EntryMeta,
  type FileRecord,
  type FilesRoot,
  type TreeEntry,
} from './file-tree.js';

/** What tells an unchanged file from a changed one without reading it (as restic does). */
export interface FileIdentity {
  size: number;
  /** Inode number and change time in nanoseconds, decimal strings. */
  ino: string;
  ctime: string;
}

interface OpenDirectory {
  meta: EntryMeta;
  partial: boolean;
  entries: TreeEntry[];
  /** The same directory in the parent snapshot, by entry name. */
  previous: Map<string, TreeEntry> | null;
}

/**
 * Builds a 'files' snapshot's trees as a walk goes: directories are entered and left in depth
 * first order, each written as its own tree object when it is left. Follows the parent snapshot
 * along, one directory at a time, so a file whose size, mtime, inode and ctime are unchanged
 * takes its stored content from there instead of being read again. Memory: the open directories
 * only.
 */
export class FileTreeBuilder {
  private readonly open: OpenDirectory[] = [];
  private root: DirEntry | null = null;

  constructor(
    private readonly repository: Repository,
    private readonly writer: ObjectWriter,
    private readonly parent: FilesRoot | null,
    /** Counts the sealed bytes of the tree objects written. */
    private readonly tally?: ByteTally,
  ) {}

  async enter(meta: EntryMeta, partial: boolean): Promise<void> {
    const top = this.open.at(-1);
    const before = top ? top.previous?.get(meta.name) : this.parent?.root;
    let previous: Map<string, TreeEntry> | null = null;
    if (before?.type === 'dir') {
      try {
        const tree = await readDirectory(this.repository, before.tree);
        previous = new Map(tree.entries.map((entry) => [entry.name, entry]));
      } catch {
        // An unreadable parent tree only costs reading these files again.
        previous = null;
      }
    }
    this.open.push({ meta, partial, entries: [], previous });
  }

  /** Writes the directory's tree object and adds it to its parent. */
  async leave(): Promise<DirEntry> {
    const directory = this.open.pop();
    if (!directory) throw new Error('FileTreeBuilder: leave() without enter()');
    const id = await writeDirectory(this.writer, directory.entries, this.tally);
    const entry = dirEntry(directory.meta, id, directory.partial);
    const top = this.open.at(-1);
    if (top) top.entries.push(entry);
    else this.root = entry;
    return entry;
  }

  /**
   * The parent snapshot's record of this file when size, mtime, inode and ctime are all the same
   * and every chunk is still in the repository's index; null when it must be read.
   */
  unchanged(meta: EntryMeta, identity: FileIdentity): FileRecord | null {
    const before = this.open.at(-1)?.previous?.get(meta.name);
    if (before?.type !== 'file') return null;
    if (
      before.size !== identity.size ||
      before.mtime !== meta.mtime ||
      before.ino !== identity.ino ||
      before.ctime !== identity.ctime
    )
      return null;
    if (!before.chunks.every((chunk) => this.repository.index.has(Buffer.from(chunk, 'hex'))))
      return null;
    return fileRecord(meta, { ...identity, sha256: before.sha256, chunks: before.chunks });
  }

  addFile(
    meta: EntryMeta,
    content: Pick<StoredStream, 'size' | 'sha256' | 'chunks'>,
    identity: FileIdentity,
  ): void {
    this.current().entries.push(
      fileRecord(meta, {
        size: content.size,
        sha256: content.sha256,
        chunks: content.chunks,
        ino: identity.ino,
        ctime: identity.ctime,
      }),
    );
  }

  /** A record from unchanged(), as it is. */
  addRecord(record: FileRecord): void {
    this.current().entries.push(record);
  }

  addSymlink(meta: EntryMeta, target: string): void {
    this.current().entries.push(symlinkEntry(meta, target));
  }

  /** Writes the root object once "/" has been left; returns its id. */
  async finish(include: readonly string[], exclude: readonly string[]): Promise<string> {
    if (this.open.length > 0 || !this.root)
      throw new Error('FileTreeBuilder: finish() before the walk left "/"');
    return writeFilesRoot(
      this.writer,
      { v: 1, include: [...include], exclude: [...exclude], root: this.root },
      this.tally,
    );
  }

  private current(): OpenDirectory {
    const top = this.open.at(-1);
    if (!top) throw new Error('FileTreeBuilder: an entry outside any directory');
    return top;
  }
}
