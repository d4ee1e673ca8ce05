import type { Logger } from 'pino';
import { readAllEntries, type MessageEntry } from '../mailbox/folder-listing.js';
import { loadMessage } from '../mailbox/message-store.js';
import type { Repository } from '../repository/repository.js';
import type { RestoreFailure } from './restore-report.js';
import type { AppendMessage, RestoreTarget } from './restore-target.js';
import { findMissing } from './target-matching.js';

export interface FolderRestoreContext {
  repository: Repository;
  target: RestoreTarget;
  log: Logger;
  /** Messages per MULTIAPPEND command. */
  batchSize: number;
  onMessages?: (count: number, bytes: number) => void;
}

export interface FolderRestoreOutcome {
  restored: number;
  alreadyPresent: number;
  bytes: number;
  failures: RestoreFailure[];
}

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
  const entries = await readAllEntries(context.repository, listing);
  const present = entries.length > 0 ? await context.target.present(destination) : [];
  const { missing, alreadyPresent } = await findMissing(
    context.repository,
    context.target,
    destination,
    entries,
    present,
  );
  const outcome: FolderRestoreOutcome = { restored: 0, alreadyPresent, bytes: 0, failures: [] };

  let batch: Array<{ entry: MessageEntry; message: AppendMessage }> = [];
  let batchBytes = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const current = batch;
    batch = [];
    batchBytes = 0;
    await appendBatch(context, destination, source, current, outcome);
  };
  for (const entry of missing) {
    let raw: Buffer;
    try {
      raw = await loadMessage(context.repository, entry.manifest);
    } catch (error) {
      outcome.failures.push({
        folder: source,
        uid: entry.uid,
        reason: `cannot read it from the repository: ${(error as Error).message}`,
      });
      continue;
    }
    if (batchBytes + raw.length > MAX_BATCH_BYTES) await flush();
    batch.push({ entry, message: { flags: entry.flags, date: new Date(entry.date), raw } });
    batchBytes += raw.length;
    if (batch.length >= context.batchSize) await flush();
  }
  await flush();
  return outcome;
}

async function appendBatch(
  context: FolderRestoreContext,
  destination: string,
  source: string,
  batch: Array<{ entry: MessageEntry; message: AppendMessage }>,
  outcome: FolderRestoreOutcome,
): Promise<void> {
  try {
    await context.target.append(
      destination,
      batch.map((item) => item.message),
    );
    outcome.restored += batch.length;
    const bytes = batch.reduce((sum, item) => sum + item.message.raw.length, 0);
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
