import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StorageError, type FileHandle } from '../storage.js';
import { FakeStorage, collect, deferred, ioError } from '../wrappers/fake-storage.test-helper.js';
import { wrapStorage } from '../wrappers/wrap-storage.js';
import { CachedStorage } from './cached-storage.js';

const named = (kind: FileHandle['kind'], text: string): FileHandle & { bytes: Buffer } => {
  const bytes = Buffer.from(text);
  return { kind, name: createHash('sha256').update(bytes).digest('hex'), bytes };
};

describe('CachedStorage', () => {
  let dir: string;
  let remote: FakeStorage;
  let down: boolean;
  let warnings: string[];
  const opened: CachedStorage[] = [];

  function open(
    settings: { maxPendingBytes?: number; keptPackBytes?: number } = {},
  ): CachedStorage {
    const direct = wrapStorage(remote, { concurrency: { reads: 8, writes: 4 }, retries: false });
    const storage = new CachedStorage(
      { retried: direct, direct, requestCounts: () => direct.requestCounts() },
      {
        folder: join(dir, 'cache'),
        maxPendingBytes: settings.maxPendingBytes ?? 1024 * 1024,
        keptPackBytes: settings.keptPackBytes ?? 0,
        warn: (message) => warnings.push(message),
        timing: {
          pollMs: 20,
          firstBackoffMs: 20,
          maxBackoffMs: 80,
          recheckMs: 1_000,
          closeGraceMs: 100,
          fullCacheGiveUpMs: 100,
        },
      },
    );
    opened.push(storage);
    return storage;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cached-storage-'));
    remote = new FakeStorage();
    down = false;
    warnings = [];
    remote.gate = async () => {
      if (down) throw ioError('connect ECONNREFUSED');
    };
  });
  afterEach(async () => {
    for (const storage of opened.splice(0)) await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('saves to the cache and returns; the file is read from there until the upload follows', async () => {
    const storage = open();
    const held = deferred();
    remote.gate = (operation) => (operation === 'save' ? held.promise : Promise.resolve());
    const snapshot = named('snapshots', 'a snapshot');
    await storage.save(snapshot, snapshot.bytes);
    expect(remote.files.size).toBe(0);
    expect(await storage.load(snapshot)).toEqual(snapshot.bytes);
    expect((await storage.stat(snapshot)).size).toBe(snapshot.bytes.length);
    expect(await collect(storage.names('snapshots'))).toEqual([snapshot.name]);
    expect(storage.pendingUploads()).toEqual({ files: 1, bytes: snapshot.bytes.length });
    held.resolve();
    expect(await storage.finishUploads(1_000)).toEqual({ files: 0, bytes: 0 });
    expect(remote.files.get(`snapshots/${snapshot.name}`)).toEqual(snapshot.bytes);
    // Still read locally, from the copy the upload left.
    const before = remote.requests.length;
    expect(await storage.load(snapshot)).toEqual(snapshot.bytes);
    expect(remote.requests.length).toBe(before);
  });

  it('loads metadata from the remote once and from its copy after, even in a later run; packs each time', async () => {
    const index = named('index', 'an index');
    const pack = named('data', 'a pack');
    remote.files.set(`index/${index.name}`, index.bytes);
    remote.files.set(`data/${pack.name}`, pack.bytes);
    const first = open();
    expect(await first.load(index)).toEqual(index.bytes);
    await first.load(pack);
    await first.close();
    const second = open();
    expect(await second.load(index)).toEqual(index.bytes);
    expect((await second.stat(index)).size).toBe(index.bytes.length);
    await second.load(pack, { offset: 2, length: 4 });
    expect(remote.requests).toEqual([
      `load index/${index.name}`,
      `load data/${pack.name}`,
      `load data/${pack.name}`,
    ]);
    expect(second.requestCounts()).toMatchObject({ load: 1, stat: 0 });
  });

  it('asks the remote for every listing, and adds the files waiting to upload', async () => {
    const storage = open();
    const there = named('snapshots', 'on the remote');
    remote.files.set(`snapshots/${there.name}`, there.bytes);
    down = true;
    const waiting = named('snapshots', 'waiting');
    await storage.save(waiting, waiting.bytes);
    down = false;
    // The upload failed once: listings skip the remote for a while (recheckMs), so wait it out
    // by succeeding through a load.
    await storage.load(there);
    expect((await collect(storage.names('snapshots'))).sort()).toEqual(
      [there.name, waiting.name].sort(),
    );
    expect(await collect(storage.list('snapshots'))).toContainEqual({
      name: waiting.name,
      size: waiting.bytes.length,
    });
    expect(remote.requests.filter((request) => request.startsWith('names')).length).toBe(1);
  });

  it('with the remote out of reach, lists metadata from the cache (said once) and fails for packs', async () => {
    const storage = open();
    const known = named('snapshots', 'listed before');
    remote.files.set(`snapshots/${known.name}`, known.bytes);
    remote.files.set('keys/k', Buffer.from('key'));
    await collect(storage.names('snapshots'));
    await collect(storage.names('keys'));
    down = true;
    const waiting = named('snapshots', 'saved while down');
    await storage.save(waiting, waiting.bytes);
    expect((await collect(storage.names('snapshots'))).sort()).toEqual(
      [known.name, waiting.name].sort(),
    );
    const listings = (): number =>
      remote.requests.filter((request) => request.startsWith('names')).length;
    const asked = listings();
    // Found down a moment ago: the next listing does not ask again.
    expect(await collect(storage.names('keys'))).toEqual(['k']);
    expect(listings()).toBe(asked);
    await expect(collect(storage.names('data'))).rejects.toThrow('ECONNREFUSED');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/fake:\/\/storage cannot be reached \(connect ECONNREFUSED\)/);
  });

  it('refuses to save a file waiting or known to be on the remote, as the remote would', async () => {
    const storage = open();
    const index = named('index', 'an index');
    await storage.save(index, index.bytes);
    await expect(storage.save(index, index.bytes)).rejects.toMatchObject({ code: 'exists' });
    await storage.finishUploads(1_000);
    await expect(storage.save(index, index.bytes)).rejects.toMatchObject({ code: 'exists' });
  });

  it('removes a file from the cache and from the remote', async () => {
    const storage = open();
    const snapshot = named('snapshots', 'to remove');
    await storage.save(snapshot, snapshot.bytes);
    await storage.finishUploads(1_000);
    await storage.remove(snapshot);
    expect(remote.files.size).toBe(0);
    await expect(storage.load(snapshot)).rejects.toMatchObject({ code: 'not-found' });
    // One that never reached the remote is removed all the same.
    down = true;
    const waiting = named('snapshots', 'never sent');
    await storage.save(waiting, waiting.bytes);
    await storage.remove(waiting).catch((error: unknown) => {
      if (!(error instanceof StorageError && error.code === 'io')) throw error;
    });
    expect(storage.pendingUploads().files).toBe(0);
  });

  it('creates no second repository while a config made here waits, and forgets a replaced one', async () => {
    down = true;
    const first = open();
    await first.create().catch(() => undefined);
    await first.save({ kind: 'config', name: 'config' }, Buffer.from('{"id":"one"}'));
    await first.close();
    down = false;
    remote.gate = () => new Promise(() => undefined); // the config must not go before the check
    const second = open();
    await expect(second.create()).rejects.toThrow(/still waiting to upload/);
    await second.close();

    // Uploaded, then the remote repository deleted by hand and made again here.
    remote.gate = () => Promise.resolve();
    const third = open();
    await third.finishUploads(1_000);
    expect((await third.load({ kind: 'config', name: 'config' })).toString()).toBe('{"id":"one"}');
    remote.files.clear();
    await third.create();
    await expect(third.load({ kind: 'config', name: 'config' })).rejects.toMatchObject({
      code: 'not-found',
    });
  });

  it('uploads at the next run what a run ended with the remote down left', async () => {
    down = true;
    const first = open();
    const pack = named('data', 'a pack');
    const index = named('index', 'its index');
    await first.save(pack, pack.bytes);
    await first.save(index, index.bytes);
    expect(await first.finishUploads(100)).toMatchObject({
      files: 2,
      bytes: pack.bytes.length + index.bytes.length,
      remoteError: 'connect ECONNREFUSED',
    });
    await first.close();
    down = false;
    const second = open();
    expect(await second.finishUploads(1_000)).toEqual({ files: 0, bytes: 0 });
    // Tried, failed and paused while down; once up, the pack first and the index after it.
    const saves = remote.requests.filter((request) => request.startsWith('save'));
    expect(saves.at(-1)).toBe(`save index/${index.name}`);
    expect(saves.slice(0, -1).every((request) => request === `save data/${pack.name}`)).toBe(true);
    expect(remote.files.has(`data/${pack.name}`)).toBe(true);
    expect(second.requestCounts()).toMatchObject({ save: 2, failed: 0 });
    expect(await readFile(join(dir, 'cache', 'location'), 'utf8')).toBe('fake://storage\n');
  });

  it('makes a save wait for room in a full cache, and fail once the remote has been down a while', async () => {
    const storage = open({ maxPendingBytes: 10 });
    const held = deferred();
    remote.gate = (operation) => (operation === 'save' ? held.promise : Promise.resolve());
    await storage.save(named('data', 'pack 1'), Buffer.from('pack 1'));
    let second = false;
    const saving = storage.save(named('data', 'pack 2'), Buffer.from('pack 2')).then(() => {
      second = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(second).toBe(false);
    held.resolve();
    await saving;
    await storage.finishUploads(1_000);

    remote.gate = async () => {
      throw ioError('connect ECONNREFUSED');
    };
    await storage.save(named('data', 'pack 3'), Buffer.from('pack 3'));
    await expect(storage.save(named('data', 'pack 4'), Buffer.from('pack 4'))).rejects.toThrow(
      /cannot be reached \(connect ECONNREFUSED\) and the local cache already holds/,
    );
  });

  it('keeps packs after upload and reads them from the cache, with the remote up or down', async () => {
    const storage = open({ keptPackBytes: 1024 });
    const pack = named('data', 'a pack of trees');
    await storage.save(pack, pack.bytes);
    await storage.finishUploads(1_000);
    expect(await storage.load(pack)).toEqual(pack.bytes);
    expect(await storage.load(pack, { offset: 2, length: 4 })).toEqual(pack.bytes.subarray(2, 6));
    // The next run's trees cost the remote nothing.
    expect(remote.requests.filter((request) => request.startsWith('load'))).toEqual([]);
    down = true;
    expect(await storage.load(pack, { offset: 2, length: 4 })).toEqual(pack.bytes.subarray(2, 6));
    await expect(storage.load(named('data', 'never kept'))).rejects.toThrow('ECONNREFUSED');
  });

  it('drops a kept pack found damaged, and reads the remote one from then on', async () => {
    const storage = open({ keptPackBytes: 1024 });
    const pack = named('data', 'a pack of trees');
    await storage.save(pack, pack.bytes);
    await storage.finishUploads(1_000);
    expect(await storage.dropLocalCopy(pack)).toBe(true);
    expect(await storage.dropLocalCopy(pack)).toBe(false);
    expect(await storage.load(pack)).toEqual(pack.bytes);
    expect(remote.requests.filter((request) => request.startsWith('load'))).toHaveLength(1);
    expect(await storage.dropLocalCopy(named('index', 'not a pack'))).toBe(false);
  });

  it('sends lock files straight to the remote', async () => {
    const storage = open();
    await storage.save({ kind: 'locks', name: 'backup-1' }, Buffer.from('me'));
    expect(remote.files.has('locks/backup-1')).toBe(true);
    expect(storage.pendingUploads().files).toBe(0);
    expect(await collect(storage.names('locks'))).toEqual(['backup-1']);
  });
});
