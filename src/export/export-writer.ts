/** What the export formats have in common: folders in turn, messages in turn, written as they come. */

export interface ExportFolder {
  /** Full IMAP name, with its hierarchy separator. */
  path: string;
  delimiter: string | null;
}

export interface ExportMessage {
  folder: string;
  uid: number;
  /** Flags and keywords. */
  flags: string[];
  internalDate: Date;
  size: number;
  sha256: string;
  /** Id of the message manifest in the repository. */
  manifest: string;
}

/**
 * A large message, checked already (see mailbox/message-stream.ts): its bytes come as pieces,
 * read again from the repository as they are written.
 */
export interface StreamedMessage {
  size: number;
  /** The first piece (the message's header object), for what a format takes from the header. */
  header: Buffer;
  /** Every piece of the message in order, the first included. */
  pieces(): AsyncIterable<Buffer>;
}

export interface ExportWriter {
  /** What the format could not keep, said once the export is done. */
  readonly warnings: string[];
  /**
   * Set when the format must declare a folder's keywords before its first message (mbox, for
   * Dovecot): openFolder is then given every keyword the folder's messages have.
   */
  readonly keywordsFirst?: boolean;
  /** Starts a folder: the messages written until closeFolder belong to it. */
  openFolder(folder: ExportFolder, keywords?: readonly string[]): Promise<void>;
  /** Writes one message; returns where it went, relative to the export, for the manifest. */
  write(message: ExportMessage, bytes: Buffer): Promise<string>;
  /** The same for a large message, written as its pieces come, byte for byte what write gives. */
  writeStream(message: ExportMessage, streamed: StreamedMessage): Promise<string>;
  closeFolder(): Promise<void>;
  /** Completes what is written (a zip's central directory, the export's description). */
  finish(): Promise<void>;
  /** Releases open files after a failure; the caller removes the partial output. */
  abort(): Promise<void>;
}

/** Describes an export inside its directory; also how --force recognises an earlier export. */
export const EXPORT_MARKER = '.mailvault-export';

/** What the marker file says. */
export interface ExportDescription {
  format: string;
  layout: string;
  account: string;
  source: string;
  /** The snapshot exported, or null for --all-versions. */
  snapshot: string | null;
  snapshotTime: string | null;
  allVersions: boolean;
  exported: string;
}

export function describeExport(description: ExportDescription): Buffer {
  return Buffer.from(`${JSON.stringify({ mailvault: 'export', ...description }, null, 2)}\n`);
}
