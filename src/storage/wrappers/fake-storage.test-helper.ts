// An in-memory backend for the wrappers' tests, that fails when told to and can hold requests
// in flight, so a test sees exactly what reaches the backend and when.
import {
  StorageError,
  describe,
  isTemporaryPath,
  type ByteRange,
  type FileHandle,
  type FileInfo,
  type FileKind,
  type Storage,
  type TemporaryFile,
} from '../storage.js';
import type { StorageLogger } from './storage-logger.js';

export type Operation =
  | 'save'
  | 'load'
  | 'stat'
  | 'list'
  | 'names'
  | 'remove'
  | 'create'
  | 'temporaryFiles'
  | 'removeTemporary';

interface PlannedFailure {
  operation: Operation;
  error: unknown;
  /** For listings: fail after giving out this many names. */
  afterItems: number;
  /** For saves: store the file, then fail (as when the reply is lost). */
  afterStoring: boolean;
}

export const ioError = (message = 'connection reset'): StorageError =>
  new StorageError(message, 'io');

export class FakeStorage implements Storage {
  readonly location = 'fake://storage';
  readonly files = new Map<string, Buffer>();
  /** Files left under a temporary name, by path (a test puts them here). */
  readonly temporary = new Map<string, TemporaryFile>();
  /** Every request that reached the backend, as "operation file-or-kind". */
  readonly requests: string[] = [];
  /** Each request waits for this first: a test holds requests in flight with it. */
  gate: (operation: Operation) => Promise<void> = () => Promise.resolve();
  private readonly planned: PlannedFailure[] = [];

  /** The next request of this kind fails with `error` (queued, one plan per request). */
  failNext(
    operation: Operation,
    error: unknown,
    options: { afterItems?: number; afterStoring?: boolean } = {},
  ): void {
    this.planned.push({
      operation,
      error,
      afterItems: options.afterItems ?? 0,
      afterStoring: options.afterStoring ?? false,
    });
  }

  async save(file: FileHandle, data: Uint8Array): Promise<void> {
    const failure = await this.begin('save', describe(file));
    if (failure && !failure.afterStoring) throw failure.error;
    if (this.files.has(describe(file)))
      throw new StorageError(`${describe(file)} already exists`, 'exists');
    this.files.set(describe(file), Buffer.from(data));
    if (failure) throw failure.error;
  }

  async load(file: FileHandle, range?: ByteRange): Promise<Buffer> {
    await this.beginOrFail('load', describe(file));
    const bytes = this.existing(file);
    return range ? bytes.subarray(range.offset, range.offset + range.length) : bytes;
  }

  async stat(file: FileHandle): Promise<FileInfo> {
    await this.beginOrFail('stat', describe(file));
    return { name: file.name, size: this.existing(file).length };
  }

  async remove(file: FileHandle): Promise<void> {
    await this.beginOrFail('remove', describe(file));
    this.existing(file);
    this.files.delete(describe(file));
  }

  async create(): Promise<void> {
    await this.beginOrFail('create', '');
  }

  async *temporaryFiles(): AsyncIterable<TemporaryFile> {
    await this.beginOrFail('temporaryFiles', '');
    yield* [...this.temporary.values()];
  }

  async removeTemporary(path: string): Promise<void> {
    await this.beginOrFail('removeTemporary', path);
    if (!isTemporaryPath(path))
      throw new StorageError(`${path} is not a temporary file of the repository`, 'denied');
    this.temporary.delete(path);
  }

  async *names(kind: FileKind): AsyncIterable<string> {
    yield* this.listing('names', kind, (name) => name);
  }

  async *list(kind: FileKind): AsyncIterable<FileInfo> {
    yield* this.listing('list', kind, (name) => ({
      name,
      size: this.existing({ kind, name }).length,
    }));
  }

  isNotFound(error: unknown): boolean {
    return error instanceof StorageError && error.code === 'not-found';
  }

  isPermanent(error: unknown): boolean {
    return error instanceof StorageError && error.code !== 'io';
  }

  async close(): Promise<void> {}

  private async *listing<T>(
    operation: 'names' | 'list',
    kind: FileKind,
    item: (name: string) => T,
  ): AsyncIterable<T> {
    const failure = await this.begin(operation, kind);
    const names = [...this.files.keys()]
      .filter((key) => key.startsWith(`${kind}/`))
      .map((key) => key.slice(kind.length + 1))
      .sort();
    for (const [index, name] of names.entries()) {
      if (failure && index === failure.afterItems) throw failure.error;
      yield item(name);
    }
    if (failure) throw failure.error;
  }

  private async begin(operation: Operation, what: string): Promise<PlannedFailure | undefined> {
    this.requests.push(`${operation} ${what}`);
    await this.gate(operation);
    const index = this.planned.findIndex((plan) => plan.operation === operation);
    return index < 0 ? undefined : this.planned.splice(index, 1)[0];
  }

  private async beginOrFail(operation: Operation, what: string): Promise<void> {
    const failure = await this.begin(operation, what);
    if (failure) throw failure.error;
  }

  private existing(file: FileHandle): Buffer {
    const bytes = this.files.get(describe(file));
    if (!bytes) throw new StorageError(`${describe(file)} not found`, 'not-found');
    return bytes;
  }
}

/** A promise and the means to settle it from outside, to hold a request for as long as a test likes. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

export interface LogLine {
  level: 'debug' | 'warn';
  fields: Record<string, unknown>;
  message: string;
}

/** A logger that keeps its lines. */
export function recordingLogger(): StorageLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    debug: (fields, message) => lines.push({ level: 'debug', fields, message }),
    warn: (fields, message) => lines.push({ level: 'warn', fields, message }),
  };
}
