import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import { PRIVATE_FILE_MODE } from '../storage/private-files.js';

/** A regular file, 0600: what an unzip that keeps modes gives each entry (yazl's default is 0664). */
const ENTRY_MODE = 0o100000 | PRIVATE_FILE_MODE;

/** Message bytes handed to the zip and not yet taken up by it, at most (then add() waits). */
const BACKLOG_BYTES = 32 * 1024 * 1024;

/**
 * A zip file written as entries come. yazl queues whatever it is given; entries are added
 * lazily so that it asks for an entry's bytes only once the entries before it are written out,
 * and add() waits while too many bytes are queued: memory stays bounded whatever the size of
 * the export. Entries are deflated; each carries its own modification time.
 */
export class ZipSink {
  private readonly zip = new ZipFile();
  private readonly written: Promise<void>;
  private backlog = 0;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  /** Rejects at the first failure: a zip whose entry stream failed stops without finishing. */
  private readonly failed: Promise<never>;
  private rejectFailed: (error: Error) => void = () => undefined;

  constructor(path: string) {
    this.failed = new Promise<never>((_, reject) => (this.rejectFailed = reject));
    this.failed.catch(() => undefined);
    this.zip.on('error', (error: Error) => this.fail(error));
    this.written = pipeline(
      this.zip.outputStream,
      createWriteStream(path, { flags: 'wx', mode: PRIVATE_FILE_MODE }),
    );
    this.written.catch((error: unknown) => this.fail(error as Error));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.rejectFailed(this.failure);
    this.wake?.();
  }

  async add(name: string, bytes: Buffer, mtime: Date): Promise<void> {
    if (this.failure) throw this.failure;
    this.backlog += bytes.length;
    this.zip.addReadStreamLazy(
      name,
      { mtime, size: bytes.length, mode: ENTRY_MODE },
      (callback) => {
        this.backlog -= bytes.length;
        this.wake?.();
        callback(null, Readable.from([bytes], { objectMode: false }));
      },
    );
    while (this.backlog > BACKLOG_BYTES && !this.failure)
      await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = null;
    if (this.failure) throw this.failure;
  }

  /**
   * Adds an entry of a known size whose bytes are read only when the zip comes to it, and as it
   * takes them (a stream pulls the next piece when the last is taken): nothing is queued for it.
   */
  async addStream(
    name: string,
    size: number,
    pieces: () => AsyncIterable<Buffer>,
    mtime: Date,
  ): Promise<void> {
    if (this.failure) throw this.failure;
    this.zip.addReadStreamLazy(name, { mtime, size, mode: ENTRY_MODE }, (callback) => {
      const stream = Readable.from(pieces(), { objectMode: false });
      // A piece that fails to read (damage found the second time) fails the zip.
      stream.on('error', (error: Error) => this.fail(error));
      callback(null, stream);
    });
  }

  /** Writes the central directory and waits until the file is complete. */
  async close(): Promise<void> {
    if (this.failure) throw this.failure;
    this.zip.end();
    await Promise.race([this.written, this.failed]);
    if (this.failure) throw this.failure;
  }

  /** Stops writing after a failure (the caller removes the partial file). */
  async abort(): Promise<void> {
    this.zip.outputStream.unpipe();
    (this.zip.outputStream as Readable).destroy?.();
    await this.written.catch(() => undefined);
  }
}
