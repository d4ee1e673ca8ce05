// prune against a real Dovecot. A folder of large messages is deleted on the server and the
// snapshot that held it forgotten: a first prune condemns the packs only it needed (nothing is
// deleted yet), a second one past the grace period deletes them, and the repository checks out
// and restores. Then the hazard prune exists to avoid: a backup that starts before a prune and
// stores the same messages again deduplicates against packs the prune condemns meanwhile; the
// next prune takes them back instead of deleting them, and nothing the backup references is lost.
// Then repacking: half of a folder's messages deleted leaves packs half needed; prune copies the
// needed half into new packs and condemns the old ones, which the next prune deletes. Last, the
// lock: a second prune while one runs is refused and told who holds it; a stale lock is taken over.
import { watch } from 'node:fs';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox, readAccount, withImap, mailOf } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { isTemporaryName, listRepository, watchRepository } from '../support/repository-files.js';
import { createWorkspace, type Workspace, shown } from '../support/workspace.js';

interface PruneJson {
  condemn: Array<{ pack: string; reason: string }>;
  remove: Array<{ pack: string }>;
  pardon: string[];
  waiting: Array<{ pack: string }>;
  repack: Array<{ pack: string; bytes: number; unusedBytes: number }>;
  outcome: {
    packsRemoved: number;
    bytesRemoved: number;
    packsRepacked: number;
    objectsRepacked: number;
    repackBytesRead: number;
    repackBytesWritten: number;
    packsWritten: number;
    repackDamaged: string[];
  } | null;
}

const packsOf = (list: Array<{ pack: string }>): string[] => list.map((e) => e.pack).sort();

async function lockFiles(repository: string): Promise<string[]> {
  const names = await readdir(join(repository, 'locks')).catch(() => []);
  return names.filter((name) => !isTemporaryName(name));
}

/** Snapshot and run files: what a backup writes last (read off the disk, not the catalog). */
async function snapshotFiles(repository: string): Promise<number> {
  let count = 0;
  for (const folder of ['snapshots', 'runs'])
    count += (await readdir(join(repository, folder)).catch(() => [])).length;
  return count;
}

async function dataBytes(repository: string): Promise<number> {
  let total = 0;
  for (const sub of await readdir(join(repository, 'data')))
    for (const name of await readdir(join(repository, 'data', sub)))
      total += (await stat(join(repository, 'data', sub, name))).size;
  return total;
}

