import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { textAround as text } from '../../test/support/large-messages.js';
import type { HeaderSummary } from '../mime/header-summary.js';
import { openCatalogDatabase } from './open-catalog.js';
import type { CatalogSchema } from './schema.js';
import { INDEXED_PREFIX_BYTES, TextIndexer } from './text-index.js';

const MiB = 1024 * 1024;
const summary: HeaderSummary = {
  from: 'a@example.com',
  to: 'b@example.com',
  cc: '',
  subject: 'words',
  date: null,
  messageId: '',
};

describe('TextIndexer', () => {
  let dir: string;
  let db: Kysely<CatalogSchema>;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailvault-text-index-'));
    db = await openCatalogDatabase(join(dir, 'catalog.sqlite'));
  });
  afterEach(async () => {
    await db.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  const found = async (word: string): Promise<number> =>
    (
      await sql<{
        n: number;
      }>`SELECT count(*) AS n FROM message_fts WHERE message_fts MATCH ${word}`.execute(db)
    ).rows[0]?.n ?? 0;

  it('makes the producer wait while more than 32 MiB are queued', async () => {
    const indexer = new TextIndexer(db);
    let most = 0;
    for (let i = 0; i < 16; i++) {
      await indexer.add(`${i}`.padStart(64, '0'), summary, text(3 * MiB, `w${i}x`, 'rest'));
      most = Math.max(most, indexer.queued);
    }
    await indexer.close();
    // Without the bound all 48 MiB would be waiting by the last add.
    expect(most).toBeLessThanOrEqual(32 * MiB);
    expect(await found('w15x')).toBe(1);
  }, 60_000);

  it('reads only the first 4 MiB of a message of 8 MiB or more', async () => {
    const indexer = new TextIndexer(db);
    const large = text(9 * MiB, 'early', 'late');
    expect(large.indexOf('late closes it')).toBeGreaterThan(INDEXED_PREFIX_BYTES);
    await indexer.add('a'.repeat(64), summary, large);
    await indexer.add('b'.repeat(64), summary, text(7 * MiB, 'smallearly', 'smalllate'));
    await indexer.close();
    expect(await found('early')).toBe(1);
    expect(await found('late')).toBe(0);
    // A message under 8 MiB is read whole.
    expect(await found('smalllate')).toBe(1);
  }, 60_000);
});
