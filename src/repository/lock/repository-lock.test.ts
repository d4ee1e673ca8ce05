import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalStorage } from '../../storage/local/local-storage.js';
import type { Storage } from '../../storage/storage.js';
import { acquireLock, parseLock, RepositoryLockedError, withLock } from './repository-lock.js';

async function lockFiles(storage: Storage): Promise<string[]> {
  const names: string[] = [];
  for await (const name of storage.names('locks')) names.push(name);
  return names;
}

describe('repository lock', () => {
  let dir: string;
  let storage: Storage;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailvault-lock-'));
    storage = new LocalStorage(join(dir, 'repo'));
    await storage.create();
  });
  afterEach(async () => {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is refused to a second holder, which is told who holds it, and is gone once released', async () => {
    const first = await acquireLock({ storage }, { command: 'prune', host: 'mail1', pid: 4242 });
    const files = await lockFiles(storage);
    expect(files).toEqual([first.file]);
    const lock = parseLock(await storage.load({ kind: 'locks', name: first.file }));
    expect(lock).toMatchObject({ version: 1, command: 'prune', host: 'mail1', pid: 4242 });

    const second = acquireLock({ storage }, { command: 'check --repair', host: 'mail2' });
    await expect(second).rejects.toBeInstanceOf(RepositoryLockedError);
    await expect(second).rejects.toThrow(/locked by prune on mail1 \(pid 4242\) since 20/);
    // The refused one leaves nothing behind.
    expect(await lockFiles(storage)).toEqual(files);

    await first.release();
    await first.release();
    expect(await lockFiles(storage)).toEqual([]);
    const third = await acquireLock({ storage }, { command: 'prune' });
    await third.release();
  });

  it('takes over a lock not refreshed for the stale period, with a warning', async () => {
    let clock = Date.parse('2026-03-01T10:00:00Z');
    const now = () => new Date(clock);
    const old = await acquireLock({ storage }, { command: 'prune', host: 'mail1', now });
    clock += 29 * 60_000;
    await expect(
      acquireLock({ storage }, { command: 'prune', host: 'mail2', now }),
    ).rejects.toThrow(RepositoryLockedError);
    clock += 2 * 60_000;
    const warnings: string[] = [];
    const taken = await acquireLock(
      { storage },
      { command: 'prune', host: 'mail2', now, warn: (m) => warnings.push(m) },
    );
    expect(warnings).toEqual([
      expect.stringMatching(/removed the stale lock of prune on mail1 .*not refreshed for 31 min/),
    ]);
    expect(await lockFiles(storage)).toEqual([taken.file]);
    // The old holder finds its lock lost before its next step.
    expect(() => old.assertHeld()).toThrow(/could not be refreshed/);
    await old.release(); // its file is gone already: no error
    await taken.release();
  });

  it('takes over a lock of this host whose process is gone', async () => {
    const dead = await acquireLock({ storage }, { command: 'prune', host: 'here', pid: 999_999 });
    const warnings: string[] = [];
    const lock = await acquireLock(
      { storage },
      { command: 'prune', host: 'here', isRunning: () => false, warn: (m) => warnings.push(m) },
    );
    expect(warnings[0]).toMatch(/its process is gone/);
    // On another host the same pid says nothing: the lock is live.
    await lock.release();
    await dead.release();
    const elsewhere = await acquireLock({ storage }, { command: 'prune', host: 'there', pid: 1 });
    await expect(
      acquireLock({ storage }, { command: 'prune', host: 'here', isRunning: () => false }),
    ).rejects.toThrow(/locked by prune on there/);
    await elsewhere.release();
  });

  it('refuses when another lock appears between writing and the second look', async () => {
    let sneaked = false;
    const racing: Storage = Object.create(storage) as Storage;
    racing.save = async (file, data) => {
      await storage.save(file, data);
      if (!sneaked) {
        sneaked = true;
        // Another mailvault that listed before this one wrote, and wrote its own just after.
        const time = new Date().toISOString();
        const other = {
          version: 1,
          id: 'x',
          command: 'forget',
          host: 'other',
          pid: 7,
          since: time,
          time,
        };
        await storage.save({ kind: 'locks', name: 'other' }, Buffer.from(JSON.stringify(other)));
      }
    };
    await expect(
      acquireLock({ storage: racing }, { command: 'prune', host: 'mine' }),
    ).rejects.toThrow(/locked by forget on other/);
    const left = await lockFiles(storage);
    expect(left).toHaveLength(1);
    expect(parseLock(await storage.load({ kind: 'locks', name: left[0] ?? '' })).host).toBe(
      'other',
    );
  });

  it('refreshes by writing a new file and removing the old one', async () => {
    const lock = await acquireLock({ storage }, { command: 'prune', refreshMs: 20 });
    const first = lock.file;
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(lock.file).not.toBe(first);
    // A refresh writes its new file before it removes the old one: caught between the two, the
    // listing holds both for a moment. Between refreshes it holds the current file alone.
    let listed = await lockFiles(storage);
    for (let tries = 0; tries < 100 && listed.join() !== lock.file; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      listed = await lockFiles(storage);
    }
    expect(listed).toEqual([lock.file]);
    await lock.release();
    expect(await lockFiles(storage)).toEqual([]);
  });

  it('refuses on a lock file it cannot read, naming it', async () => {
    await storage.save({ kind: 'locks', name: 'garbage' }, Buffer.from('not json'));
    await expect(acquireLock({ storage }, { command: 'prune' })).rejects.toThrow(
      /locks\/garbage cannot be read/,
    );
  });

  it('withLock releases when the work fails', async () => {
    await expect(
      withLock({ storage }, { command: 'prune' }, () => Promise.reject(new Error('boom'))),
    ).rejects.toThrow('boom');
    expect(await lockFiles(storage)).toEqual([]);
  });
});
