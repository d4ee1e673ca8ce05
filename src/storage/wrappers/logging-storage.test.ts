import { describe, expect, it } from 'vitest';
import { FakeStorage, collect, ioError, recordingLogger } from './fake-storage.test-helper.js';
import { LoggingStorage } from './logging-storage.js';

/** A clock that moves 5 ms each time it is read. */
function steppingClock(): () => number {
  let now = 0;
  return () => (now += 5);
}

function subject() {
  const backend = new FakeStorage();
  const logger = recordingLogger();
  const storage = new LoggingStorage(backend, {
    logger,
    location: 'sftp://backup:***@host/repo',
    now: steppingClock(),
  });
  return { backend, logger, storage };
}

describe('LoggingStorage', () => {
  it('logs each request at debug level: what, which file, bytes, duration and outcome', async () => {
    const { logger, storage } = subject();
    await storage.save({ kind: 'data', name: 'ab12' }, Buffer.from('secret mail'));
    await storage.load({ kind: 'data', name: 'ab12' }, { offset: 0, length: 6 });
    await storage.remove({ kind: 'data', name: 'ab12' });
    expect(logger.lines).toEqual([
      {
        level: 'debug',
        message: 'storage request',
        fields: {
          storage: 'sftp://backup:***@host/repo',
          operation: 'save',
          file: 'data/ab12',
          bytes: 11,
          ms: 5,
          outcome: 'ok',
        },
      },
      expect.objectContaining({
        fields: expect.objectContaining({ operation: 'load', bytes: 6, outcome: 'ok' }),
      }),
      expect.objectContaining({
        fields: expect.not.objectContaining({ bytes: expect.anything() }),
      }),
    ]);
    expect(JSON.stringify(logger.lines)).not.toContain('secret mail');
  });

  it('tells a missing file from a failure, and gives the error', async () => {
    const { backend, logger, storage } = subject();
    await expect(storage.stat({ kind: 'index', name: 'cd34' })).rejects.toThrow('not found');
    backend.failNext('load', ioError('connection reset'));
    await expect(storage.load({ kind: 'index', name: 'cd34' })).rejects.toThrow();
    expect(logger.lines.map((line) => line.fields)).toEqual([
      expect.objectContaining({ operation: 'stat', outcome: 'not-found' }),
      expect.objectContaining({
        operation: 'load',
        outcome: 'failed',
        error: 'connection reset',
      }),
    ]);
  });

  it('logs a listing once, with its items and the time spent waiting on the backend', async () => {
    const { backend, logger, storage } = subject();
    for (const name of ['a', 'b', 'c']) backend.files.set(`snapshots/${name}`, Buffer.from(name));
    expect(await collect(storage.names('snapshots'))).toEqual(['a', 'b', 'c']);
    for await (const info of storage.list('snapshots')) if (info.name === 'a') break;
    backend.failNext('names', ioError(), { afterItems: 2 });
    await expect(collect(storage.names('snapshots'))).rejects.toThrow();
    expect(logger.lines.map((line) => line.fields)).toEqual([
      {
        storage: 'sftp://backup:***@host/repo',
        operation: 'names',
        kind: 'snapshots',
        items: 3,
        ms: 20,
        outcome: 'ok',
      },
      expect.objectContaining({ operation: 'list', items: 1, outcome: 'stopped' }),
      expect.objectContaining({ operation: 'names', items: 2, outcome: 'failed' }),
    ]);
  });
});
