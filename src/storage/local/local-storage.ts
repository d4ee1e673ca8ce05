import { randomBytes } from 'node:crypto';
import { constants, type Dirent } from 'node:fs';
import type { FileHandle as NodeFileHandle } from 'node:fs/promises';
import { link, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  FILE_KINDS,
  StorageError,
  describe,
  isTemporaryName,
  isTemporaryPath,
  temporaryFolders,
  type ByteRange,
  type FileHandle,
  type FileInfo,
  type FileKind,
  type Storage,
  type TemporaryFile,
} from '../storage.js';

/**
 * A repository in a local directory (an NFS mount is just a path). Data files are spread over
 * 256 sub-folders by the first two characters of their name, so no folder grows too large.
 */
export class LocalStorage implements Storage {
  readonly location: string;
  /** Restores read many small objects from few packs: keep those files open between reads. */
  private readonly handles = new OpenFiles(64);

  constructor(private readonly root: string) {
    this.location = resolve(root);
  }

  private folder(kind: FileKind, name: string): string {
    if (kind === 'data') return join(this.location, 'data', name.slice(0, 2));
    return join(this.location, kind);
  }

  private path(file: FileHandle): string {
    if (file.kind === 'config') return join(this.location, 'config');
    if (!/^[0-9a-zA-Z._-]+$/.test(file.name))
      throw new StorageError(`invalid file name ${file.name}`, 'io');
    return join(this.folder(file.kind, file.name), file.name);
  }

  async create(): Promise<void> {
    try {
      await stat(join(this.location, 'config'));
      throw new StorageError(`${this.location} already holds a repository`, 'exists');
    } catch (error) {
      if (!isNodeError(error, 'ENOENT')) throw error;
    }
    await mkdir(this.location, { recursive: true });
    for (const kind of FILE_KINDS) {
      if (kind !== 'config') await mkdir(join(this.location, kind), { recursive: true });
    }
    const hex = '0123456789abcdef';
    for (const a of hex)
      for (const b of hex) await mkdir(join(this.location, 'data', a + b), { recursive: true });
  }

  async save(file: FileHandle, data: Uint8Array): Promise<void> {
    const target = this.path(file);
    const folder = file.kind === 'config' ? this.location : this.folder(file.kind, file.name);
    const temporary = join(folder, `.tmp-${randomBytes(8).toString('hex')}`);
    try {
      await mkdir(folder, { recursive: true });
      const handle = await open(
        temporary,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
        0o600,
      );
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      // link() fails if the name exists, so two writers can never overwrite each other;
      // filesystems without hard links get a rename after a check instead.
      try {
        await link(temporary, target);
        await unlink(temporary);
      } catch (error) {
        if (isNodeError(error, 'EEXIST'))
          throw new StorageError(`${describe(file)} already exists`, 'exists');
        if (
          !isNodeError(error, 'EPERM') &&
          !isNodeError(error, 'ENOTSUP') &&
          !isNodeError(error, 'EOPNOTSUPP')
        )
          throw error;
        if (await exists(target))
          throw new StorageError(`${describe(file)} already exists`, 'exists');
        await rename(temporary, target);
      }
      await syncDirectory(folder);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      // Which file matters less than where: the user frees space on that file system.
      if (isNodeError(error, 'ENOSPC'))
        throw new StorageError(
          `no space left on the file system of the repository ${this.location} (writing ${describe(file)}); free some space there and run the command again`,
          'io',
          { cause: error },
        );
      throw wrap(error, file);
    }
  }

  async load(file: FileHandle, range?: ByteRange): Promise<Buffer> {
    try {
      if (!range) {
        const handle = await open(this.path(file), 'r');
        try {
          return await handle.readFile();
        } finally {
          await handle.close();
        }
      }
      return await this.handles.use(this.path(file), (handle) => readRange(handle, range, file));
    } catch (error) {
      throw wrap(error, file);
    }
  }

  async stat(file: FileHandle): Promise<FileInfo> {
    try {
      const info = await stat(this.path(file));
      return { name: file.name, size: info.size };
    } catch (error) {
      throw wrap(error, file);
    }
  }

  /** Lists the files of a kind with their sizes. */
  async *list(kind: FileKind): AsyncIterable<FileInfo> {
    for await (const name of this.names(kind)) {
      try {
        yield { name, size: (await stat(this.path({ kind, name }))).size };
      } catch (error) {
        if (!isNodeError(error, 'ENOENT')) throw error;
      }
    }
  }

  /**
   * The files of a kind, from the directory listing alone (no stat per file: a catalog sync of
   * tens of thousands of snapshots must not cost as many system calls); anything else that lies
   * there (temporary files, strays, folders) is passed over.
   */
  async *names(kind: FileKind): AsyncIterable<string> {
    const folders =
      kind === 'data'
        ? (await readdirOrEmpty(join(this.location, 'data')))
            .filter(
              (sub) =>
                (sub.isDirectory() || sub.isSymbolicLink()) && /^[0-9a-f]{2}$/.test(sub.name),
            )
            .map((sub) => join(this.location, 'data', sub.name))
        : [join(this.location, kind)];
    const valid = kind === 'locks' ? /^[0-9a-zA-Z][0-9a-zA-Z._-]*$/ : /^[0-9a-f]{64}$/;
    for (const folder of folders) {
      for (const entry of await readdirOrEmpty(folder)) {
        if (!valid.test(entry.name)) continue;
        if (kind === 'data' && !folder.endsWith(entry.name.slice(0, 2))) continue;
        if (
          entry.isFile() ||
          (entry.isSymbolicLink() && (await isFileBehind(join(folder, entry.name))))
        )
          yield entry.name;
      }
    }
  }

