import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalStorage } from '../storage/local/local-storage.js';
import { ObjectNotFoundError, Repository } from './repository.js';

// Several writers on one repository: what one stores after another loaded its index is read, and
// not stored again, by the other, which learns of it from the index files the first saved.

let root: string;
let path: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mailvault-index-refresh-'));
  path = join(root, 'repo');
  await Repository.init(new LocalStorage(path), 'pw', { scryptCost: 10 });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function opened(): Promise<Repository> {
  const repository = await Repository.open(new LocalStorage(path), 'pw');
  await repository.loadIndex();
  return repository;
}

/** Stores the objects with a writer of its own and writes their index, as a backup does. */
async function store(repository: Repository, contents: string[]): Promise<Buffer[]> {
  const writer = repository.writer({ workers: 0 });
  try {
    const ids: Buffer[] = [];
    for (const content of contents) ids.push((await writer.save('data', Buffer.from(content))).id);
    await writer.flush();
    return ids;
  } finally {
    await writer.close();
  }
}

describe('an index loaded before another writer stored objects', () => {
  it('reads them: a miss brings the index up to date before it is called missing', async () => {
    const reader = await opened();
    const [id] = await store(await opened(), ['stored by the other writer']);
    expect((await reader.readObject(id as Buffer)).toString()).toBe('stored by the other writer');
  });

  it('still calls an object missing that no index file lists', async () => {
    const reader = await opened();
    const absent = Buffer.alloc(32, 7);
    await expect(reader.readObject(absent)).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it('after refreshIndex, stores none of them again', async () => {
    const late = await opened();
    await store(await opened(), ['shared one', 'shared two']);
    expect(await late.refreshIndex()).toBe(1);
    const writer = late.writer({ workers: 0 });
    try {
      const saved = await writer.save('data', Buffer.from('shared one'));
      expect(saved.added).toBe(false);
      await writer.save('data', Buffer.from('its own'));
      await writer.flush();
      expect(writer.stats).toMatchObject({ objectsAdded: 1, duplicates: 1 });
    } finally {
      await writer.close();
    }
    // Nothing new since: a second refresh adds no file (its own index file included).
    expect(await late.refreshIndex()).toBe(0);
  });
});
