import { mkdir, open, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  EXPORT_MARKER,
  describeExport,
  type ExportDescription,
  type ExportFolder,
  type ExportMessage,
  type ExportWriter,
  type StreamedMessage,
} from './export-writer.js';
import { FolderPaths, safeComponent } from './folder-paths.js';
import type { MboxBase } from './mbox-status.js';
import { mboxEntryPieces } from './mbox-stream.js';
import { mboxEntry } from './mboxrd.js';
import { writeAll } from './write-all.js';
import { PRIVATE_FILE_MODE, PRIVATE_FOLDER_MODE } from '../storage/private-files.js';

/** Bytes gathered before one write to the file: fewer system calls for small messages. */
const WRITE_BATCH = 1024 * 1024;

/**
 * mboxrd files (see mboxrd.ts): in a directory, one `NAME.mbox` per folder, subfolders in a
 * directory `NAME/` beside it (`Archive.mbox`, `Archive/2023.mbox`); or a single file for one
 * folder. Message bytes are kept as the server gave them, CRLF included: readers (Python's
 * mailbox, formail, mutt, Thunderbird) split on LF and leave a CR before it in the message, so
 * what they give back is the original message. Only the "From " lines, the blank lines between
 * messages, the quoting and the flags as header fields (mbox-status.ts) are added.
 */
export class MboxWriter implements ExportWriter {
  private readonly paths = new FolderPaths(mboxComponent);
  private file: FileHandle | null = null;
  private location = '';
  private count = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private folders = 0;
  /** What the folder's first message declares for Dovecot, until it is written. */
  private base: MboxBase | undefined;
  readonly warnings: string[] = [];
  readonly keywordsFirst = true;

  /**
   * `root`: the directory of the export, or the file itself when `single` names the file as the
   * user will see it.
   */
  constructor(
    private readonly root: string,
    private readonly description: ExportDescription,
    private readonly single?: string,
  ) {}

  async openFolder(folder: ExportFolder, keywords: readonly string[] = []): Promise<void> {
    if (this.single !== undefined && this.folders > 0)
      throw new Error('a single mbox file holds one folder');
    this.folders++;
    let path = this.root;
    this.location = this.single ?? '';
    if (this.single === undefined) {
      const components = this.paths.of(folder.path, folder.delimiter);
      this.location = `${components.join('/')}.mbox`;
      path = join(
        this.root,
        ...components.slice(0, -1),
        `${components[components.length - 1]}.mbox`,
      );
      await mkdir(dirname(path), { recursive: true, mode: PRIVATE_FOLDER_MODE });
    }
    this.file = await open(path, 'wx', PRIVATE_FILE_MODE);
    this.count = 0;
    // A new UIDVALIDITY, as Dovecot picks one for a new mailbox: the moment it is made.
    this.base = { uidValidity: Math.floor(Date.now() / 1000), keywords };
  }

  async write(message: ExportMessage, bytes: Buffer): Promise<string> {
    const base = this.base;
    this.base = undefined;
    for (const part of mboxEntry(bytes, message.internalDate, message.flags, base)) {
      this.pending.push(part);
      this.pendingBytes += part.length;
    }
    if (this.pendingBytes >= WRITE_BATCH) await this.flush();
    return `${this.location}#${++this.count}`;
  }

  async writeStream(message: ExportMessage, streamed: StreamedMessage): Promise<string> {
    const base = this.base;
    const pieces = mboxEntryPieces(streamed, message.internalDate, message.flags, base);
    if (!pieces) {
      // A header the first piece does not hold whole: the message is put together after all.
      const whole: Buffer[] = [];
      for await (const piece of streamed.pieces()) whole.push(piece);
      return this.write(message, Buffer.concat(whole));
    }
    this.base = undefined;
    await this.flush();
    const file = this.file;
    if (!file) throw new Error('no mbox folder is open');
    let batch: Buffer[] = [];
    let batchBytes = 0;
    for await (const piece of pieces) {
      batch.push(piece);
      batchBytes += piece.length;
      if (batchBytes < WRITE_BATCH) continue;
      await writeAll(file, batch);
      batch = [];
      batchBytes = 0;
    }
    await writeAll(file, batch);
    return `${this.location}#${++this.count}`;
  }

  private async flush(): Promise<void> {
    const file = this.file;
    if (!file || this.pending.length === 0) return;
    const parts = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    await writeAll(file, parts);
  }

  async closeFolder(): Promise<void> {
    await this.flush();
    await this.file?.close();
    this.file = null;
  }

  async finish(): Promise<void> {
    if (this.single === undefined)
      await writeFile(join(this.root, EXPORT_MARKER), describeExport(this.description), {
        mode: PRIVATE_FILE_MODE,
      });
  }

  async abort(): Promise<void> {
    this.pending = [];
    await this.file?.close().catch(() => undefined);
    this.file = null;
  }
}

/** Folder names as directory names; none may end in `.mbox`, which is for the files beside them. */
function mboxComponent(name: string): string {
  const safe = safeComponent(name, 190);
  return /\.mbox$/i.test(safe) ? `${safe}_` : safe;
}
