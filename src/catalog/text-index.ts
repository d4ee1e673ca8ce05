import { sql, type Kysely, type Transaction } from 'kysely';
import type { HeaderSummary } from '../mime/header-summary.js';
import { LARGE_MESSAGE_BYTES } from '../mailbox/large-message.js';
import { extractText } from '../mime/text-extract.js';
import type { CatalogSchema } from './schema.js';
import { WorkerPool, workerCount } from '../workers/worker-pool.js';

type Db = Kysely<CatalogSchema> | Transaction<CatalogSchema>;

export interface MessageText {
  sha256: string;
  from: string;
  to: string;
  subject: string;
  body: string;
}

/** Adds messages to the search index, each distinct message (by SHA-256) once. */
export async function indexTexts(db: Db, texts: readonly MessageText[]): Promise<void> {
  if (texts.length === 0) return;
  const known = new Set(
    (
      await db
        .selectFrom('message_texts')
        .select('sha256')
        .where('sha256', 'in', [...new Set(texts.map((t) => t.sha256))])
        .execute()
    ).map((row) => row.sha256),
  );
  const fresh = new Map<string, MessageText>();
  for (const text of texts) if (!known.has(text.sha256)) fresh.set(text.sha256, text);
  if (fresh.size === 0) return;
  // One statement per batch for each table: per-row statements cost more than the indexing.
  const ids = await db
    .insertInto('message_texts')
    .values([...fresh.keys()].map((sha256) => ({ sha256 })))
    .returning(['id', 'sha256'])
    .execute();
  const rows = ids.map(({ id, sha256 }) => {
    const text = fresh.get(sha256) as MessageText;
    return sql`(${id}, ${text.from}, ${text.to}, ${text.subject}, ${text.body})`;
  });
  await sql`INSERT INTO message_fts (rowid, from_text, to_text, subject, body) VALUES ${sql.join(rows)}`.execute(
    db,
  );
}

const TEXT_WORKER = new URL('./text-worker.js', import.meta.url);
const BATCH = 100;
/** A batch goes to the worker at this many bytes even before BATCH messages. */
const BATCH_BYTES = 8 * 1024 * 1024;
/** Bytes handed to the indexer and not yet in the index, beyond which add() waits. */
const MAX_QUEUED_BYTES = 32 * 1024 * 1024;

/**
 * A message of LARGE_MESSAGE_BYTES or more is searched in its first this many bytes only (its
 * header summary is whole): the indexer never holds a large message, at backup or at rebuild.
 */
export const INDEXED_PREFIX_BYTES = 4 * 1024 * 1024;

/** How many of a message's first bytes the search index reads. */
export function indexedLength(size: number): number {
  return size >= LARGE_MESSAGE_BYTES ? Math.min(size, INDEXED_PREFIX_BYTES) : size;
}

/**
 * Feeds the search index while a backup runs, message by message, in batches: nothing waits in
 * memory for the end of an account, and the catalog never has to read the messages back. The
 * text is extracted in a worker thread where one can run, beside the backup's own work. What
 * waits is bounded (MAX_QUEUED_BYTES): a backup faster than the indexer waits in add().
 */
export class TextIndexer {
  private pending: Array<{ sha256: string; summary: HeaderSummary; raw: ArrayBuffer }> = [];
  private pendingBytes = 0;
  /** Bytes added and not yet written to the index (pending or in a batch under way). */
  private queuedBytes = 0;
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;
  private readonly pool: WorkerPool<ArrayBuffer[], string[]> | null;

  constructor(private readonly db: Kysely<CatalogSchema>) {
    const workers = workerCount(TEXT_WORKER, 1);
    this.pool = workers > 0 ? new WorkerPool(TEXT_WORKER, workers, null) : null;
  }

  /**
   * Queues a message's text for the index: `raw` is the message, or its first
   * INDEXED_PREFIX_BYTES when it is large (longer bytes are cut to that here). Resolves at once
   * unless too much is waiting already, then once the indexer has caught up.
   */
  async add(sha256: string, summary: HeaderSummary, raw: Buffer): Promise<void> {
    const text = raw.length >= LARGE_MESSAGE_BYTES ? raw.subarray(0, INDEXED_PREFIX_BYTES) : raw;
    // A copy of its own, to hand to the worker (raw is often a view into a larger buffer).
    this.pending.push({ sha256, summary, raw: new Uint8Array(text).buffer });
    this.pendingBytes += text.length;
    this.queuedBytes += text.length;
    if (this.pending.length >= BATCH || this.pendingBytes >= BATCH_BYTES)
      void this.flush().catch(() => undefined);
    // The chain never rejects (failures are kept for flush), and once it settles only what is
    // pending (under BATCH_BYTES) is queued, so this ends.
    while (this.queuedBytes > MAX_QUEUED_BYTES) await this.chain;
  }

  /** Bytes waiting for the index, for tests of the bound. */
  get queued(): number {
    return this.queuedBytes;
  }

  /** Writes what is waiting; resolves once everything added so far is in the index. */
  flush(): Promise<void> {
    const batch = this.pending;
    const batchBytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    const raws = batch.map((item) => item.raw);
    const bodies =
      batch.length === 0
        ? Promise.resolve([])
        : this.pool
          ? this.pool.run(raws, raws)
          : Promise.resolve(raws.map((raw) => extractText(new Uint8Array(raw))));
    this.chain = this.chain
      .then(async () => {
        const texts = await bodies;
        if (texts.length === 0) return;
        const rows = batch.map((item, i) => ({
          sha256: item.sha256,
          from: item.summary.from,
          to: item.summary.to,
          subject: item.summary.subject,
          body: texts[i] ?? '',
        }));
        await this.db.transaction().execute((trx) => indexTexts(trx, rows));
      })
      .catch((error: unknown) => {
        this.failure ??= error;
      })
      .finally(() => {
        this.queuedBytes -= batchBytes;
      });
    return this.chain.then(() => {
      if (this.failure !== undefined) throw this.failure;
    });
  }

  async close(): Promise<void> {
    await this.flush().finally(() => this.pool?.close());
  }
}
