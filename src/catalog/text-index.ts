import { sql, type Kysely, type Transaction } from 'kysely';
import type { HeaderSummary } from '../mime/header-summary.js';
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

/**
 * Feeds the search index while a backup runs, message by message, in batches: nothing waits in
 * memory for the end of an account, and the catalog never has to read the messages back. The
 * text is extracted in a worker thread where one can run, beside the backup's own work.
 */
export class TextIndexer {
  private pending: Array<{ sha256: string; summary: HeaderSummary; raw: ArrayBuffer }> = [];
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;
  private readonly pool: WorkerPool<ArrayBuffer[], string[]> | null;

  constructor(private readonly db: Kysely<CatalogSchema>) {
    const workers = workerCount(TEXT_WORKER, 1);
    this.pool = workers > 0 ? new WorkerPool(TEXT_WORKER, workers, null) : null;
  }

  add(sha256: string, summary: HeaderSummary, raw: Buffer): void {
    // A copy of its own, to hand to the worker (raw is often a view into a larger buffer).
    this.pending.push({ sha256, summary, raw: new Uint8Array(raw).buffer });
    if (this.pending.length >= BATCH) void this.flush().catch(() => undefined);
  }

  /** Writes what is waiting; resolves once everything added so far is in the index. */
  flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
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
      });
    return this.chain.then(() => {
      if (this.failure !== undefined) throw this.failure;
    });
  }

  async close(): Promise<void> {
    await this.flush().finally(() => this.pool?.close());
  }
}
