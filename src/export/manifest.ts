import { open, type FileHandle } from 'node:fs/promises';
import type { SourceMessage } from './export-source.js';
import { writeAll } from './write-all.js';
import { PRIVATE_FILE_MODE } from '../storage/private-files.js';

/**
 * The --all-versions manifest: one record per exported item (its id, folder, when it was first
 * and last seen, its flags over time, size, SHA-256 of its bytes, and where the export put it),
 * as one JSON document and as CSV. Both are written record by record: an account's history can
 * hold millions of items.
 */
export interface ManifestRecord {
  item: string;
  folder: string;
  uid: number;
  firstSeen: string;
  /** The latest snapshot that had it; null while it is still there. */
  lastSeen: string | null;
  /** The first snapshot that no longer had it; null while it is still there. */
  goneSince: string | null;
  flags: string[];
  flagsHistory: Array<{ from: string; until: string | null; flags: string[]; uid: number }>;
  internalDate: string;
  size: number;
  /** Of the message's bytes as backed up (checked again when the export read them). */
  sha256: string;
  subject: string;
  from: string;
  messageId: string;
  /** Where the export put it, relative to the export (`INBOX.mbox#12` is the 12th message). */
  file: string | null;
  /** Why it is missing from the export, if it is. */
  error: string | null;
}

const CSV_COLUMNS = [
  'item',
  'folder',
  'uid',
  'first_seen',
  'last_seen',
  'gone_since',
  'flags',
  'flags_history',
  'internal_date',
  'size',
  'sha256',
  'subject',
  'from',
  'message_id',
  'file',
  'error',
];

const iso = (time: number | null): string | null =>
  time === null ? null : new Date(time).toISOString();

export function manifestRecord(
  message: SourceMessage,
  file: string | null,
  error: string | null,
): ManifestRecord {
  const history = message.history;
  return {
    item: history?.key ?? '',
    folder: message.folder,
    uid: message.uid,
    firstSeen: iso(history?.firstSeen ?? null) ?? '',
    lastSeen: iso(history?.lastSeen ?? null),
    goneSince: iso(history?.goneSince ?? null),
    flags: message.flags,
    flagsHistory: (history?.states ?? []).map((state) => ({
      from: new Date(state.from).toISOString(),
      until: iso(state.until),
      flags: state.flags,
      uid: state.uid,
    })),
    internalDate: message.internalDate.toISOString(),
    size: message.size,
    sha256: message.sha256,
    subject: history?.subject ?? '',
    from: history?.from ?? '',
    messageId: history?.messageId ?? '',
    file,
    error,
  };
}

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
export function csvField(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(record: ManifestRecord): string {
  const history = record.flagsHistory
    .map((h) => `${h.from}..${h.until ?? ''} ${h.flags.join(' ')}`.trimEnd())
    .join(' | ');
  return `${[
    record.item,
    record.folder,
    record.uid,
    record.firstSeen,
    record.lastSeen,
    record.goneSince,
    record.flags.join(' '),
    history,
    record.internalDate,
    record.size,
    record.sha256,
    record.subject,
    record.from,
    record.messageId,
    record.file,
    record.error,
  ]
    .map(csvField)
    .join(',')}\r\n`;
}

const FLUSH_BYTES = 256 * 1024;

export class ManifestWriter {
  private count = 0;
  private json: string[] = [];
  private csv: string[] = [];
  private pending = 0;

  private constructor(
    private readonly jsonFile: FileHandle,
    private readonly csvFile: FileHandle,
  ) {}

  /** Opens both files; `about` describes the export at the top of the JSON document. */
  static async create(
    jsonPath: string,
    csvPath: string,
    about: Record<string, unknown>,
  ): Promise<ManifestWriter> {
    const jsonFile = await open(jsonPath, 'wx', PRIVATE_FILE_MODE);
    const csvFile = await open(csvPath, 'wx', PRIVATE_FILE_MODE).catch(async (error: unknown) => {
      await jsonFile.close();
      throw error;
    });
    const writer = new ManifestWriter(jsonFile, csvFile);
    const head = JSON.stringify(about, null, 2).replace(/\n}$/, '');
    writer.json.push(`${head}${head === '{' ? '' : ','}\n  "items": [`);
    writer.csv.push(`${CSV_COLUMNS.join(',')}\r\n`);
    return writer;
  }

  async add(record: ManifestRecord): Promise<void> {
    const line = `${this.count++ === 0 ? '' : ','}\n    ${JSON.stringify(record)}`;
    const row = csvLine(record);
    this.json.push(line);
    this.csv.push(row);
    this.pending += line.length + row.length;
    if (this.pending >= FLUSH_BYTES) await this.flush();
  }

  private async flush(): Promise<void> {
    const json = this.json;
    const csv = this.csv;
    this.json = [];
    this.csv = [];
    this.pending = 0;
    await writeAll(this.jsonFile, [Buffer.from(json.join(''))]);
    await writeAll(this.csvFile, [Buffer.from(csv.join(''))]);
  }

  async close(): Promise<void> {
    this.json.push(`${this.count > 0 ? '\n  ' : ''}]\n}\n`);
    await this.flush();
    await this.jsonFile.close();
    await this.csvFile.close();
  }

  async abort(): Promise<void> {
    await this.jsonFile.close().catch(() => undefined);
    await this.csvFile.close().catch(() => undefined);
  }
}
