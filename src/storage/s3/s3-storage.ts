import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  type _Object,
} from '@aws-sdk/client-s3';
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
import { PART_BYTES, uploadInParts } from './multipart.js';
import { isPermanentS3Error, toStorageError } from './s3-errors.js';
import type { S3Location } from './s3-url.js';

/**
 * Kinds whose files are named by the SHA-256 of their bytes: a second save under the same name
 * writes the same bytes, so it is made without first asking whether the name exists (a request
 * per file, a thousand for a thousand snapshots). The config and key files are asked for.
 */
const CONTENT_NAMED: ReadonlySet<FileKind> = new Set(['data', 'index', 'snapshots', 'runs']);

/**
 * A repository in an S3 bucket, under a key prefix, laid out like a local one: `config`,
 * `keys/NAME`, `data/XX/NAME` (XX: the name's first two characters), `index/NAME`,
 * `snapshots/NAME`, `runs/NAME`, `locks/NAME`. Only calls every S3 implementation has: PUT, GET
 * (with a Range), HEAD, DELETE, ListObjectsV2 without a delimiter, and multipart uploads.
 */
export class S3Storage implements Storage {
  readonly location: string;
  private readonly bucket: string;
  /** Every key starts with this: the prefix and a slash, or nothing at the bucket's root. */
  private readonly root: string;

  /** `client` is the caller's to make and this storage's to close. */
  constructor(
    readonly client: S3Client,
    place: S3Location,
  ) {
    this.location = place.printable;
    this.bucket = place.bucket;
    this.root = place.prefix === '' ? '' : `${place.prefix}/`;
  }

  private key(file: FileHandle): string {
    if (file.kind === 'config') return `${this.root}config`;
    if (!/^[0-9a-zA-Z._-]+$/.test(file.name))
      throw new StorageError(`invalid file name ${file.name}`, 'io');
    if (file.kind === 'data') return `${this.root}data/${file.name.slice(0, 2)}/${file.name}`;
    return `${this.root}${file.kind}/${file.name}`;
  }

