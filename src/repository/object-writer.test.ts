import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalStorage } from '../storage/local/local-storage.js';
import type { FileHandle } from '../storage/storage.js';
import type { IndexContent } from './index/index-file.js';
import { decodePackHeader } from './pack/pack-format.js';
import { Repository } from './repository.js';

const COST = 10;
const PASSPHRASE = 'writer tests';
const MiB = 1024 * 1024;

/** Local storage that records the order of writes and can be told to fail writing packs or indexes. */
class RecordingStorage extends LocalStorage {
  readonly saved: FileHandle[] = [];
  failPacks = false;
  failIndexes = false;

  override async save(file: FileHandle, data: Uint8Array): Promise<void> {
    if (this.failPacks && file.kind === 'data') throw new Error('disk full');
    if (this.failIndexes && file.kind === 'index') throw new Error('quota exceeded');
    await super.save(file, data);
    this.saved.push(file);
  }
}

let root: string;
let path: string;
let storage: RecordingStorage;
let repository: Repository;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mailvault-writer-'));
  path = join(root, 'repo');
  storage = new RecordingStorage(path);
  repository = await Repository.init(storage, PASSPHRASE, { scryptCost: COST });
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function openFresh(): Promise<Repository> {
  const fresh = await Repository.open(new LocalStorage(path), PASSPHRASE);
  await fresh.loadIndex();
  return fresh;
}

/** Every index file's content, as a reader would see it. */
async function indexes(): Promise<IndexContent[]> {
  const out: IndexContent[] = [];
  for await (const file of storage.list('index'))
    out.push(await repository.readIndexFile(file.name));
  return out;
}

