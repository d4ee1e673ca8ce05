import {
  StorageError,
  type ByteRange,
  type FileHandle,
  type FileInfo,
  type FileKind,
  type Storage,
  type TemporaryFile,
} from './storage.js';

/**
 * A backend loaded at its first request. The SFTP and S3 clients take a tenth of a second or
 * more to load; a command on a local repository, or one that reads only the catalog, must not
 * pay for them.
 */
export class DeferredStorage implements Storage {
  private opening?: Promise<Storage>;
  private backend?: Storage;

  constructor(
    readonly location: string,
    private readonly open: () => Promise<Storage>,
  ) {}

  private opened(): Promise<Storage> {
    this.opening ??= this.open().then((backend) => (this.backend = backend));
    return this.opening;
  }

  async save(file: FileHandle, data: Uint8Array): Promise<void> {
    return (await this.opened()).save(file, data);
  }

  async load(file: FileHandle, range?: ByteRange): Promise<Buffer> {
    return (await this.opened()).load(file, range);
  }

  async stat(file: FileHandle): Promise<FileInfo> {
    return (await this.opened()).stat(file);
  }

  async *list(kind: FileKind): AsyncIterable<FileInfo> {
    yield* (await this.opened()).list(kind);
  }

  async *names(kind: FileKind): AsyncIterable<string> {
    yield* (await this.opened()).names(kind);
  }

  async remove(file: FileHandle): Promise<void> {
    return (await this.opened()).remove(file);
  }

  async *temporaryFiles(): AsyncIterable<TemporaryFile> {
    yield* (await this.opened()).temporaryFiles();
  }

  async removeTemporary(path: string): Promise<void> {
    return (await this.opened()).removeTemporary(path);
  }

  async create(): Promise<void> {
    return (await this.opened()).create();
  }

  async dropLocalCopy(file: FileHandle): Promise<boolean> {
    return (await this.backend?.dropLocalCopy?.(file)) ?? false;
  }

  // Asked about an error a request raised, so the backend is loaded by then; if loading it was
  // what failed, the error says so through StorageError's own code.
  isNotFound(error: unknown): boolean {
    return (
      this.backend?.isNotFound(error) ??
      (error instanceof StorageError && error.code === 'not-found')
    );
  }

  isPermanent(error: unknown): boolean {
    return (
      this.backend?.isPermanent(error) ?? (error instanceof StorageError && error.code !== 'io')
    );
  }

  async close(): Promise<void> {
    if (this.opening) await (await this.opening).close();
  }
}
