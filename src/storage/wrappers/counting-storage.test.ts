import { describe, expect, it } from 'vitest';
import { CountingStorage, noStorageRequests } from './counting-storage.js';
import { FakeStorage, collect, ioError } from './fake-storage.test-helper.js';

describe('CountingStorage', () => {
  it('counts each request by kind, the failed ones, and the bytes moved', async () => {
    const backend = new FakeStorage();
    const storage = new CountingStorage(backend);
    await storage.save({ kind: 'data', name: 'a' }, Buffer.alloc(100));
    await storage.save({ kind: 'data', name: 'b' }, Buffer.alloc(20));
    await storage.load({ kind: 'data', name: 'a' });
    await storage.load({ kind: 'data', name: 'a' }, { offset: 10, length: 5 });
    await storage.stat({ kind: 'data', name: 'b' });
    await storage.remove({ kind: 'data', name: 'b' });
    await expect(storage.load({ kind: 'data', name: 'b' })).rejects.toThrow('not found');
    backend.failNext('save', ioError());
    await expect(storage.save({ kind: 'data', name: 'c' }, Buffer.alloc(7))).rejects.toThrow();
    expect(storage.requestCounts()).toEqual({
      save: 3,
      load: 3,
      stat: 1,
      list: 0,
      remove: 1,
      failed: 2,
      bytesUp: 120,
      bytesDown: 105,
    });
  });

  it('counts a listing once however many items it gives, and only once it is read', async () => {
    const backend = new FakeStorage();
    for (const name of ['a', 'b', 'c']) backend.files.set(`index/${name}`, Buffer.from(name));
    const storage = new CountingStorage(backend);
    storage.names('index'); // opened, never read
    expect(storage.requestCounts().list).toBe(0);
    expect(await collect(storage.names('index'))).toEqual(['a', 'b', 'c']);
    expect(await collect(storage.list('index'))).toHaveLength(3);
    backend.failNext('names', ioError(), { afterItems: 1 });
    await expect(collect(storage.names('index'))).rejects.toThrow('connection reset');
    expect(storage.requestCounts()).toMatchObject({ list: 3, failed: 1 });
  });

  it('gives a copy, so a snapshot taken earlier does not change', async () => {
    const storage = new CountingStorage(new FakeStorage());
    const before = storage.requestCounts();
    await storage.save({ kind: 'data', name: 'a' }, Buffer.alloc(1));
    expect(before).toEqual(noStorageRequests());
    expect(storage.requestCounts().save).toBe(1);
  });
});
