// A remote repository's cache leaves temporary files of its own when a process dies between
// writing a copy or a listing and renaming it: the cached storage lists them after the remote's,
// by their absolute paths, and removes them; files it did not list are refused.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeStorage, collect } from '../wrappers/fake-storage.test-helper.js';
import { wrapStorage } from '../wrappers/wrap-storage.js';
import { CachedStorage } from './cached-storage.js';

describe('the cache’s own temporary files', () => {
  let dir: string;
  let storage: CachedStorage;
  let remote: FakeStorage;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cache-leftovers-'));
    remote = new FakeStorage();
    const direct = wrapStorage(remote, { concurrency: { reads: 4, writes: 4 }, retries: false });
    storage = new CachedStorage(
      { retried: direct, direct, requestCounts: () => direct.requestCounts() },
      { folder: join(dir, 'cache'), maxPendingBytes: 1024 * 1024 },
    );
  });
  afterEach(async () => {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('are listed after the remote’s and removed, and nothing else is', async () => {
    const old = new Date(Date.now() - 3 * 86_400_000);
    remote.temporary.set('index/.tmp-0123', { path: 'index/.tmp-0123', size: 3, modified: old });
    // A copy kept from an earlier load, and the leftovers of a copy and a listing.
    const snapshot = Buffer.from('a snapshot');
    const name = createHash('sha256').update(snapshot).digest('hex');
    await remote.save({ kind: 'snapshots', name }, snapshot);
    expect(await storage.load({ kind: 'snapshots', name })).toEqual(snapshot);
    const copies = join(dir, 'cache', 'files', 'snapshots');
    const listings = join(dir, 'cache', 'listings');
    await mkdir(listings, { recursive: true });
    await writeFile(join(copies, '.tmp-aaaa'), 'half a copy');
    await writeFile(join(listings, '.tmp-bbbb'), 'half a listing');

    const listed = await collect(storage.temporaryFiles());
    expect(listed.map((file) => [file.path, file.size])).toEqual([
      ['index/.tmp-0123', 3],
      [join(listings, '.tmp-bbbb'), 14],
      [join(copies, '.tmp-aaaa'), 11],
    ]);
    for (const file of listed) await storage.removeTemporary(file.path);
    expect(remote.temporary.size).toBe(0);
    expect(await readdir(copies)).toEqual([name]);
    expect(await readdir(listings)).toEqual([]);

    // The copy itself, or the cache's own files, are never removed this way.
    for (const path of [join(copies, name), join(dir, 'cache', 'upload.lock')])
      await expect(storage.removeTemporary(path)).rejects.toThrow(/not a temporary file/);
    expect(await storage.load({ kind: 'snapshots', name })).toEqual(snapshot);
  });
});
