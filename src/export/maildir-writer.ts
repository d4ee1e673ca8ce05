import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  EXPORT_MARKER,
  describeExport,
  type ExportDescription,
  type ExportFolder,
  type ExportMessage,
  type ExportWriter,
  type StreamedMessage,
} from './export-writer.js';
import { FileWrites } from './file-writes.js';
import { KeywordTable, maildirInfo, maildirName } from './maildir-flags.js';
import { PRIVATE_FILE_MODE, PRIVATE_FOLDER_MODE } from '../storage/private-files.js';

/**
 * A Maildir++ tree, the layout Dovecot and Courier use by default and Python's mailbox.Maildir
 * reads: the root is INBOX (cur/, new/, tmp/), every other folder a directory `.A.B.C` at the
 * root for A/B/C. Names are UTF-8 (Dovecot's `:UTF-8` layout option; without it Dovecot
 * expects modified UTF-7). A '.' (the Maildir++ separator) or '/' inside one name, and '%'
 * itself, are written %2E, %2F and %25, so every folder keeps a name of its own.
 * Each message is a file in cur/ holding its exact bytes, named by maildirName with its flags,
 * its modification time set to the INTERNALDATE; keywords are listed in `dovecot-keywords`.
 */
export class MaildirWriter implements ExportWriter {
  private dir = '';
  private relative = '';
  private keywords = new KeywordTable();
  private sequence = 0;
  private started = false;
  private readonly files = new FileWrites();
  readonly warnings: string[] = [];

  constructor(
    private readonly root: string,
    private readonly description: ExportDescription,
  ) {}

  async openFolder(folder: ExportFolder): Promise<void> {
    if (!this.started) {
      // The root is a Maildir (INBOX) whether or not INBOX is exported.
      await makeMaildir(this.root);
      this.started = true;
    }
    this.relative = maildirFolderName(folder.path, folder.delimiter);
    this.dir = this.relative === '' ? this.root : join(this.root, this.relative);
    if (this.relative !== '') {
      await makeMaildir(this.dir);
      // Maildir++ marks subfolders with this empty file (Courier and Dovecot both write it).
      await writeFile(join(this.dir, 'maildirfolder'), '', { mode: PRIVATE_FILE_MODE });
    }
    this.keywords = new KeywordTable();
    this.sequence = 0;
  }

  async write(message: ExportMessage, bytes: Buffer): Promise<string> {
    const name = maildirName(message, ++this.sequence, maildirInfo(message.flags, this.keywords));
    await this.files.add(join(this.dir, 'cur', name), bytes, message.internalDate);
    return this.relative === '' ? `cur/${name}` : `${this.relative}/cur/${name}`;
  }

  async writeStream(message: ExportMessage, streamed: StreamedMessage): Promise<string> {
    const name = maildirName(message, ++this.sequence, maildirInfo(message.flags, this.keywords));
    await this.files.addStream(
      join(this.dir, 'cur', name),
      streamed.pieces(),
      message.internalDate,
    );
    return this.relative === '' ? `cur/${name}` : `${this.relative}/cur/${name}`;
  }

  async closeFolder(): Promise<void> {
    await this.files.drain();
    if (this.keywords.size > 0)
      await writeFile(join(this.dir, 'dovecot-keywords'), this.keywords.file(), {
        mode: PRIVATE_FILE_MODE,
      });
    if (this.keywords.dropped.size > 0)
      this.warnings.push(
        `${this.relative || 'INBOX'}: keywords beyond the 26 a Maildir folder can name were left out of file names: ${[...this.keywords.dropped].join(' ')}`,
      );
  }

  async finish(): Promise<void> {
    if (!this.started) await makeMaildir(this.root);
    await writeFile(join(this.root, EXPORT_MARKER), describeExport(this.description), {
      mode: PRIVATE_FILE_MODE,
    });
  }

  async abort(): Promise<void> {
    await this.files.drain().catch(() => undefined);
  }
}

async function makeMaildir(dir: string): Promise<void> {
  for (const sub of ['cur', 'new', 'tmp'])
    await mkdir(join(dir, sub), { recursive: true, mode: PRIVATE_FOLDER_MODE });
}

function escapeName(name: string): string {
  return name.replace(/[%./]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The Maildir++ directory of a folder, relative to the root ('' for INBOX). */
export function maildirFolderName(path: string, delimiter: string | null): string {
  if (path.toUpperCase() === 'INBOX') return '';
  const parts = delimiter ? path.split(delimiter) : [path];
  return `.${parts.map(escapeName).join('.')}`;
}