describe.skipIf(!haveDovecot)('prune', () => {
  let server: DovecotServer;
  let ws: Workspace;

  const prune = async (...args: string[]): Promise<PruneJson> => {
    const result = await ws.run(['prune', '--json', ...args]);
    expect(result.code, shown(result)).toBe(0);
    return result.json<PruneJson>();
  };
  const expectWhole = async (into: string): Promise<void> => {
    const check = await ws.run(['check', '--read-data']);
    expect(check.code, shown(check)).toBe(0);
    const restore = await ws.run(['restore', 'account', 'alice', '--to-account', into]);
    expect(restore.code, shown(restore)).toBe(0);
    expect(mailOf(await readAccount(server, into))).toEqual(
      mailOf(await readAccount(server, 'alice')),
    );
  };

  beforeAll(async () => {
    server = await startDovecot({
      users: { alice: 'a', one: '1', two: '2', three: '3', four: '4', five: '5' },
    });
    const trash = generateMessages({
      tag: 'prune-trash',
      count: 40,
      largeEvery: 1,
      largeBytes: 400_000,
    });
    await fillMailbox(server, 'alice', {
      INBOX: generateMessages({ tag: 'prune-inbox', count: 30 }),
      Trash: trash,
    });
    ws = await createWorkspace(server, {
      accounts: ['alice'],
      extra: 'retention: { keepLast: 1 }\n',
    });
    expect((await ws.run(['init', '--scrypt-cost', '10'])).code).toBe(0);
    expect((await ws.run(['backup'])).code).toBe(0);
    await withImap(server, 'alice', (client) => client.mailboxDelete('Trash'));
    expect((await ws.run(['backup'])).code).toBe(0);
    const forget = await ws.run(['forget']);
    expect(forget.code, shown(forget)).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    await ws?.remove();
  });

  it('condemns what no snapshot needs, and deletes it at a prune after the grace period', async () => {
    const before = await dataBytes(ws.repository);
    const dry = await prune('--dry-run', '--grace', '0s');
    expect(dry.condemn.length).toBeGreaterThan(0);
    expect(dry.outcome).toBeNull();

    // Packs shared by the Trash and mail still there are repacked (default --max-unused 10%),
    // and condemned with the others.
    const first = await prune('--grace', '0s');
    expect(packsOf(first.condemn)).toEqual(packsOf(dry.condemn));
    expect(packsOf(first.repack)).toEqual(packsOf(dry.repack));
    expect(first.remove).toEqual([]);
    expect(first.outcome?.packsRepacked).toBe(first.repack.length);
    await expectWhole('one');

    const second = await prune('--grace', '0s');
    expect(packsOf(second.remove)).toEqual(packsOf([...first.condemn, ...first.repack]));
    expect(second.outcome?.packsRemoved).toBe(first.condemn.length + first.repack.length);
    // The deleted Trash held 40 messages of 400 kB (16 MB): the packs that held them are gone.
    expect(before - (await dataBytes(ws.repository))).toBeGreaterThan(5_000_000);
    await expectWhole('two');
    const third = await prune('--grace', '0s');
    expect([third.condemn, third.remove, third.waiting, third.repack]).toEqual([[], [], [], []]);
  });

  it('takes back what a backup running beside it needed, instead of deleting it', async () => {
    // A folder backed up, deleted on the server, its snapshot forgotten: its packs are unneeded.
    const old = generateMessages({
      tag: 'prune-old',
      count: 30,
      largeEvery: 1,
      largeBytes: 400_000,
    });
    await fillMailbox(server, 'alice', { Old: old });
    expect((await ws.run(['backup'])).code).toBe(0);
    await withImap(server, 'alice', (client) => client.mailboxDelete('Old'));
    expect((await ws.run(['backup'])).code).toBe(0);
    expect((await ws.run(['forget'])).code).toBe(0);

    // The folder comes back, with much new mail. A backup starts (it loads the index, then
    // writes its first pack) and is held there; a prune condemns the folder's packs (the
    // backup's snapshot is not there yet to need them); the backup goes on, deduplicating
    // against them.
    await fillMailbox(server, 'alice', {
      Old: old,
      INBOX: generateMessages({ tag: 'prune-more', count: 300, largeEvery: 4 }),
    });
    let writing = false;
    const stopWatching = await watchRepository(ws.repository, (event) => {
      if (event.kind === 'data') writing = true;
    });
    const child = ws.spawn(['backup']);
    // Read as it comes: what the backup says is the message if it fails (and an unread pipe
    // could fill).
    let said = '';
    child.stdout?.on('data', (data: Buffer) => (said += data.toString()));
    child.stderr?.on('data', (data: Buffer) => (said += data.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    while (!writing) await new Promise((resolve) => setTimeout(resolve, 5));
    child.kill('SIGSTOP');
    stopWatching();
    const snapshotsBefore = await snapshotFiles(ws.repository);
    const during = await prune();
    expect(await snapshotFiles(ws.repository)).toBe(snapshotsBefore);
    child.kill('SIGCONT');
    expect(await exited, said).toBe(0);
    expect(during.condemn.length).toBeGreaterThan(0);
    expect(during.remove).toEqual([]);

    // Past the grace period: what the backup's snapshot needs is taken back, not deleted.
    const after = await prune('--grace', '0s');
    expect(after.pardon.length).toBeGreaterThan(0);
    // (The prune may have repacked packs the backup deduplicated against objects no snapshot
    // needed then: their entries stayed in the old packs, so those are taken back too.)
    for (const pack of after.pardon)
      expect([...packsOf(during.condemn), ...packsOf(during.repack)]).toContain(pack);
    await expectWhole('three');
  }, 180_000);

  it('repacks packs a snapshot needs a part of, and frees the rest at the next prune', async () => {
    // Nothing waiting from the tests before: what is measured below is the repacking alone.
    for (let i = 0; i < 2; i++) await prune('--grace', '0s', '--max-unused', 'unlimited');
    // Large messages back to back in a folder: half of them deleted on the server leaves the
    // packs that held them half needed.
    await fillMailbox(server, 'alice', {
      Mixed: generateMessages({
        tag: 'prune-mixed',
        count: 40,
        largeEvery: 1,
        largeBytes: 300_000,
      }),
    });
    expect((await ws.run(['backup'])).code).toBe(0);
    await withImap(server, 'alice', async (client) => {
      await client.mailboxOpen('Mixed');
      const uids = (await client.search({ all: true }, { uid: true })) || [];
      await client.messageDelete(uids.filter((_, i) => i % 2 === 0).join(','), { uid: true });
    });
    expect((await ws.run(['backup'])).code).toBe(0);
    expect((await ws.run(['forget'])).code).toBe(0);

    // Without repacking, the half-needed packs stay whole.
    const files = await listRepository(ws.repository);
    const kept = await prune('--dry-run', '--max-unused', 'unlimited');
    expect(kept.repack).toEqual([]);
    const dry = await prune('--dry-run', '--max-unused', '0%');
    expect(dry.repack.length).toBeGreaterThan(0);
    expect(dry.outcome).toBeNull();
    expect(await listRepository(ws.repository)).toEqual(files);
    const sparse = dry.repack.reduce((sum, r) => sum + r.unusedBytes, 0);
    // 20 messages of 300 kB (base64 decoded: about 6 MB) no snapshot needs, in needed packs.
    expect(sparse).toBeGreaterThan(4_000_000);

    const before = await dataBytes(ws.repository);
    const repacked = await prune('--grace', '0s', '--max-unused', '0%');
    expect(packsOf(repacked.repack)).toEqual(packsOf(dry.repack));
    const outcome = repacked.outcome;
    expect(outcome?.packsRepacked).toBe(dry.repack.length);
    expect(outcome?.repackDamaged).toEqual([]);
    expect(outcome?.objectsRepacked).toBeGreaterThan(0);
    expect(outcome?.repackBytesRead).toBeGreaterThan(0);
    expect(outcome?.packsWritten).toBeGreaterThan(0);
    // The new packs hold the needed part: about the packs' bytes less what was unneeded.
    const oldBytes = dry.repack.reduce((sum, r) => sum + r.bytes, 0);
    expect(outcome?.repackBytesWritten).toBeLessThan(oldBytes - sparse * 0.9);
    // Nothing deleted yet: the old packs wait out the grace period like any condemned pack.
    const grown = await dataBytes(ws.repository);
    expect(grown).toBe(before + (outcome?.repackBytesWritten ?? 0));
    await expectWhole('four');

    const freed = await prune('--grace', '0s', '--max-unused', '0%');
    // (with the packs that held only deleted messages, condemned at the same time)
    expect(packsOf(freed.remove)).toEqual(packsOf([...repacked.repack, ...repacked.condemn]));
    expect(freed.repack).toEqual([]);
    const after = await dataBytes(ws.repository);
    expect(before - after).toBeGreaterThan(sparse * 0.9);
    console.log(
      `repack: ${dry.repack.length} pack(s) of ${oldBytes} bytes, ${sparse} unneeded; read ${outcome?.repackBytesRead}, wrote ${outcome?.repackBytesWritten}; data ${before} -> ${grown} -> ${after} bytes`,
    );
    await expectWhole('five');
    const again = await prune('--grace', '0s', '--max-unused', '0%');
    expect([again.condemn, again.remove, again.waiting, again.repack]).toEqual([[], [], [], []]);
  }, 180_000);

  it('refuses a second prune while one holds the lock, naming it, and takes over a stale lock', async () => {
    // A prune held while it holds the lock (stopped when its lock file appears).
    const child = ws.spawn(['prune', '--grace', '0s']);
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await new Promise<void>((resolve) => {
      const watcher = watch(join(ws.repository, 'locks'), (_event, name) => {
        if (!name || isTemporaryName(name.toString())) return; // not written whole yet
        child.kill('SIGSTOP');
        watcher.close();
        resolve();
      });
    });
    try {
      expect(await lockFiles(ws.repository)).toHaveLength(1);
      const second = await ws.run(['prune']);
      expect(second.code, shown(second)).toBe(1);
      expect(second.stderr).toContain(`locked by prune on ${hostname()} (pid ${child.pid})`);
      const repair = await ws.run(['check', '--repair']);
      expect(repair.code, shown(repair)).toBe(1);
      expect(repair.stderr).toContain(`locked by prune on ${hostname()}`);
      // A dry run only reads: it takes no lock, and is not refused.
      expect((await ws.run(['prune', '--dry-run'])).code).toBe(0);
    } finally {
      child.kill('SIGCONT');
    }
    expect(await exited).toBe(0);
    expect(await lockFiles(ws.repository)).toEqual([]);

    // A lock nobody refreshed for 31 minutes, and one of a process of this host that is gone.
    const lockFile = (host: string, pid: number, minutesAgo: number): string => {
      const time = new Date(Date.now() - minutesAgo * 60_000).toISOString();
      return JSON.stringify({
        version: 1,
        id: 'old',
        command: 'prune',
        host,
        pid,
        since: time,
        time,
      });
    };
    for (const [host, pid, age] of [
      ['elsewhere', 4242, 31],
      [hostname(), 999_999, 0],
    ] as const) {
      await writeFile(join(ws.repository, 'locks', 'stale'), lockFile(host, pid, age));
      const taken = await ws.run(['prune']);
      expect(taken.code, shown(taken)).toBe(0);
      expect(taken.stderr).toContain(`removed the stale lock of prune on ${host} (pid ${pid})`);
      expect(await lockFiles(ws.repository)).toEqual([]);
    }
    // A live one elsewhere is not.
    await writeFile(join(ws.repository, 'locks', 'live'), lockFile('elsewhere', 4242, 1));
    const refused = await ws.run(['prune']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/locked by prune on elsewhere \(pid 4242\) since .*locks\/live/);
    expect(await lockFiles(ws.repository)).toEqual(['live']);
  }, 120_000);
});
