import type {
  ByteRange,
  FileHandle,
  FileInfo,
  FileKind,
  Storage,
  TemporaryFile,
} from '../storage.js';

/**
 * Passes every call on to the storage it wraps. Each wrapper extends it and overrides only what
 * it changes, so a wrapper's file shows its one concern and nothing else.
 */
export abstract class ForwardingStorage implements Storage {
  constructor(protected readonly inner: Storage) {}

  get location(): string {
    return this.inner.location;
  }

  save(file: FileHandle, data: Uint8Array): Promise<void> {
    return this.inner.save(file, data);
  }

  load(file: FileHandle, range?: ByteRange): Promise<Buffer> {
    return this.inner.load(file, range);
  }

  stat(file: FileHandle): Promise<FileInfo> {
    return this.inner.stat(file);
  }

  list(kind: FileKind): AsyncIterable<FileInfo> {
    return this.inner.list(kind);
  }

  names(kind: FileKind): AsyncIterable<string> {
    return this.inner.names(kind);
  }

  remove(file: FileHandle): Promise<void> {
    return this.inner.remove(file);
  }

  temporaryFiles(): AsyncIterable<TemporaryFile> {
    return this.inner.temporaryFiles();
  }

  removeTemporary(path: string): Promise<void> {
    return this.inner.removeTemporary(path);
  }

  create(): Promise<void> {
    return this.inner.create();
  }

  isNotFound(error: unknown): boolean {
    return this.inner.isNotFound(error);
  }

  isPermanent(error: unknown): boolean {
    return this.inner.isPermanent(error);
  }

  dropLocalCopy(file: FileHandle): Promise<boolean> {
    return this.inner.dropLocalCopy?.(file) ?? Promise.resolve(false);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
