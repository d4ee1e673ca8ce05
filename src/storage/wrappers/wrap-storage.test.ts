import { describe, expect, it } from 'vitest';
import type { FileHandle } from '../storage.js';
import { FakeStorage, deferred, ioError, recordingLogger } from './fake-storage.test-helper.js';
import { wrapStorage } from './wrap-storage.js';

const file = (name: string): FileHandle => ({ kind: 'data', name });

describe('wrapStorage', () => {
  it('counts and logs every attempt that reached the backend, retries included', async () => {
    const backend = new FakeStorage();
    backend.files.set('data/a', Buffer.from('abc'));
    const logger = recordingLogger();
    const storage = wrapStorage(backend, {
      concurrency: { reads: 2, writes: 2 },
      retries: { sleep: () => Promise.resolve() },
      logger,
    });
    backend.failNext('load', ioError());
    backend.failNext('load', ioError());
    expect((await storage.load(file('a'))).toString()).toBe('abc');
    expect(storage.requestCounts()).toMatchObject({ load: 3, failed: 2, bytesDown: 3 });
    expect(
      logger.lines.map((line) => [line.level, line.fields.outcome ?? line.fields.attempt]),
    ).toEqual([
      ['debug', 'failed'],
      ['warn', 1],
      ['debug', 'failed'],
      ['warn', 2],
      ['debug', 'ok'],
    ]);
    expect(storage.location).toBe(backend.location);
  });

  it('holds no slot while a request waits out its backoff', async () => {
    const backend = new FakeStorage();
    backend.files.set('data/b', Buffer.from('b'));
    const backoff = deferred();
    let waiting = false;
    const storage = wrapStorage(backend, {
      concurrency: { reads: 1, writes: 1 },
      retries: {
        sleep: () => {
          waiting = true;
          return backoff.promise;
        },
      },
    });
    backend.failNext('load', ioError());
    const retried = storage.load(file('b'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(waiting).toBe(true);
    expect((await storage.load(file('b'))).toString()).toBe('b');
    backoff.resolve();
    expect((await retried).toString()).toBe('b');
  });

  it('does not retry when told not to, and logs nothing without a logger', async () => {
    const backend = new FakeStorage();
    const storage = wrapStorage(backend, { concurrency: { reads: 1, writes: 1 }, retries: false });
    backend.failNext('save', ioError('disk failing'));
    await expect(storage.save(file('c'), Buffer.from('c'))).rejects.toThrow('disk failing');
    expect(backend.requests).toHaveLength(1);
    expect(storage.requestCounts()).toMatchObject({ save: 1, failed: 1, bytesUp: 0 });
  });
});
