import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalStorage } from '../../storage/local/local-storage.js';
import { Repository } from '../repository.js';
import { rewriteIndex } from './rewrite-index.js';

const pack = (n: number): string => n.toString(16).padStart(64, '0');

describe('rewriteIndex', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailvault-rewrite-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes every kept object at its current place, a bounded number a file, relocated ones with their new pack', async () => {
    const repository = await Repository.init(new LocalStorage(dir), 'pass', { scryptCost: 10 });
    // Two packs of small objects, more than one file's worth in all.
    const ids: Buffer[] = [];
    for (let i = 0; i < 70_000; i++) {
      const id = randomBytes(32);
      ids.push(id);
      repository.index.add(id, {
        pack: pack(i < 40_000 ? 1 : 2),
        type: 'data',
        offset: i * 100,
        length: 90,
        rawLength: 64,
      });
    }
    // Every tenth object was copied to a third pack (a repack): its entries are scattered.
    for (let i = 0; i < ids.length; i += 10)
      repository.index.relocate(ids[i] as Buffer, {
        pack: pack(3),
        type: 'data',
        offset: i,
        length: 90,
        rawLength: 64,
      });
    const dropped = new Set([5, 15, 39_999].map((i) => (ids[i] as Buffer).toString('hex')));
    const outcome = await rewriteIndex(repository, (id) => dropped.has(id.toString('hex')));
    expect(outcome.objectsDropped).toBe(3);
    expect(outcome.filesWritten).toBe(2);
    await repository.storage.close();

    const storage = new LocalStorage(dir);
    const reopened = await Repository.open(storage, 'pass');
    const loaded = await reopened.loadIndex();
    expect(loaded.files).toBe(2);
    expect(reopened.index.size).toBe(70_000 - 3);
    for (const [i, id] of ids.entries()) {
      const location = reopened.index.get(id);
      if (dropped.has(id.toString('hex'))) {
        expect(location).toBeUndefined();
        continue;
      }
      const expected = i % 10 === 0 ? pack(3) : pack(i < 40_000 ? 1 : 2);
      expect(location?.pack).toBe(expected);
      expect(location?.offset).toBe(i % 10 === 0 ? i : i * 100);
    }
    // Each pack is listed in one run of entries, not once per scattered entry.
    let groups = 0;
    for (const name of reopened.indexFiles.live)
      groups += (await reopened.readIndexFile(name)).packs.length;
    expect(groups).toBeLessThanOrEqual(4);
    await storage.close();
  });
});
