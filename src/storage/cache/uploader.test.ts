import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FileHandle } from '../storage.js';
import { FakeStorage, deferred, ioError } from '../wrappers/fake-storage.test-helper.js';
import { silentLogger } from '../wrappers/storage-logger.js';
import { FileCopies } from './file-copies.js';
import { PendingFolder } from './pending-folder.js';
import { RemoteHealth } from './remote-health.js';
import { UploadLock } from './upload-lock.js';
import { Uploader } from './uploader.js';

const hash = (c: string): string => c.repeat(64);
const pack = (c: string): FileHandle => ({ kind: 'data', name: hash(c) });

describe('Uploader', () => {
  let dir: string;
  let remote: FakeStorage;
  const running: Uploader[] = [];

  /** An uploader on the test's cache folder, as one process would have it. */
  function open(): { uploader: Uploader; pending: PendingFolder; health: RemoteHealth } {
    const pending = new PendingFolder(join(dir, 'pending'));
    const health = new RemoteHealth(1_000);
    const uploader = new Uploader({
      remote,
      pending,
      copies: new FileCopies(join(dir, 'files')),
      lock: new UploadLock(join(dir, 'upload.lock')),
      health,
      conflicts: join(dir, 'conflicts'),
      logger: silentLogger,
      location: remote.location,
      timing: { pollMs: 20, firstBackoffMs: 20, maxBackoffMs: 80 },
    });
    running.push(uploader);
    return { uploader, pending, health };
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'uploader-'));
    remote = new FakeStorage();
  });
  afterEach(async () => {
    for (const uploader of running.splice(0)) await uploader.stop(100);
    await rm(dir, { recursive: true, force: true });
  });

  it('sends packs at once, and an index or snapshot only once everything before it is there', async () => {
    const { uploader, pending } = open();
    const held = deferred();
    remote.gate = (operation) => (operation === 'save' ? held.promise : Promise.resolve());
    await pending.add(pack('a'), Buffer.from('pack a'));
    await pending.add({ kind: 'index', name: hash('b') }, Buffer.from('index'));
    await pending.add({ kind: 'snapshots', name: hash('c') }, Buffer.from('snapshot'));
    await pending.add(pack('d'), Buffer.from('pack d'));
    uploader.start();
    await uploader.nextChange(100);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Both packs go (in either order: they are sent side by side); the index waits for the
    // first, the snapshot for the index.
    const packs = [`save data/${hash('a')}`, `save data/${hash('d')}`];
    expect([...remote.requests].sort()).toEqual(packs);
    held.resolve();
    await uploader.settle(1_000);
    expect([...remote.requests.slice(0, 2)].sort()).toEqual(packs);
    expect(remote.requests.slice(2)).toEqual([
      `save index/${hash('b')}`,
      `save snapshots/${hash('c')}`,
    ]);
    expect(pending.totals().files).toBe(0);
    // Metadata stays as the cache's copy; packs do not.
    expect(await readdir(join(dir, 'files'))).toEqual(['index', 'snapshots']);
    expect(await readdir(join(dir, 'pending'))).toEqual([]);
  });

  it('counts a file the remote already has as sent', async () => {
    const { uploader, pending, health } = open();
    remote.files.set(`data/${hash('a')}`, Buffer.from('pack a'));
    await pending.add(pack('a'), Buffer.from('pack a'));
    uploader.start();
    await uploader.settle(1_000);
    expect(pending.totals().files).toBe(0);
    expect(health.error).toBeUndefined();
  });

  it('replaces a truncated file the remote kept from an interrupted upload', async () => {
    const { uploader, pending } = open();
    remote.files.set(`data/${hash('a')}`, Buffer.from('pack'));
    await pending.add(pack('a'), Buffer.from('pack a, whole'));
    uploader.start();
    await uploader.settle(1_000);
    expect(pending.totals().files).toBe(0);
    expect(remote.files.get(`data/${hash('a')}`)?.toString()).toBe('pack a, whole');
  });

  it('puts aside a config when the remote holds another', async () => {
    const { uploader, pending } = open();
    remote.files.set('config', Buffer.from('theirs'));
    await pending.add({ kind: 'config', name: 'config' }, Buffer.from('mine'));
    uploader.start();
    await uploader.settle(1_000);
    expect(pending.totals().files).toBe(0);
    expect(remote.files.get('config')?.toString()).toBe('theirs');
    expect(await readdir(join(dir, 'conflicts'))).toEqual(['000000000001.config.config']);
  });

  it('pauses while the remote fails, gives up waiting when nothing goes, and sends it all once it is back', async () => {
    const { uploader, pending, health } = open();
    let down = true;
    remote.gate = async () => {
      if (down) throw ioError('connect ECONNREFUSED');
    };
    await pending.add(pack('a'), Buffer.from('pack a'));
    await pending.add({ kind: 'snapshots', name: hash('b') }, Buffer.from('snapshot'));
    uploader.start();
    const begun = Date.now();
    await uploader.settle(150);
    expect(Date.now() - begun).toBeGreaterThanOrEqual(140);
    expect(pending.totals().files).toBe(2);
    expect(health.error).toBe('connect ECONNREFUSED');
    // Paused between tries, not hammering the remote.
    expect(remote.requests.length).toBeLessThan(8);
    down = false;
    await uploader.settle(1_000);
    expect(pending.totals().files).toBe(0);
    expect(health.error).toBeUndefined();
  });

  it('leaves the folder to the process holding its lock', async () => {
    const first = open();
    const second = open();
    const holder = new UploadLock(join(dir, 'upload.lock'));
    // Not this test's uploaders: another holder, as another process would be.
    expect(await holder.tryAcquire()).toBe(true);
    await second.pending.add(pack('a'), Buffer.from('pack a'));
    first.uploader.start();
    second.uploader.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(remote.requests).toEqual([]);
    holder.release();
    await second.uploader.settle(1_000);
    expect(second.pending.totals().files).toBe(0);
    // One of the two took the lock and sent the file, once.
    expect(remote.requests).toEqual([`save data/${hash('a')}`]);
  });

  it('stops without waiting long for an upload the remote does not answer', async () => {
    const { uploader, pending } = open();
    remote.gate = () => new Promise(() => undefined);
    await pending.add(pack('a'), Buffer.from('pack a'));
    uploader.start();
    await uploader.nextChange(50);
    const begun = Date.now();
    await uploader.stop(100);
    expect(Date.now() - begun).toBeLessThan(1_000);
    expect(pending.totals().files).toBe(1);
  });
});
