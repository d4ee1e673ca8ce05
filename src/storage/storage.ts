/**
 * The storage interface: where repository files live (a local directory today; SFTP and S3
 * later). A backend moves whole files and byte ranges; it knows nothing of what they hold.
 * Retries, concurrency limits and logging are wrappers around a backend, never inside one.
 */

/** The kinds of file a repository holds; each kind is a folder in every backend. */
export type FileKind =
  'config' | 'keys' | 'data' | 'index' | 'snapshots' | 'runs' | 'condemned' | 'locks';

export const FILE_KINDS: readonly FileKind[] = [
  'config',
  'keys',
  'data',
  'index',
  'snapshots',
  'runs',
  'condemned',
  'locks',
];

export interface FileHandle {
  kind: FileKind;
  /** The file's name within its kind; for 'config' the name is ignored. */
  name: string;
}

export interface FileInfo {
  name: string;
  size: number;
}

/**
 * A file a save left under a temporary name (`.tmp-…`): the writer stopped (a crash, a kill, a
 * lost connection) before it gave the file its real name. Readers pass over such files; `prune`
 * deletes those no writer can still be writing (format section 12).
 */
export interface TemporaryFile {
  /**
   * Where it lies, for removeTemporary and for messages: its path below the repository's
   * location (`data/3f/.tmp-0123abcd`), or the absolute path of a local cache's own.
   */
  path: string;
  size: number;
  /** When it was last written to. */
  modified: Date;
}

/** Whether a name is one a save writes before the real one. */
export function isTemporaryName(name: string): boolean {
  return /^\.tmp-[0-9A-Za-z._-]+$/.test(name);
}

/** The folders of a repository (its root, '', among them) where saves leave temporary files. */
export function temporaryFolders(dataFolders: readonly string[]): string[] {
  const kinds = FILE_KINDS.filter((kind) => kind !== 'config' && kind !== 'data');
  return ['', ...kinds, ...dataFolders.map((sub) => `data/${sub}`)];
}

/** Whether a path below a repository's location names a temporary file in one of its folders. */
export function isTemporaryPath(path: string): boolean {
  const slash = path.lastIndexOf('/');
  const folder = slash < 0 ? '' : path.slice(0, slash);
  const folderOk =
    folder === '' ||
    /^data\/[0-9a-f]{2}$/.test(folder) ||
    FILE_KINDS.some((kind) => kind !== 'config' && kind !== 'data' && kind === folder);
  return folderOk && isTemporaryName(path.slice(slash + 1));
}

export interface ByteRange {
  offset: number;
  length: number;
}

export interface Storage {
  /** Where the files are, safe to print (no passwords). */
  readonly location: string;
  /**
   * Store a new file. It becomes visible only once complete and durable (written under a
   * temporary name, flushed and renamed), so a crash never leaves a half-written file behind
   * a real name. Saving over an existing file is refused: repository files are never rewritten
   * (a backend may instead write a file named by its content again, the same bytes: S3 does).
   */
  save(file: FileHandle, data: Uint8Array): Promise<void>;
  load(file: FileHandle, range?: ByteRange): Promise<Buffer>;
  stat(file: FileHandle): Promise<FileInfo>;
  /** The files of a kind with their sizes (one stat each: use names() when sizes are not needed). */
  list(kind: FileKind): AsyncIterable<FileInfo>;
  /** The names of the files of a kind, as cheaply as the backend can list them. */
  names(kind: FileKind): AsyncIterable<string>;
  remove(file: FileHandle): Promise<void>;
  /**
   * The files saves left under a temporary name in the repository's folders, with when each was
   * last written: what `prune` deletes once they are older than its grace period.
   */
  temporaryFiles(): AsyncIterable<TemporaryFile>;
  /**
   * Deletes a file temporaryFiles() gave, by its path; one gone meanwhile is no error. Any other
   * path is refused: this never deletes a repository file.
   */
  removeTemporary(path: string): Promise<void>;
  /** Creates the folders a new repository needs; fails if the location already holds a repository config. */
  create(): Promise<void>;
  /** The error means the file does not exist. */
  isNotFound(error: unknown): boolean;
  /** Retrying will not help (not found, permission denied, already exists...). */
  isPermanent(error: unknown): boolean;
  /**
   * A storage that serves some files from local copies (the cache's kept packs) drops its copy
   * of `file`, found damaged, so that the next load reads the original. Says whether it had one.
   */
  dropLocalCopy?(file: FileHandle): Promise<boolean>;
  close(): Promise<void>;
}

export class StorageError extends Error {
  constructor(
    message: string,
    readonly code: 'not-found' | 'exists' | 'denied' | 'io',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StorageError';
  }
}

export function describe(file: FileHandle): string {
  return file.kind === 'config' ? 'config' : `${file.kind}/${file.name}`;
}