  /**
   * S3 has no folders to make, and creating the bucket is its owner's business. One listing
   * both finds a config already there and tells a missing bucket by name.
   */
  async create(): Promise<void> {
    const config = this.key({ kind: 'config', name: '' });
    try {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: config, MaxKeys: 1 }),
      );
      // Keys come sorted, so "config" itself would come before any "config..." beside it.
      if (page.Contents?.[0]?.Key === config)
        throw new StorageError(`${this.location} already holds a repository`, 'exists');
    } catch (error) {
      throw toStorageError(error, this.location, this.bucket);
    }
  }

  /**
   * A new object appears only once whole: S3 stores a PUT or a completed multipart upload
   * atomically. The existence check before it leaves a window in which two writers could both
   * find the name free; harmless, since a name is the hash of its content (or, for a lock, its
   * writer's own), so both write the same bytes. The config alone has a fixed name: two `init`s
   * racing on one empty location could both write it, which plain S3 calls cannot prevent.
   */
  async save(file: FileHandle, data: Uint8Array): Promise<void> {
    const Key = this.key(file);
    try {
      if (!CONTENT_NAMED.has(file.kind) && (await this.exists(Key)))
        throw new StorageError(`${describe(file)} already exists`, 'exists');
      if (data.length > PART_BYTES)
        await uploadInParts(this.client, { bucket: this.bucket, key: Key }, data);
      else
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key,
            Body: data,
            ContentLength: data.length,
          }),
        );
    } catch (error) {
      throw this.wrap(error, file);
    }
  }

  private async exists(Key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return true;
    } catch (error) {
      if (this.isNotFound(toStorageError(error, Key, this.bucket))) return false;
      throw error;
    }
  }

  async load(file: FileHandle, range?: ByteRange): Promise<Buffer> {
    // "bytes=5-4" is no valid range, and servers answer it with the whole file.
    if (range?.length === 0) {
      await this.stat(file);
      return Buffer.alloc(0);
    }
    try {
      const response = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.key(file),
          ...(range && { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` }),
        }),
      );
      const bytes = Buffer.from((await response.Body?.transformToByteArray()) ?? []);
      return range ? exactRange(bytes, range, response.ContentRange !== undefined, file) : bytes;
    } catch (error) {
      throw this.wrap(error, file);
    }
  }

  async stat(file: FileHandle): Promise<FileInfo> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(file) }),
      );
      return { name: file.name, size: head.ContentLength ?? 0 };
    } catch (error) {
      throw this.wrap(error, file);
    }
  }

  /** The listing carries each size, so this costs no more than names(). */
  async *list(kind: FileKind): AsyncIterable<FileInfo> {
    const folder = `${this.root}${kind}/`;
    for await (const object of this.objectsUnder(folder)) {
      const name = repositoryFileName(kind, (object.Key ?? '').slice(folder.length));
      if (name !== undefined) yield { name, size: object.Size ?? 0 };
    }
  }

  async *names(kind: FileKind): AsyncIterable<string> {
    for await (const info of this.list(kind)) yield info.name;
  }

  /**
   * Every key under `folder`, a page (up to 1000 keys) per request. No delimiter: data files sit
   * one level deeper, and some servers list delimited prefixes incompletely.
   */
  private async *objectsUnder(folder: string): AsyncIterable<_Object> {
    let ContinuationToken: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: folder, ContinuationToken }),
        );
      } catch (error) {
        throw toStorageError(error, `listing ${folder}`, this.bucket);
      }
      yield* page.Contents ?? [];
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (page.IsTruncated && ContinuationToken === undefined)
        throw new StorageError(
          `listing ${folder}: truncated page without a continuation token`,
          'io',
        );
    } while (ContinuationToken !== undefined);
  }

  /** DeleteObject succeeds for a missing key too; the HEAD before it is what reports not-found. */
  async remove(file: FileHandle): Promise<void> {
    const Key = this.key(file);
    try {
      if (!(await this.exists(Key)))
        throw new StorageError(`${describe(file)} not found`, 'not-found');
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (error) {
      throw this.wrap(error, file);
    }
  }

  /**
   * mailvault writes no temporary objects here (an upload shows only once complete), but a
   * repository copied in from a folder by a file tool brings the `.tmp-` files a crash left
   * there. One listing of every key of the repository.
   */
  async *temporaryFiles(): AsyncIterable<TemporaryFile> {
    for await (const object of this.objectsUnder(this.root)) {
      const path = (object.Key ?? '').slice(this.root.length);
      if (isTemporaryPath(path))
        // (no time given: taken for one being written now, so never deleted by its age)
        yield { path, size: object.Size ?? 0, modified: object.LastModified ?? new Date() };
    }
  }

  /** DeleteObject succeeds for a missing key: one gone meanwhile is no error here. */
  async removeTemporary(path: string): Promise<void> {
    if (!isTemporaryPath(path))
      throw new StorageError(`${path} is not a temporary file of the repository`, 'denied');
    try {
      await this.client.send(
        new DeleteObjectCommand({ Bucket: this.bucket, Key: `${this.root}${path}` }),
      );
    } catch (error) {
      throw toStorageError(error, path, this.bucket);
    }
  }

  private wrap(error: unknown, file: FileHandle): StorageError {
    return toStorageError(error, describe(file), this.bucket);
  }

  isNotFound(error: unknown): boolean {
    return error instanceof StorageError && error.code === 'not-found';
  }

  isPermanent(error: unknown): boolean {
    return isPermanentS3Error(error);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

/**
 * The file name in a key's rest after `kind/`, or undefined for anything that is not one of
 * the repository's files (a folder marker, a stray upload, a data file in the wrong folder).
 */
function repositoryFileName(kind: FileKind, rest: string): string | undefined {
  const valid = kind === 'locks' ? /^[0-9a-zA-Z][0-9a-zA-Z._-]*$/ : /^[0-9a-f]{64}$/;
  let name = rest;
  if (kind === 'data') {
    const slash = rest.indexOf('/');
    name = rest.slice(slash + 1);
    if (slash !== 2 || rest.slice(0, 2) !== name.slice(0, 2)) return undefined;
  }
  return valid.test(name) ? name : undefined;
}

/**
 * The requested bytes from a ranged GET's answer: a server that ignored the Range (no
 * Content-Range) sent the whole file, from which the range is cut; fewer bytes than asked means
 * the file ends before the range does.
 */
function exactRange(bytes: Buffer, range: ByteRange, partial: boolean, file: FileHandle): Buffer {
  const part = partial ? bytes : bytes.subarray(range.offset, range.offset + range.length);
  if (part.length < range.length)
    throw new StorageError(`${describe(file)} is shorter than expected`, 'io');
  return part.subarray(0, range.length);
}
