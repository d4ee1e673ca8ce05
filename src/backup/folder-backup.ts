import type { Logger } from 'pino';
import type { FolderRecord } from '../mailbox/account-tree.js';
import { readAllEntries, writeListing, type MessageEntry } from '../mailbox/folder-listing.js';
import { storeMessage } from '../mailbox/message-store.js';
import type { HeaderSummary } from '../mime/header-summary.js';
import type { ObjectWriter } from '../repository/object-writer.js';
import type { Repository } from '../repository/repository.js';
import type { FolderStatus, MailboxReader } from './mailbox-reader.js';

/** What one folder's backup produced, for the account's snapshot and the run's report. */
export interface FolderResult {
  record: FolderRecord;
  entries: MessageEntry[];
  newMessages: number;
  bytesRead: number;
  bytesAdded: number;
  /** UIDs the server listed but would not deliver. */
  undelivered: number[];
}

export interface FolderBackupContext {
  repository: Repository;
  writer: ObjectWriter;
  log: Logger;
  /** Summaries of messages stored in this run, handed to the catalog. */
  summaries: Map<string, HeaderSummary>;
  onMessage?: (bytes: number) => void;
}

/** True when the listed status proves the folder unchanged since its previous record. */
export function isUnchanged(
  previous: FolderRecord | undefined,
  status: FolderStatus,
): previous is FolderRecord {
  return (
    previous !== undefined &&
    previous.listing !== null &&
    previous.uidValidity !== null &&
    previous.uidValidity === status.uidValidity &&
    previous.highestModseq !== null &&
    previous.highestModseq === status.highestModseq &&
    previous.uidNext === status.uidNext &&
    previous.count === status.messages
  );
}

/**
 * Brings one folder's listing up to date: asks the server what changed since the previous record,
 * fetches only new messages, and carries over the entries of messages it already had.
 */
export async function backupFolder(
  context: FolderBackupContext,
  reader: MailboxReader,
  status: FolderStatus,
  previous: FolderRecord | undefined,
  progress: FolderProgress,
): Promise<FolderResult> {
  const since = previous?.uidValidity
    ? { uidValidity: previous.uidValidity, highestModseq: previous.highestModseq }
    : null;
  const changes = await reader.changes(status.path, since);
  const sameUids = previous?.uidValidity === changes.uidValidity;
  const known = new Map<number, MessageEntry>();
  if (sameUids && previous?.listing)
    for (const entry of await readAllEntries(context.repository, previous.listing))
      known.set(entry.uid, entry);
  if (progress.uidValidity !== changes.uidValidity) progress.fetched.clear();
  progress.uidValidity = changes.uidValidity;
  for (const [uid, entry] of progress.fetched) known.set(uid, entry);

  const next = new Map<number, MessageEntry>();
  if (changes.mode === 'incremental') {
    for (const [uid, entry] of known) next.set(uid, entry);
    for (const uid of changes.vanished) next.delete(uid);
    if (changes.present)
      for (const uid of [...next.keys()]) if (!changes.present.has(uid)) next.delete(uid);
  }
  const wanted: number[] = [];
  for (const [uid, flags] of changes.flags) {
    const entry = known.get(uid);
    if (entry) next.set(uid, { ...entry, flags });
    else wanted.push(uid);
  }
  // A restore gives a message a new UID but not new bytes: those cost a download, never an upload.
  let newMessages = 0;
  let bytesRead = 0;
  let bytesAdded = 0;
  for await (const message of reader.messages(status.path, wanted)) {
    const stored = await storeMessage(context.writer, context.repository.chunker, message.raw);
    const entry: MessageEntry = {
      uid: message.uid,
      flags: changes.flags.get(message.uid) ?? message.flags,
      date: message.date,
      size: message.raw.length,
      sha256: stored.sha256,
      manifest: stored.manifest,
    };
    context.summaries.set(stored.manifest, stored.summary);
    next.set(message.uid, entry);
    progress.fetched.set(message.uid, entry);
    newMessages++;
    bytesRead += message.raw.length;
    bytesAdded += stored.bytesAdded;
    context.onMessage?.(message.raw.length);
  }
  // A message missing from the answer was either expunged meanwhile or is one the server cannot read.
  const missing = wanted.filter((uid) => !next.has(uid));
  const undelivered =
    missing.length > 0
      ? [...(await reader.present(status.path, missing))].sort((a, b) => a - b)
      : [];
  const entries = [...next.values()].sort((a, b) => a.uid - b.uid);
  const listing = await writeListing(context.writer, entries);
  const record: FolderRecord = {
    path: status.path,
    delimiter: status.delimiter,
    specialUse: status.specialUse,
    attributes: status.attributes,
    subscribed: status.subscribed,
    uidValidity: changes.uidValidity,
    uidNext: changes.uidNext,
    highestModseq: changes.highestModseq,
    count: entries.length,
    bytes: entries.reduce((sum, entry) => sum + entry.size, 0),
    listing,
  };
  return { record, entries, newMessages, bytesRead, bytesAdded, undelivered };
}

/**
 * Messages already fetched by an attempt that a dropped connection interrupted, so that the retry
 * does not fetch them again (valid while UIDVALIDITY stays the same).
 */
export interface FolderProgress {
  uidValidity: string | null;
  fetched: Map<number, MessageEntry>;
}
