// A message too large to hold in memory, on its way from a server into the repository: kept in a
// temporary file, encrypted with a key that exists only in this process, and unlinked as soon as
// it is open, so that nothing readable is left behind, not even by a crash.
import { createCipheriv, createHash, randomBytes, type Hash } from 'node:crypto';
import { readSync } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PagedSource } from '../mime/byte-source.js';

const BLOCK = 16;

export const SPOOL_PREFIX = 'mailvault-spool-';

/** The AES-CTR counter block for the block at `index`: the initial one plus `index`, mod 2^128. */
function counterAt(initial: Buffer, index: number): Buffer {
  const counter = Buffer.from(initial);
  let carry = index;
  for (let i = BLOCK - 1; i >= 0 && carry > 0; i--) {
    const sum = (counter[i] as number) + (carry % 256);
    counter[i] = sum & 0xff;
    carry = Math.floor(carry / 256) + (sum >> 8);
  }
  return counter;
}

/**
 * Bytes written once, in order, then read back in any order. Reads are synchronous: they serve
 * the splitter, which walks a message as it would walk a buffer (see mime/byte-source.ts). The
 * file's name starts with SPOOL_PREFIX, for tests that look for leftovers.
 */
export class SpoolFile {
  private written = 0;
  private readonly hash: Hash = createHash('sha256');
  private digest: string | null = null;
  private scratch = Buffer.alloc(0);
  private closed = false;

  private constructor(
    private readonly handle: FileHandle,
    private readonly key: Buffer,
    private readonly counter: Buffer,
    /** Set when the file could not be unlinked while open (not on Linux): removed at close. */
    private readonly path: string | null,
  ) {}

  /** A new, empty spool file in `dir` (the system's temporary folder by default). */
  static async create(dir: string = tmpdir()): Promise<SpoolFile> {
    const path = join(dir, `${SPOOL_PREFIX}${process.pid}-${randomBytes(8).toString('hex')}`);
    const handle = await open(path, 'wx+', 0o600);
    let kept: string | null = path;
    try {
      await unlink(path);
      kept = null;
    } catch {
      // Some systems cannot remove an open file: it goes at close instead.
    }
    return new SpoolFile(handle, randomBytes(32), randomBytes(BLOCK), kept);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.written;
  }

  /** SHA-256 of everything written; no append may follow. */
  sha256(): string {
    this.digest ??= this.hash.digest('hex');
    return this.digest;
  }

  async append(bytes: Uint8Array): Promise<void> {
    if (this.digest !== null || this.closed)
      throw new Error('spool file appended to after its end');
    this.hash.update(bytes);
    const sealed = this.crypt(this.written, bytes);
    let done = 0;
    while (done < sealed.length) {
      const { bytesWritten } = await this.handle.write(
        sealed,
        done,
        sealed.length - done,
        this.written + done,
      );
      done += bytesWritten;
    }
    this.written += bytes.length;
  }

  /** A paged reader over what was written, for the splitter (see mime/byte-source.ts). */
  source(pageSize?: number): PagedSource {
    const read = (offset: number, length: number): Buffer => this.readSync(offset, length);
    return new PagedSource(this.written, read, pageSize);
  }

  /** `length` bytes at `offset` (fewer at the end), decrypted, in a buffer of their own. */
  readSync(offset: number, length: number): Buffer {
    if (this.closed) throw new Error('spool file read after close');
    const size = Math.max(0, Math.min(length, this.written - offset));
    // Read into a buffer kept for the purpose: only the decrypted copy is new (garbage that
    // Node frees lazily is what a large message's memory would grow by).
    if (this.scratch.length < size) this.scratch = Buffer.allocUnsafe(Math.max(size, 256 * 1024));
    const sealed = this.scratch.subarray(0, size);
    let done = 0;
    while (done < size) {
      const read = readSync(this.handle.fd, sealed, done, size - done, offset + done);
      if (read === 0) throw new Error('spool file ended before its length');
      done += read;
    }
    return this.crypt(offset, sealed);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
    if (this.path) await unlink(this.path).catch(() => undefined);
  }

  /** AES-256-CTR at a byte offset: encryption and decryption are the same keystream. */
  private crypt(offset: number, bytes: Uint8Array): Buffer {
    const cipher = createCipheriv(
      'aes-256-ctr',
      this.key,
      counterAt(this.counter, Math.floor(offset / BLOCK)),
    );
    const skip = offset % BLOCK;
    if (skip > 0) cipher.update(Buffer.alloc(skip));
    return cipher.update(bytes);
  }
}
