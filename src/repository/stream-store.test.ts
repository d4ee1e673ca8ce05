import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalStorage } from '../storage/local/local-storage.js';
import { Repository } from './repository.js';
import { readStream, readStreamBytes, storeStream, StreamIntegrityError } from './stream-store.js';

let root: string;
let repository: Repository;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mailvault-stream-'));
  repository = await Repository.init(new LocalStorage(join(root, 'repo')), 'streams', {
    scryptCost: 10,
  });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Feeds `bytes` in pieces of `piece` bytes, as a pipe would. */
async function* pieces(bytes: Buffer, piece: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += piece) yield bytes.subarray(at, at + piece);
}

async function store(bytes: Buffer, piece = 65536) {
  const writer = repository.writer({ workers: 0 });
  const stored = await storeStream(repository, writer, pieces(bytes, piece));
  await writer.flush();
  await writer.close();
  return { stored, added: writer.stats.rawBytesAdded };
}

describe('streams stored as chunks', () => {
  it('gives back the exact bytes, with size and SHA-256, whatever the piece sizes', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const { stored } = await store(bytes, 7777);
    expect(stored.size).toBe(bytes.length);
    expect(stored.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(stored.chunks.length).toBeGreaterThan(1);
    expect((await readStreamBytes(repository, stored)).equals(bytes)).toBe(true);
  });

  it('stores only about what changed when a large stream changes a little', async () => {
    const before = randomBytes(4 * 1024 * 1024);
    const after = Buffer.concat([
      before.subarray(0, 2_000_000),
      Buffer.from('a few changed rows'),
      before.subarray(2_000_100),
    ]);
    const first = await store(before);
    const second = await store(after);
    expect(first.added).toBeGreaterThanOrEqual(before.length);
    // One or two chunks around the change (at most 1 MiB each), not the whole 4 MiB again.
    expect(second.added).toBeLessThan(2 * 1024 * 1024 + 1);
    expect((await readStreamBytes(repository, second.stored)).equals(after)).toBe(true);
  });

  it('stores an empty stream as no chunks and reads it back empty', async () => {
    const { stored } = await store(Buffer.alloc(0));
    expect(stored.chunks).toEqual([]);
    expect((await readStreamBytes(repository, stored)).length).toBe(0);
  });

  it('refuses a stream whose chunks do not add up to what was recorded', async () => {
    const { stored } = await store(randomBytes(100_000));
    const wrong = { ...stored, sha256: '0'.repeat(64) };
    const read = async () => {
      for await (const part of readStream(repository, wrong)) void part;
    };
    await expect(read()).rejects.toBeInstanceOf(StreamIntegrityError);
  });
});
