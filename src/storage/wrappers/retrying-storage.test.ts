import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { StorageError, type FileHandle } from '../storage.js';
import { FakeStorage, collect, ioError, recordingLogger } from './fake-storage.test-helper.js';
import { RetryingStorage, type RetryOptions } from './retrying-storage.js';

const hash = (seed: string): string => createHash('sha256').update(seed).digest('hex');
const pack: FileHandle = { kind: 'data', name: hash('pack') };

function subject(options: RetryOptions = {}) {
  const backend = new FakeStorage();
  const logger = recordingLogger();
  const delays: number[] = [];
  const storage = new RetryingStorage(backend, {
    logger,
    location: 's3://bucket/repo',
    sleep: async (ms) => {
      delays.push(ms);
    },
    // The middle of the jitter: each wait is exactly its base.
    random: () => 0.5,
    ...options,
  });
  return { backend, logger, delays, storage };
}

describe('RetryingStorage', () => {
  it('tries a request again after errors that are not permanent, waiting twice as long each time', async () => {
    const { backend, logger, delays, storage } = subject();
    backend.files.set(`data/${pack.name}`, Buffer.from('pack'));
    for (let i = 0; i < 3; i++) backend.failNext('load', ioError(`timeout ${i}`));
    expect((await storage.load(pack)).toString()).toBe('pack');
    expect(backend.requests).toHaveLength(4);
    expect(delays).toEqual([500, 1000, 2000]);
    expect(logger.lines.map((line) => [line.level, line.fields])).toEqual(
      [0, 1, 2].map((i) => [
        'warn',
        {
          storage: 's3://bucket/repo',
          operation: `load data/${pack.name}`,
          attempt: i + 1,
          attempts: 5,
          delayMs: delays[i],
          error: `timeout ${i}`,
        },
      ]),
    );
  });

  it('gives up after its attempts with the last error', async () => {
    const { backend, delays, storage } = subject({ attempts: 3 });
    for (let i = 0; i < 3; i++) backend.failNext('stat', ioError(`timeout ${i}`));
    await expect(storage.stat(pack)).rejects.toThrow('timeout 2');
    expect(backend.requests).toHaveLength(3);
    expect(delays).toHaveLength(2);
  });

  it('fails at once on a permanent error', async () => {
    const { backend, logger, storage } = subject();
    await expect(storage.load(pack)).rejects.toThrow('not found');
    backend.failNext('remove', new StorageError('denied', 'denied'));
    await expect(storage.remove(pack)).rejects.toThrow('denied');
    expect(backend.requests).toHaveLength(2);
    expect(logger.lines).toEqual([]);
  });

  it('spreads the waits at random over half to one and a half times their base, and caps them', async () => {
    const draws = [0, 0.999, 0, 0.999, 0];
    const { backend, delays, storage } = subject({
      attempts: 6,
      firstDelayMs: 1000,
      maxDelayMs: 5000,
      random: () => draws.shift() ?? 0,
    });
    for (let i = 0; i < 5; i++) backend.failNext('create', ioError());
    await storage.create();
    expect(delays).toEqual([500, 2998, 2000, 5000, 5000]);
  });

  it('retries a listing that failed before giving anything, not one that gave items', async () => {
    const { backend, storage } = subject();
    for (const name of ['a', 'b', 'c']) backend.files.set(`index/${name}`, Buffer.from(name));
    backend.failNext('names', ioError());
    expect(await collect(storage.names('index'))).toEqual(['a', 'b', 'c']);
    expect(backend.requests).toEqual(['names index', 'names index']);
    backend.failNext('list', ioError('dropped mid-listing'), { afterItems: 2 });
    const given: string[] = [];
    await expect(
      (async () => {
        for await (const info of storage.list('index')) given.push(info.name);
      })(),
    ).rejects.toThrow('dropped mid-listing');
    expect(given).toEqual(['a', 'b']);
    expect(backend.requests.filter((request) => request.startsWith('list'))).toHaveLength(1);
  });

  it('takes "exists" after a lost reply as success when the stored file is the one saved', async () => {
    const { backend, storage } = subject();
    backend.failNext('save', ioError('reply lost'), { afterStoring: true });
    await storage.save(pack, Buffer.from('pack bytes'));
    expect(backend.requests).toEqual([
      `save data/${pack.name}`,
      `save data/${pack.name}`,
      `stat data/${pack.name}`,
    ]);
    expect(backend.files.get(`data/${pack.name}`)?.toString()).toBe('pack bytes');
  });

  it('still refuses a file another writer stored under the name', async () => {
    const { backend, storage } = subject();
    const lock: FileHandle = { kind: 'locks', name: 'host-1234' };
    backend.files.set('locks/host-1234', Buffer.from('theirs'));
    backend.failNext('save', ioError());
    // Same size, other bytes: a lock is not named by its content, so it is compared in full.
    await expect(storage.save(lock, Buffer.from('mine!!'))).rejects.toMatchObject({
      code: 'exists',
    });
    expect(backend.requests.at(-1)).toBe('load locks/host-1234');
    backend.files.set(`data/${pack.name}`, Buffer.from('pack'));
    backend.failNext('save', ioError());
    await expect(storage.save(pack, Buffer.from('longer'))).rejects.toMatchObject({
      code: 'exists',
    });
  });

  it('does not question "exists" on a first attempt: that file was there before', async () => {
    const { backend, storage } = subject();
    backend.files.set(`data/${pack.name}`, Buffer.from('pack'));
    await expect(storage.save(pack, Buffer.from('pack'))).rejects.toMatchObject({
      code: 'exists',
    });
    expect(backend.requests).toEqual([`save data/${pack.name}`]);
  });
});