async function packNames(): Promise<string[]> {
  const names: string[] = [];
  for await (const file of storage.list('data')) names.push(file.name);
  return names;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('ObjectWriter', () => {
  it('stores identical objects once within a flush', async () => {
    const writer = repository.writer();
    const body = Buffer.from('the same attachment, forwarded again and again');
    const tally = { bytes: 0 };
    const first = await writer.save('data', body, tally);
    const second = await writer.save('data', Buffer.from(body), tally);
    expect(first.added).toBe(true);
    expect(second).toEqual({ id: first.id, added: false });
    expect(writer.stats).toMatchObject({ objectsAdded: 1, duplicates: 1 });
    await writer.flush();
    // Counted once sealed: more than the plaintext (nonce and tag; too short to compress).
    expect(tally.bytes).toBeGreaterThan(body.length);
    const entries = (await indexes()).flatMap((index) => index.packs.flatMap((p) => p.entries));
    expect(entries.map((entry) => entry.id.toString('hex'))).toEqual([first.id.toString('hex')]);
  });

  it('stores identical objects once across flushes, writers and sessions', async () => {
    const writer = repository.writer();
    const body = Buffer.from('stored on Monday');
    const { id } = await writer.save('data', body);
    await writer.flush();
    const packsBefore = await packNames();
    const indexesBefore = (await indexes()).length;

    expect((await writer.save('data', body)).added).toBe(false);
    await writer.flush();
    expect((await repository.writer().save('data', body)).added).toBe(false);
    const fresh = await openFresh();
    const tuesday = fresh.writer();
    expect(await tuesday.save('data', body)).toEqual({ id, added: false });
    await tuesday.flush();

    // Nothing new written: a flush with nothing to store writes no empty pack or index.
    expect(await packNames()).toEqual(packsBefore);
    expect((await indexes()).length).toBe(indexesBefore);
  });

  it('keeps data and tree objects in separate packs', async () => {
    const writer = repository.writer();
    for (let i = 0; i < 5; i++) {
      await writer.save('data', Buffer.from(`message part ${i}`));
      await writer.save('tree', Buffer.from(JSON.stringify({ v: 1, i })));
    }
    await writer.flush();
    const packs = (await indexes()).flatMap((index) => index.packs);
    expect(packs).toHaveLength(2);
    const types = packs.map((pack) => [...new Set(pack.entries.map((entry) => entry.type))]);
    expect(types.sort()).toEqual([['data'], ['tree']]);
    // The packs' own headers say the same as the index.
    for (const pack of packs) {
      const bytes = await storage.load({ kind: 'data', name: pack.id });
      expect(sha256(bytes)).toBe(pack.id);
      expect(decodePackHeader(repository.key.encryption, bytes, bytes.length, pack.id)).toEqual(
        pack.entries,
      );
    }
  });

  it('makes nothing visible to a fresh open until flush has written the index', async () => {
    const writer = repository.writer();
    const small = await writer.save('data', Buffer.from('pending'));
    let fresh = await openFresh();
    expect(fresh.index.has(small.id)).toBe(false);
    expect(await packNames()).toEqual([]);

    // Enough to fill a pack: it is written at once, but not yet indexed.
    const large: Buffer[] = [];
    for (let i = 0; i < 9; i++) {
      const bytes = randomBytes(MiB);
      large.push((await writer.save('data', bytes)).id);
    }
    // The full pack is written in the background; wait until it is there.
    await vi.waitFor(async () => expect((await packNames()).length).toBe(1), { timeout: 10_000 });
    fresh = await openFresh();
    expect(large.some((id) => fresh.index.has(id))).toBe(false);
    expect(fresh.index.has(small.id)).toBe(false);
    // Nor to this very repository's index: the written pack is the writer's own until indexed.
    expect(large.some((id) => repository.index.has(id))).toBe(false);

    await writer.flush();
    fresh = await openFresh();
    expect(fresh.index.has(small.id)).toBe(true);
    expect(large.every((id) => fresh.index.has(id))).toBe(true);
    expect((await fresh.readObject(small.id)).toString()).toBe('pending');
  });

  it('writes packs before the index that lists them', async () => {
    const writer = repository.writer();
    for (let i = 0; i < 10; i++) await writer.save('data', randomBytes(MiB));
    await writer.save('tree', Buffer.from('{}'));
    await writer.flush();
    const kinds = storage.saved.map((file) => file.kind).filter((kind) => kind !== 'keys');
    const lastPack = kinds.lastIndexOf('data');
    const firstIndex = kinds.indexOf('index');
    expect(firstIndex).toBeGreaterThan(lastPack);
    expect(kinds.filter((kind) => kind === 'data').length).toBeGreaterThanOrEqual(3);
  });

  it('splits packs at the target size of 8 MiB', async () => {
    const writer = repository.writer();
    const saved: Array<{ id: Buffer; hash: string }> = [];
    for (let i = 0; i < 20; i++) {
      const bytes = randomBytes(MiB);
      saved.push({ id: (await writer.save('data', bytes)).id, hash: sha256(bytes) });
    }
    await writer.flush();
    const sizes: number[] = [];
    for await (const file of storage.list('data')) sizes.push(file.size);
    sizes.sort((a, b) => b - a);
    // 20 objects of 1 MiB: two full packs of 8, and the rest in the last.
    expect(sizes).toHaveLength(3);
    for (const size of sizes.slice(0, 2)) {
      expect(size).toBeGreaterThanOrEqual(8 * MiB);
      expect(size).toBeLessThan(9 * MiB);
    }
    expect(sizes[2]).toBeLessThan(8 * MiB);
    expect(writer.stats.packsWritten).toBe(3);
    const fresh = await openFresh();
    for (const { id, hash } of saved) expect(sha256(await fresh.readObject(id))).toBe(hash);
  });

  it('counts what it added', async () => {
    const writer = repository.writer();
    const a = Buffer.from('x'.repeat(10_000));
    const b = randomBytes(500);
    await writer.save('data', a);
    await writer.save('data', b);
    await writer.save('data', a);
    await writer.flush();
    const entries = (await indexes()).flatMap((index) => index.packs.flatMap((p) => p.entries));
    expect(writer.stats).toEqual({
      objectsAdded: 2,
      bytesAdded: entries.reduce((sum, entry) => sum + entry.length, 0),
      rawBytesAdded: 10_500,
      duplicates: 1,
      packsWritten: 1,
    });
    // The repetitive object was compressed: far smaller stored than given.
    const stored = entries.find((entry) => entry.rawLength === 10_000);
    expect(stored?.length).toBeLessThan(1000);
  });

  it('fails flush, and writes no index, when a pack cannot be written', async () => {
    const writer = repository.writer();
    const { id } = await writer.save('data', Buffer.from('never stored'));
    storage.failPacks = true;
    await expect(writer.flush()).rejects.toThrow(/disk full/);
    expect(await readdir(join(path, 'index'))).toEqual([]);
    const fresh = await openFresh();
    expect(fresh.index.has(id)).toBe(false);
    // Nor does the repository the writer belongs to count it as stored: another writer stores it.
    expect(repository.index.has(id)).toBe(false);
    storage.failPacks = false;
    const second = repository.writer();
    expect((await second.save('data', Buffer.from('never stored'))).added).toBe(true);
    await second.flush();
    expect((await (await openFresh()).readObject(id)).toString()).toBe('never stored');
  });

  it('adds objects to the repository index only once the index file listing them is saved', async () => {
    const writer = repository.writer();
    const { id } = await writer.save('data', Buffer.from('in a pack, in no index'));
    storage.failIndexes = true;
    await expect(writer.flush()).rejects.toThrow(/quota exceeded/);
    // The pack was written, but no index file lists it: a fresh reader would not find the object.
    expect(await packNames()).toHaveLength(1);
    expect(await readdir(join(path, 'index'))).toEqual([]);
    expect(repository.index.has(id)).toBe(false);

    // So a second writer must not take it for stored (a snapshot would then point at nothing).
    storage.failIndexes = false;
    const second = repository.writer();
    const again = await second.save('data', Buffer.from('in a pack, in no index'));
    expect(again).toMatchObject({ id, added: true });
    await second.flush();
    expect(repository.index.has(id)).toBe(true);
    const fresh = await openFresh();
    expect((await fresh.readObject(id)).toString()).toBe('in a pack, in no index');
  });

  it('adds what a successful flush indexed to the repository index, for every writer', async () => {
    const writer = repository.writer();
    const { id } = await writer.save('tree', Buffer.from('{"v":1}'));
    expect(repository.index.has(id)).toBe(false);
    await writer.flush();
    const location = repository.index.get(id);
    expect(location?.type).toBe('tree');
    const [index] = await indexes();
    expect(location?.pack).toBe(index?.packs[0]?.id);
    expect(await repository.writer().save('tree', Buffer.from('{"v":1}'))).toEqual({
      id,
      added: false,
    });
  });

  it('refuses further work after a failed pack write', async () => {
    const writer = repository.writer();
    storage.failPacks = true;
    // Fill packs: the first is written, and fails, in the background; the writer must not
    // go on accepting objects it will never store.
    const saving = (async () => {
      for (let i = 0; i < 30; i++) await writer.save('data', randomBytes(MiB));
    })();
    await expect(saving).rejects.toThrow(/disk full/);
    await expect(writer.save('data', Buffer.from('more'))).rejects.toThrow(/disk full/);
    await expect(writer.flush()).rejects.toThrow(/disk full/);
    expect(await readdir(join(path, 'index'))).toEqual([]);
  });
});
