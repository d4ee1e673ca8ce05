import type { Logger } from 'pino';
import { readAllEntries, type MessageEntry } from '../mailbox/folder-listing.js';
import type { MessageAssembler } from '../mailbox/assembly/message-assembler.js';
import { messageRecipe } from '../mailbox/message-store.js';
import { isLargeMessage, verifyMessage } from '../mailbox/message-stream.js';
import type { Repository } from '../repository/repository.js';
import type { RestoreFailure } from './restore-report.js';
import type { AppendMessage, RestoreTarget } from './restore-target.js';
import { findMissing } from './target-matching.js';

export interface FolderRestoreContext {
  repository: Repository;
  /** Puts messages together off the main thread where it can. */
  assembler: MessageAssembler;
  target: RestoreTarget;
  log: Logger;
  /** Messages per MULTIAPPEND command. */
  batchSize: number;
  onMessages?: (count: number, bytes: number) => void;
  /** Messages at least this large are streamed (default LARGE_MESSAGE_BYTES; tests set less). */
  largeMessageBytes?: number;
}

export interface FolderRestoreOutcome {
  restored: number;
  alreadyPresent: number;
  bytes: number;
  failures: RestoreFailure[];
}

type Batch = Array<{ entry: MessageEntry; size: number; message: AppendMessage }>;

/** One APPEND command carries at most this many bytes, whatever the batch size. */
const MAX_BATCH_BYTES = 32 * 1024 * 1024;

/**
 * Puts back the messages of one backed-up folder listing that the target folder lacks (see
 * target-matching), so running a restore again, or after an interruption, adds nothing twice.
 */
export async function restoreFolderMessages(
  context: FolderRestoreContext,
  listing: string,
  source: string,
  destination: string,
): Promise<FolderRestoreOutcome> {
  return restoreMessages(
    context,
    await readAllEntries(context.repository, listing),
    source,
    destination,
  );
}

/** The same for any set of backed-up messages (chosen items, deleted ones) bound for one folder. */
export async function restoreMessages(
  context: FolderRestoreContext,
  entries: readonly MessageEntry[],
  source: string,
  destination: string,
): Promise<FolderRestoreOutcome> {
  const present = entries.length > 0 ? await context.target.present(destination) : [];
  const { missing, alreadyPresent } = await findMissing(
    context.repository,
    context.target,
    destination,
    entries,
    present,
    context.largeMessageBytes,
  );
  const outcome: FolderRestoreOutcome = { restored: 0, alreadyPresent, bytes: 0, failures: [] };

  let batch: Batch = [];
  let batchBytes = 0;
  // Batches are pipelined where the server allows it: while it stores one, the next is on its way.
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | null = null;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const current = batch;
    batch = [];
    batchBytes = 0;
    while (inFlight.size >= context.target.appendsInFlight) await Promise.race(inFlight);
    if (failure) throw failure.error;
    const append = appendBatch(context, destination, source, current, outcome).catch(
      (error: unknown) => {
        failure ??= { error };
      },
    );
    inFlight.add(append);
    void append.then(() => inFlight.delete(append));
  };
  const large = (entry: MessageEntry): boolean =>
    isLargeMessage(entry.size, context.largeMessageBytes);
  // A large message is not put together: its objects are checked in a first pass that keeps
  // nothing, and read again as it is written to the server (see message-stream.ts).
  const load = (entry: MessageEntry): Promise<AppendMessage['raw'] | Error> =>
    (large(entry)
      ? verifyMessage(context.repository, entry.manifest)
      : messageRecipe(context.repository, entry.manifest).then((recipe) =>
          context.assembler.assemble(recipe),
        )
    ).catch((error: unknown) => error as Error);
  for await (const [entry, raw] of readAhead(missing, load, context.batchSize)) {
    if (raw instanceof Error) {
      outcome.failures.push({
        folder: source,
        uid: entry.uid,
        reason: `cannot read it from the repository: ${raw.message}`,
      });
      continue;
    }
    // A streamed message goes in an APPEND of its own, so a batch never holds two of them.
    if (batchBytes + entry.size > MAX_BATCH_BYTES || large(entry)) await flush();
    batch.push({
      entry,
      size: entry.size,
      message: { flags: entry.flags, date: new Date(entry.date), raw },
    });
    batchBytes += entry.size;
    if (batch.length >= context.batchSize || large(entry)) await flush();
  }
  await flush();
  await Promise.all(inFlight);
  if (failure) throw (failure as { error: unknown }).error;
  return outcome;
}

async function appendBatch(
  context: FolderRestoreContext,
  destination: string,
  source: string,
  batch: Batch,
  outcome: FolderRestoreOutcome,
): Promise<void> {
  try {
    await context.target.append(
      destination,
      batch.map((item) => item.message),
    );
    outcome.restored += batch.length;
    const bytes = batch.reduce((sum, item) => sum + item.size, 0);
    outcome.bytes += bytes;
    context.onMessages?.(batch.length, bytes);
  } catch (error) {
    const refused = (error as { kind?: string }).kind === 'refused';
    if (!refused) throw error;
    // MULTIAPPEND is all or nothing: find the message the server refuses by sending them one by one.
    if (batch.length > 1) {
      for (const item of batch) await appendBatch(context, destination, source, [item], outcome);
      return;
    }
    const [item] = batch;
    outcome.failures.push({
      folder: source,
      uid: item?.entry.uid,
      reason: (error as Error).message,
    });
    context.log.warn({ folder: source, uid: item?.entry.uid }, (error as Error).message);
  }
}

/** Messages being read from the repository ahead of the one being appended, at most this many bytes. */
const READ_AHEAD_BYTES = 64 * 1024 * 1024;

/**
 * Yields each entry with its loaded value, in order, while later ones are already being read: the
 * repository is read while the server is busy storing the previous batch.
 */
async function* readAhead<T>(
  entries: readonly MessageEntry[],
  load: (entry: MessageEntry) => Promise<T>,
  batchSize: number,
): AsyncGenerator<[MessageEntry, T]> {
  const window: Array<{ entry: MessageEntry; value: Promise<T> }> = [];
  let next = 0;
  let inFlightBytes = 0;
  const fill = (): void => {
    while (
      next < entries.length &&
      (window.length === 0 || (window.length < 2 * batchSize && inFlightBytes < READ_AHEAD_BYTES))
    ) {
      const entry = entries[next++] as MessageEntry;
      inFlightBytes += entry.size;
      window.push({ entry, value: load(entry) });
    }
  };
  fill();
  while (window.length > 0) {
    const head = window.shift() as { entry: MessageEntry; value: Promise<T> };
    const value = await head.value;
    inFlightBytes -= head.entry.size;
    fill();
    yield [head.entry, value];
  }
}
