import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openStorage } from '../open-storage.js';
import { FakeStorage, deferred } from '../wrappers/fake-storage.test-helper.js';
import { cacheFolderFor } from './cache-folder.js';

// The SFTP backend is stood in for by an in-memory one: what is tested is where openStorage puts
// the cache among the wrappers.
const remote = vi.hoisted(() => ({ backend: undefined as FakeStorage | undefined }));
vi.mock('../sftp/open-sftp.js', () => ({ openSftpStorage: () => remote.backend }));

// Named by its content, as the cache checks its copies.
const name = createHash('sha256').update('index').digest('hex');

describe('openStorage with a cache', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'open-storage-cache-'));
    remote.backend = new FakeStorage();
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('puts a remote repository behind it, counting only what reaches the remote', async () => {
    const backend = remote.backend ?? new FakeStorage();
    const held = deferred();
    backend.gate = (operation) => (operation === 'save' ? held.promise : Promise.resolve());
    const storage = openStorage('sftp://backup:hunter2@host/repo', dir, {
      cache: { dir: join(dir, 'cache'), maxPendingBytes: 1024 },
    });
    await storage.save({ kind: 'index', name }, Buffer.from('index'));
    expect(storage.pendingUploads()).toEqual({ files: 1, bytes: 5 });
    held.resolve();
    await storage.finishUploads(1_000);
    await storage.load({ kind: 'index', name });
    expect(storage.requestCounts()).toMatchObject({ save: 1, load: 0, bytesUp: 5 });
    // The folder is named after the location without its password.
    expect(existsSync(cacheFolderFor(join(dir, 'cache'), 'sftp://backup:***@host/repo'))).toBe(
      true,
    );
    await storage.close();
  });

  it('leaves a local repository as it is', async () => {
    const storage = openStorage('repo', dir, {
      cache: { dir: join(dir, 'cache'), maxPendingBytes: 0 },
    });
    await storage.create();
    await storage.save({ kind: 'index', name }, Buffer.from('index'));
    expect(storage.requestCounts().save).toBe(1);
    expect(storage.pendingUploads().files).toBe(0);
    expect(existsSync(join(dir, 'cache'))).toBe(false);
    await storage.close();
  });
});
