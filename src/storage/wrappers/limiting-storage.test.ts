import { describe, expect, it } from 'vitest';
import type { FileHandle } from '../storage.js';
import { FakeStorage, collect, deferred } from './fake-storage.test-helper.js';
import { LimitingStorage } from './limiting-storage.js';

const data = (name: string): FileHandle => ({ kind: 'data', name });

/** Lets every request that can start do so. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('LimitingStorage', () => {
  it('keeps at most the limit of saves in flight and starts the others in order', async () => {
    const backend = new FakeStorage();
    const release = deferred();
    backend.gate = () => release.promise;
    const storage = new LimitingStorage(backend, { reads: 4, writes: 2 });
    const saves = ['a', 'b', 'c', 'd'].map((name) => storage.save(data(name), Buffer.from(name)));
    await settle();
    expect(backend.requests).toEqual(['save data/a', 'save data/b']);
    release.resolve();
    await Promise.all(saves);
    expect(backend.requests).toEqual(['save data/a', 'save data/b', 'save data/c', 'save data/d']);
  });

  it('lets reads through while the writes are all taken', async () => {
    const backend = new FakeStorage();
    backend.files.set('data/a', Buffer.from('a'));
    const release = deferred();
    backend.gate = (operation) => (operation === 'save' ? release.promise : Promise.resolve());
    const storage = new LimitingStorage(backend, { reads: 1, writes: 1 });
    const save = storage.save(data('b'), Buffer.from('b'));
    expect((await storage.load(data('a'))).toString()).toBe('a');
    expect((await storage.stat(data('a'))).size).toBe(1);
    release.resolve();
    await save;
  });

  it('holds a slot per step of a listing, so loads inside the loop go on with one slot', async () => {
    const backend = new FakeStorage();
    for (const name of ['a', 'b', 'c']) backend.files.set(`index/${name}`, Buffer.from(name));
    const storage = new LimitingStorage(backend, { reads: 1, writes: 1 });
    const loaded: string[] = [];
    for await (const name of storage.names('index'))
      loaded.push((await storage.load({ kind: 'index', name })).toString());
    expect(loaded).toEqual(['a', 'b', 'c']);
    expect(await collect(storage.list('index'))).toHaveLength(3);
  });

  it('frees the slot of a request that failed', async () => {
    const backend = new FakeStorage();
    const storage = new LimitingStorage(backend, { reads: 1, writes: 1 });
    await expect(storage.load(data('missing'))).rejects.toThrow('not found');
    backend.files.set('data/a', Buffer.from('a'));
    expect((await storage.load(data('a'))).toString()).toBe('a');
  });
});
