import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { FileEntryWithStats } from 'ssh2';
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
import { errorMessage } from '../wrappers/storage-logger.js';
import { ReadHandles } from './read-handles.js';
import { forEachPiece } from './request-limit.js';
import type { SftpConnection } from './sftp-connection.js';
import { SFTP_STATUS, isConnectionLost, sftpStatus, type SftpSession } from './sftp-session.js';
import { withoutPassword, type SftpAddress } from './sftp-url.js';

/**
 * Bytes per read or write request. OpenSSH takes up to 255 KiB; a smaller piece keeps a slow
 * link from holding one request for long, and a server with a lower limit still gets whole
 * requests (ssh2 splits larger ones, one after another).
 */
const PIECE_BYTES = 128 * 1024;
/** Pieces of one file in flight at once: enough to keep a link with latency busy. */
const PIECES_AT_ONCE = 8;
/** Files kept open for byte-range reads. */
const OPEN_FOR_READING = 32;

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/**
 * A repository in a folder of an SFTP server, laid out as the local backend lays out a folder
 * (config, keys/, data/XX/, index/, snapshots/, locks/), so either can be copied to the other.
 */
export class SftpStorage implements Storage {
  readonly location: string;
  private readHandles: ReadHandles | undefined;

  constructor(
    private readonly address: SftpAddress,
    private readonly connection: SftpConnection,
  ) {
    this.location = address.location;
  }

  private folder(kind: FileKind, name: string): string {
    if (kind === 'data') return posix.join(this.address.path, 'data', name.slice(0, 2));
    return posix.join(this.address.path, kind);
  }

  private path(file: FileHandle): string {
    if (file.kind === 'config') return posix.join(this.address.path, 'config');
    if (!/^[0-9a-zA-Z._-]+$/.test(file.name) || file.name === '.' || file.name === '..')
      throw new StorageError(`invalid file name ${file.name}`, 'io');
    return posix.join(this.folder(file.kind, file.name), file.name);
  }

  /** The data/XX folders are made by the first save into each, not here. */
  async create(): Promise<void> {
    try {
      const session = await this.connection.session();
      if (await exists(session, posix.join(this.address.path, 'config')))
        throw new StorageError(`${this.location} already holds a repository`, 'exists');
      await makeFolders(session, this.address.path);
      await Promise.all(
        FILE_KINDS.filter((kind) => kind !== 'config').map((kind) =>
          makeFolders(session, posix.join(this.address.path, kind)),
        ),
      );
    } catch (error) {
      throw this.failure(error, this.location);
    }
  }

  /**
   * Writes a temporary file in the target's folder, flushes it, and gives it its name with the
   * plain SFTP rename, which refuses an existing name. A save cut short leaves at most a
   * `.tmp-` file, which listings pass over.
   */
  async save(file: FileHandle, data: Uint8Array): Promise<void> {
    const target = this.path(file);
    const temporary = posix.join(posix.dirname(target), `.tmp-${randomBytes(8).toString('hex')}`);
    let session: SftpSession | undefined;
    try {
      session = await this.connection.session();
      await writeTemporary(session, temporary, data);
      await claimName(session, temporary, target, file);
    } catch (error) {
      if (session?.isAlive) await session.unlink(temporary).catch(() => undefined);
      throw this.failure(error, describe(file));
    }
  }

  async load(file: FileHandle, range?: ByteRange): Promise<Buffer> {
    const path = this.path(file);
    try {
      const session = await this.connection.session();
      if (range) {
        return await this.readHandlesOf(session).use(path, (handle) =>
          readRange(session, handle, range, file),
        );
      }
      return await readWhole(session, path, file);
    } catch (error) {
      throw this.failure(error, describe(file));
    }
  }

  async stat(file: FileHandle): Promise<FileInfo> {
    const path = this.path(file);
    try {
      const session = await this.connection.session();
      return { name: file.name, size: (await session.stat(path)).size };
    } catch (error) {
      throw this.failure(error, describe(file));
    }
  }

  /** Sizes come with the listing itself: no stat per file. */
  async *list(kind: FileKind): AsyncIterable<FileInfo> {
    yield* this.files(kind);
  }

  async *names(kind: FileKind): AsyncIterable<string> {
    for await (const file of this.files(kind)) yield file.name;
  }

