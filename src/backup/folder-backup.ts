import type { Logger } from 'pino';
import type { FolderRecord } from '../mailbox/account-tree.js';
import { readAllEntries, writeListing, type MessageEntry } from '../mailbox/folder-listing.js';
import { INDEXED_PREFIX_BYTES } from '../catalog/text-index.js';
import { storeMessage, type StoredMessage } from '../mailbox/message-store.js';
import { storeMessageFrom } from '../mailbox/spooled-message-store.js';
import type { HeaderSummary } from '../mime/header-summary.js';
import type { ByteTally, ObjectWriter } from '../repository/object-writer.js';
import type { Repository } from '../repository/repository.js';
import {
  fetchedSize,
  type FetchedMessage,
  type FolderChanges,
  type FolderStatus,
  type MailboxReader,
} from './mailbox-reader.js';
import type { SummaryHints } from './summary-hints.js';

/** What one folder's backup produced, for the account's snapshot and the run's report. */
export interface FolderResult {
  record: FolderRecord;
  entries: MessageEntry[];
  newMessages: number;
  bytesRead: number;
  /** UIDs the server listed but would not deliver. */
  undelivered: number[];
  /** Messages stored as the server sent them, which may not be as it holds them (NUL bytes). */
  altered: Array<{ uid: number; reason: string }>;
}

export interface FolderBackupContext {
  repository: Repository;
  writer: ObjectWriter;
  log: Logger;
  /** Summaries of messages stored in this run, handed to the catalog. */
  summaries: SummaryHints;
  /** Bytes the account's new objects add, counted as they are sealed. */
  tally: ByteTally;
  onMessage?: (bytes: number) => void;
  /**
   * Each newly stored message, for the catalog's search index (which keeps no state here): its
   * bytes, only the first INDEXED_PREFIX_BYTES of a large one. The next message is not read
   * before the promise, if any, settles (the indexer's back-pressure).
   */
  onStored?: (sha256: string, summary: HeaderSummary, text: Buffer) => void | Promise<void>;
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
  progress.order = [];
  progress.fetchedThisAttempt = 0;
  let changes = await reader.changes(status.path, since);
  const sameUids = previous?.uidValidity === changes.uidValidity;
  const known = new Map<number, MessageEntry>();
  if (sameUids && previous?.listing)
    for (const entry of await readAllEntries(context.repository, previous.listing))
      known.set(entry.uid, entry);
  if (progress.uidValidity !== changes.uidValidity) {
    progress.fetched.clear();
    progress.skipped.clear();
    progress.suspects.clear();
  }
  progress.uidValidity = changes.uidValidity;
  for (const [uid, entry] of progress.fetched) known.set(uid, entry);

  let plan = planFolder(changes, known);
  if (changes.mode === 'incremental' && plan.next.size + plan.wanted.length !== changes.exists) {
    // The change log does not account for every message (one the server could not deliver last
    // time is in no change since): compare the whole folder instead.
    changes = await reader.changes(status.path, null);
    plan = planFolder(changes, known);
  }
  const { next } = plan;
  const wanted = plan.wanted.filter((uid) => !progress.skipped.has(uid)).sort((a, b) => a - b);
  progress.order = wanted;
  progress.fetchedThisAttempt = 0;
  // A restore gives a message a new UID but not new bytes: those cost a download, never an upload.
  let newMessages = 0;
  let bytesRead = 0;
  const altered: FolderResult['altered'] = [];
  for await (const message of reader.messages(status.path, wanted)) {
    if (message.altered) altered.push({ uid: message.uid, reason: message.altered });
    const size = fetchedSize(message);
    const stored = await store(context, message);
    const entry: MessageEntry = {
      uid: message.uid,
      flags: changes.flags.get(message.uid) ?? message.flags,
      date: message.date,
      size,
      sha256: stored.sha256,
      manifest: stored.manifest,
    };
    context.summaries.add(stored.manifest, stored.summary);
    if (context.onStored) await context.onStored(stored.sha256, stored.summary, indexed(message));
    next.set(message.uid, entry);
    progress.fetched.set(message.uid, entry);
    progress.fetchedThisAttempt++;
    newMessages++;
    bytesRead += size;
    context.onMessage?.(size);
  }
  // A message missing from the answer was either expunged meanwhile or is one the server cannot read.
  const missing = plan.wanted.filter((uid) => !next.has(uid));
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
  return { record, entries, newMessages, bytesRead, undelivered, altered };
}

/** Stores a message from memory, or from its spool file: the same objects either way. */
function store(context: FolderBackupContext, message: FetchedMessage): Promise<StoredMessage> {
  const { writer, repository, tally } = context;
  if (!message.spool) return storeMessage(writer, repository.chunker, message.raw, tally);
  const { spool } = message;
  return storeMessageFrom(writer, repository.chunker, spool.source(), spool.sha256(), tally);
}

/** What the search index reads of a message: all of it, or the start of a large one. */
function indexed(message: FetchedMessage): Buffer {
  // The indexer cuts a large message held in memory itself; a spooled one is only read that far.
  return message.spool ? message.spool.readSync(0, INDEXED_PREFIX_BYTES) : message.raw;
}

/** What a folder's listing will hold, and which messages must be fetched for it. */
function planFolder(
  changes: FolderChanges,
  known: ReadonlyMap<number, MessageEntry>,
): { next: Map<number, MessageEntry>; wanted: number[] } {
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
  return { next, wanted };
}

/**
 * What survives a dropped connection in one folder's backup: the messages already fetched (so a
 * retry does not fetch them again, while UIDVALIDITY stays the same), and what is known about
 * messages the server drops the connection on. Some servers (Dovecot by default) disconnect when a
 * message cannot be read; a message that ends two attempts in a row without anything fetched
 * before it is skipped, and reported as undelivered, so that one bad message cannot take the
 * whole account down with it.
 */
export interface FolderProgress {
  uidValidity: string | null;
  fetched: Map<number, MessageEntry>;
  /** UIDs the current attempt asks for, in order. */
  order: number[];
  fetchedThisAttempt: number;
  suspects: Map<number, number>;
  skipped: Set<number>;
}

export function newFolderProgress(): FolderProgress {
  return {
    uidValidity: null,
    fetched: new Map(),
    order: [],
    fetchedThisAttempt: 0,
    suspects: new Map(),
    skipped: new Set(),
  };
}

/** Called after a dropped attempt: whether it made progress; if not, blames the message it stopped at. */
export function afterDrop(progress: FolderProgress): boolean {
  if (progress.fetchedThisAttempt > 0) return true;
  const suspect = progress.order.find(
    (uid) => !progress.fetched.has(uid) && !progress.skipped.has(uid),
  );
  if (suspect === undefined) return false;
  const strikes = (progress.suspects.get(suspect) ?? 0) + 1;
  progress.suspects.set(suspect, strikes);
  // Skipping is not progress: a server that drops every attempt still runs out of retries.
  if (strikes >= 2) progress.skipped.add(suspect);
  return false;
}
