import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openStorage } from './open-storage.js';
import { FakeStorage, ioError, recordingLogger } from './wrappers/fake-storage.test-helper.js';

// The SFTP and S3 backends are stood in for by an in-memory one: what is tested here is how
// openStorage wraps a remote backend, not the backend.
const remote = vi.hoisted(() => ({ backend: undefined as FakeStorage | undefined }));
vi.mock('./sftp/open-sftp.js', () => ({ openSftpStorage: () => remote.backend }));

describe('openStorage', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'open-storage-'));
    remote.backend = new FakeStorage();
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('counts the requests to a local repository, and does not retry them', async () => {
    const storage = openStorage('repo', dir);
    expect(storage.location).toBe(join(dir, 'repo'));
    await storage.create();
    await storage.save({ kind: 'keys', name: 'a'.repeat(64) }, Buffer.from('key'));
    await storage.load({ kind: 'keys', name: 'a'.repeat(64) });
    await expect(storage.stat({ kind: 'keys', name: 'b'.repeat(64) })).rejects.toThrow();
    expect(storage.requestCounts()).toEqual({
      save: 1,
      load: 1,
      stat: 1,
      list: 0,
      remove: 0,
      failed: 1,
      bytesUp: 3,
      bytesDown: 3,
    });
    await storage.close();
  });

  it('retries and logs a remote repository, naming it without its password', async () => {
    const logger = recordingLogger();
    const storage = openStorage('sftp://backup:hunter2@host/repo', dir, {
      logger,
      retries: { firstDelayMs: 1 },
    });
    remote.backend?.failNext('stat', ioError());
    remote.backend?.files.set('index/x', Buffer.from('x'));
    expect((await storage.stat({ kind: 'index', name: 'x' })).size).toBe(1);
    expect(storage.requestCounts()).toMatchObject({ stat: 2, failed: 1 });
    expect(logger.lines.map((line) => line.level)).toEqual(['debug', 'warn', 'debug']);
    expect(
      logger.lines.every((line) => line.fields.storage === 'sftp://backup:***@host/repo'),
    ).toBe(true);
    expect(JSON.stringify(logger.lines)).not.toContain('hunter2');
  });

  it('applies the concurrency given, one number for reads and writes alike', async () => {
    const storage = openStorage('sftp://host/repo', dir, { concurrency: 1 });
    const backend = remote.backend ?? new FakeStorage();
    let inFlight = 0;
    let most = 0;
    backend.gate = async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
    };
    await Promise.all(
      ['a', 'b', 'c'].map((name) => storage.save({ kind: 'data', name }, Buffer.from(name))),
    );
    expect(most).toBe(1);
  });

  it('refuses an unknown scheme by name, without the password', () => {
    expect(() => openStorage('ftp://user:hunter2@host/repo', dir)).toThrow(
      'ftp://user:***@host/repo: unknown repository URL scheme ftp',
    );
  });
});
