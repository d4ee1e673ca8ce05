import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UniqueNames, emlName, subjectOf } from './eml-names.js';
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
import { FolderPaths } from './folder-paths.js';
import { ZipSink } from './zip-sink.js';
import { PRIVATE_FILE_MODE, PRIVATE_FOLDER_MODE } from '../storage/private-files.js';

/**
 * One `.eml` file per message, holding its exact bytes, in a directory per folder (subfolders
 * inside their parent's: `Archive/2023/12-Minutes.eml`), named `UID-SUBJECT.eml` (see
 * eml-names.ts); or the same tree as entries of a zip file. Each file's or entry's
 * modification time is the INTERNALDATE.
 */
export class EmlWriter implements ExportWriter {
  private readonly paths = new FolderPaths();
  private readonly zip: ZipSink | null;
  private components: string[] = [];
  private names = new UniqueNames();
  private readonly files = new FileWrites();
  readonly warnings: string[] = [];

  /** `root`: the directory of the export, or the zip file with `zip`. */
  constructor(
    private readonly root: string,
    private readonly description: ExportDescription,
    zip = false,
  ) {
    this.zip = zip ? new ZipSink(root) : null;
  }

  async openFolder(folder: ExportFolder): Promise<void> {
    this.components = this.paths.of(folder.path, folder.delimiter);
    this.names = new UniqueNames();
    if (!this.zip)
      await mkdir(join(this.root, ...this.components), {
        recursive: true,
        mode: PRIVATE_FOLDER_MODE,
      });
  }

  async write(message: ExportMessage, bytes: Buffer): Promise<string> {
    const name = this.names.claim(emlName(message.uid, subjectOf(bytes)));
    const relative = [...this.components, name].join('/');
    if (this.zip) {
      await this.zip.add(relative, bytes, message.internalDate);
    } else {
      await this.files.add(join(this.root, ...this.components, name), bytes, message.internalDate);
    }
    return relative;
  }

  async writeStream(message: ExportMessage, streamed: StreamedMessage): Promise<string> {
    // The subject is in the header, which the first piece holds whole (or holds the first
    // 256 KiB of, which is as far as any subject goes).
    const name = this.names.claim(emlName(message.uid, subjectOf(streamed.header)));
    const relative = [...this.components, name].join('/');
    if (this.zip)
      await this.zip.addStream(
        relative,
        streamed.size,
        () => streamed.pieces(),
        message.internalDate,
      );
    else
      await this.files.addStream(
        join(this.root, ...this.components, name),
        streamed.pieces(),
        message.internalDate,
      );
    return relative;
  }

  async closeFolder(): Promise<void> {
    await this.files.drain();
  }

  async finish(): Promise<void> {
    if (this.zip) await this.zip.close();
    else
      await writeFile(join(this.root, EXPORT_MARKER), describeExport(this.description), {
        mode: PRIVATE_FILE_MODE,
      });
  }

  async abort(): Promise<void> {
    await this.files.drain().catch(() => undefined);
    await this.zip?.abort();
  }
}