  /**
   * The files of a kind from the folder listings (and data/'s two-hex-digit sub-folders), passing
   * over what else lies there: temporary files, strays, folders.
   */
  private async *files(kind: FileKind): AsyncIterable<FileInfo> {
    const valid = kind === 'locks' ? /^[0-9a-zA-Z][0-9a-zA-Z._-]*$/ : /^[0-9a-f]{64}$/;
    try {
      const session = await this.connection.session();
      for (const folder of await this.foldersOf(session, kind)) {
        for (const entry of await listFolder(session, folder)) {
          if (!valid.test(entry.filename)) continue;
          if (kind === 'data' && !folder.endsWith(`/${entry.filename.slice(0, 2)}`)) continue;
          const size = await regularFileSize(session, folder, entry);
          if (size !== undefined) yield { name: entry.filename, size };
        }
      }
    } catch (error) {
      throw this.failure(error, kind);
    }
  }

  private async foldersOf(session: SftpSession, kind: FileKind): Promise<string[]> {
    const top = posix.join(this.address.path, kind);
    if (kind !== 'data') return [top];
    const subfolders = (await listFolder(session, top)).filter(
      (entry) =>
        /^[0-9a-f]{2}$/.test(entry.filename) &&
        [S_IFDIR, S_IFLNK].includes(entry.attrs.mode & S_IFMT),
    );
    return subfolders.map((entry) => posix.join(top, entry.filename));
  }

  async remove(file: FileHandle): Promise<void> {
    const path = this.path(file);
    try {
      const session = await this.connection.session();
      await this.readHandlesOf(session).forget(path);
      await session.unlink(path);
    } catch (error) {
      throw this.failure(error, describe(file));
    }
  }

  /** Sizes and times come with the folder listings, as for list(). */
  async *temporaryFiles(): AsyncIterable<TemporaryFile> {
    try {
      const session = await this.connection.session();
      const data = (await this.foldersOf(session, 'data')).map((folder) => posix.basename(folder));
      for (const folder of temporaryFolders(data)) {
        for (const entry of await listFolder(session, posix.join(this.address.path, folder))) {
          if (!isTemporaryName(entry.filename)) continue;
          if ((entry.attrs.mode & S_IFMT) !== S_IFREG) continue;
          yield {
            path: folder === '' ? entry.filename : `${folder}/${entry.filename}`,
            size: entry.attrs.size,
            modified: new Date(entry.attrs.mtime * 1000),
          };
        }
      }
    } catch (error) {
      throw this.failure(error, 'temporary files');
    }
  }

  async removeTemporary(path: string): Promise<void> {
    if (!isTemporaryPath(path))
      throw new StorageError(`${path} is not a temporary file of the repository`, 'denied');
    try {
      const session = await this.connection.session();
      await session.unlink(posix.join(this.address.path, path));
    } catch (error) {
      if (sftpStatus(error) !== SFTP_STATUS.noSuchFile) throw this.failure(error, path);
    }
  }

  isNotFound(error: unknown): boolean {
    return error instanceof StorageError && error.code === 'not-found';
  }

  isPermanent(error: unknown): boolean {
    return error instanceof StorageError && error.code !== 'io';
  }

  async close(): Promise<void> {
    await this.readHandles?.closeAll();
    this.readHandles = undefined;
    await this.connection.close();
  }

  /** The open files of this session (those of an earlier session went with it). */
  private readHandlesOf(session: SftpSession): ReadHandles {
    if (this.readHandles?.session !== session)
      this.readHandles = new ReadHandles(session, OPEN_FOR_READING);
    return this.readHandles;
  }

  /** A StorageError naming `what`: not found and permission denied are final, the rest 'io'. */
  private failure(error: unknown, what: string): StorageError {
    if (error instanceof StorageError) return error;
    const status = sftpStatus(error);
    if (status === SFTP_STATUS.noSuchFile)
      return new StorageError(`${what} not found`, 'not-found', { cause: error });
    if (status === SFTP_STATUS.permissionDenied)
      return new StorageError(`${what}: permission denied`, 'denied', { cause: error });
    const why = isConnectionLost(error)
      ? `the connection to ${this.location} was lost`
      : `${errorMessage(error)} (${this.location})`;
    return new StorageError(withoutPassword(`${what}: ${why}`, this.address.password), 'io', {
      cause: error,
    });
  }
}

async function exists(session: SftpSession, path: string): Promise<boolean> {
  try {
    await session.stat(path);
    return true;
  } catch (error) {
    if (sftpStatus(error) === SFTP_STATUS.noSuchFile) return false;
    throw error;
  }
}

/** mkdir -p: OpenSSH answers a plain failure for a folder that exists, so that is checked. */
async function makeFolders(session: SftpSession, path: string): Promise<void> {
  try {
    await session.mkdir(path);
  } catch (error) {
    const status = sftpStatus(error);
    const parent = posix.dirname(path);
    if (status === SFTP_STATUS.noSuchFile && parent !== path) {
      await makeFolders(session, parent);
      await makeFolders(session, path);
    } else if (status !== SFTP_STATUS.failure || !(await isFolder(session, path))) {
      throw error;
    }
  }
}