  async remove(file: FileHandle): Promise<void> {
    try {
      await rm(this.path(file));
    } catch (error) {
      throw wrap(error, file);
    }
  }

  async *temporaryFiles(): AsyncIterable<TemporaryFile> {
    const data = (await readdirOrEmpty(join(this.location, 'data')))
      .filter((sub) => sub.isDirectory() && /^[0-9a-f]{2}$/.test(sub.name))
      .map((sub) => sub.name);
    for (const folder of temporaryFolders(data)) {
      for (const entry of await readdirOrEmpty(join(this.location, folder))) {
        if (!entry.isFile() || !isTemporaryName(entry.name)) continue;
        const path = folder === '' ? entry.name : `${folder}/${entry.name}`;
        try {
          const info = await stat(join(this.location, path));
          yield { path, size: info.size, modified: info.mtime };
        } catch (error) {
          // Renamed or removed by its writer meanwhile.
          if (!isNodeError(error, 'ENOENT')) throw error;
        }
      }
    }
  }

  async removeTemporary(path: string): Promise<void> {
    if (!isTemporaryPath(path))
      throw new StorageError(`${path} is not a temporary file of the repository`, 'denied');
    try {
      await unlink(join(this.location, path));
    } catch (error) {
      if (!isNodeError(error, 'ENOENT')) throw wrap(error, path);
    }
  }

  isNotFound(error: unknown): boolean {
    return error instanceof StorageError && error.code === 'not-found';
  }

  isPermanent(error: unknown): boolean {
    return error instanceof StorageError && error.code !== 'io';
  }

  async close(): Promise<void> {
    await this.handles.closeAll();
  }
}

function isNodeError(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

/** A StorageError naming the file (a handle, or a path below the repository's location). */
function wrap(error: unknown, file: FileHandle | string): unknown {
  if (error instanceof StorageError) return error;
  const name = typeof file === 'string' ? file : describe(file);
  if (isNodeError(error, 'ENOENT'))
    return new StorageError(`${name} not found`, 'not-found', { cause: error });
  if (isNodeError(error, 'EACCES') || isNodeError(error, 'EPERM'))
    return new StorageError(`${name}: permission denied`, 'denied', { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  return new StorageError(`${name}: ${message}`, 'io', { cause: error });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** A symbolic link counts as the file it leads to (a repository assembled from links). */
async function isFileBehind(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (error) {
    if (isNodeError(error, 'ENOENT')) return false;
    throw error;
  }
}

async function readdirOrEmpty(folder: string): Promise<Dirent[]> {
  try {
    return (await readdir(folder, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
  } catch (error) {
    if (isNodeError(error, 'ENOENT') || isNodeError(error, 'ENOTDIR')) return [];
    throw error;
  }
}

/** Makes the rename itself durable: without it a power cut can lose the new directory entry. */
async function syncDirectory(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } catch (error) {
    // Some filesystems (and NFS) refuse fsync on a directory; the file data is already synced.
    if (!isNodeError(error, 'EINVAL') && !isNodeError(error, 'EISDIR')) throw error;
  } finally {
    await handle.close();
  }
}

async function readRange(
  handle: NodeFileHandle,
  range: ByteRange,
  file: FileHandle,
): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(range.length);
  let done = 0;
  while (done < range.length) {
    const { bytesRead } = await handle.read(buffer, done, range.length - done, range.offset + done);
    if (bytesRead === 0) throw new StorageError(`${describe(file)} is shorter than expected`, 'io');
    done += bytesRead;
  }
  return buffer;
}

/**
 * A few read-only file handles kept open, least recently used closed first. Repository files are
 * never rewritten, so a handle kept open always reads what the name holds.
 */
class OpenFiles {
  private readonly files = new Map<string, { handle: Promise<NodeFileHandle>; users: number }>();

  constructor(private readonly limit: number) {}

  async use<T>(path: string, work: (handle: NodeFileHandle) => Promise<T>): Promise<T> {
    let entry = this.files.get(path);
    if (entry) {
      this.files.delete(path);
    } else {
      entry = { handle: open(path, 'r'), users: 0 };
      entry.handle.catch(() => this.files.delete(path));
    }
    this.files.set(path, entry);
    entry.users++;
    try {
      return await work(await entry.handle);
    } finally {
      entry.users--;
      this.evict();
    }
  }

  private evict(): void {
    for (const [path, entry] of this.files) {
      if (this.files.size <= this.limit) return;
      if (entry.users > 0) continue;
      this.files.delete(path);
      void entry.handle.then((handle) => handle.close()).catch(() => undefined);
    }
  }

  async closeAll(): Promise<void> {
    const entries = [...this.files.values()];
    this.files.clear();
    await Promise.all(
      entries.map((entry) => entry.handle.then((handle) => handle.close()).catch(() => undefined)),
    );
  }
}