async function isFolder(session: SftpSession, path: string): Promise<boolean> {
  try {
    return (await session.stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Creates the file (its folder too, the first time one is needed), writes and flushes it. */
async function writeTemporary(session: SftpSession, path: string, data: Uint8Array): Promise<void> {
  let handle: Buffer;
  try {
    handle = await session.open(path, 'wx', 0o600);
  } catch (error) {
    if (sftpStatus(error) !== SFTP_STATUS.noSuchFile) throw error;
    await makeFolders(session, posix.dirname(path));
    handle = await session.open(path, 'wx', 0o600);
  }
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  try {
    await forEachPiece(Math.ceil(bytes.length / PIECE_BYTES), PIECES_AT_ONCE, (index) => {
      const start = index * PIECE_BYTES;
      return session.write(handle, bytes.subarray(start, start + PIECE_BYTES), start);
    });
    await session.fsync(handle);
  } catch (error) {
    await session.close(handle).catch(() => undefined);
    throw error;
  }
  // A server may report a failed write only at close, so its answer counts.
  await session.close(handle);
}

/** Renames; a refusal because the name is taken becomes 'exists'. */
async function claimName(
  session: SftpSession,
  temporary: string,
  target: string,
  file: FileHandle,
): Promise<void> {
  try {
    await session.rename(temporary, target);
  } catch (error) {
    // OpenSSH answers a taken name with a plain failure, like any other: look.
    if (sftpStatus(error) === SFTP_STATUS.failure && (await exists(session, target)))
      throw new StorageError(`${describe(file)} already exists`, 'exists', { cause: error });
    throw error;
  }
}

/**
 * Asks for the size and the first piece together, so a small file costs one round trip after
 * the open; the close is not waited for, as nothing read depends on it.
 */
async function readWhole(session: SftpSession, path: string, file: FileHandle): Promise<Buffer> {
  const handle = await session.open(path, 'r');
  try {
    const head = Buffer.alloc(PIECE_BYTES);
    const [stats, headBytes] = await Promise.all([
      session.fstat(handle),
      session.read(handle, head, 0, PIECE_BYTES, 0),
    ]);
    const buffer = Buffer.alloc(stats.size);
    const start = Math.min(headBytes, stats.size);
    head.copy(buffer, 0, 0, start);
    await readInto(session, handle, buffer.subarray(start), start, file);
    return buffer;
  } finally {
    void session.close(handle).catch(() => undefined);
  }
}

async function readRange(
  session: SftpSession,
  handle: Buffer,
  range: ByteRange,
  file: FileHandle,
): Promise<Buffer> {
  const buffer = Buffer.alloc(range.length);
  await readInto(session, handle, buffer, range.offset, file);
  return buffer;
}

/** Fills `buffer` from `position` on, a few pieces at a time; a file that ends early fails. */
async function readInto(
  session: SftpSession,
  handle: Buffer,
  buffer: Buffer,
  position: number,
  file: FileHandle,
): Promise<void> {
  await forEachPiece(Math.ceil(buffer.length / PIECE_BYTES), PIECES_AT_ONCE, async (index) => {
    const end = Math.min((index + 1) * PIECE_BYTES, buffer.length);
    // A server may answer with less than asked; ask again for the rest.
    for (let done = index * PIECE_BYTES; done < end;) {
      const count = await session.read(handle, buffer, done, end - done, position + done);
      if (count === 0) throw new StorageError(`${describe(file)} is shorter than expected`, 'io');
      done += count;
    }
  });
}

/** A folder's entries, none for a folder that is absent (or is not a folder). */
async function listFolder(session: SftpSession, folder: string): Promise<FileEntryWithStats[]> {
  try {
    const entries = await session.readdir(folder);
    return entries.sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0));
  } catch (error) {
    if (sftpStatus(error) === SFTP_STATUS.noSuchFile) return [];
    throw error;
  }
}

/**
 * The size of a regular file from its listing entry; a symbolic link counts as the file it
 * leads to (one stat, for links only), anything else is passed over.
 */
async function regularFileSize(
  session: SftpSession,
  folder: string,
  entry: FileEntryWithStats,
): Promise<number | undefined> {
  // A server that sends no permissions leaves the type unknown: ask, as for a link.
  const type = typeof entry.attrs.mode === 'number' ? entry.attrs.mode & S_IFMT : S_IFLNK;
  if (type === S_IFREG) return entry.attrs.size;
  if (type !== S_IFLNK) return undefined;
  try {
    const target = await session.stat(posix.join(folder, entry.filename));
    return target.isFile() ? target.size : undefined;
  } catch (error) {
    if (sftpStatus(error) === SFTP_STATUS.noSuchFile) return undefined;
    throw error;
  }
}
