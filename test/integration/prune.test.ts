// prune against a real Dovecot. A folder of large messages is deleted on the server and the
// snapshot that held it forgotten: a first prune condemns the packs only it needed (nothing is
// deleted yet), a second one past the grace period deletes them, and the repository checks out
// and restores. Then the hazard prune exists to avoid: a backup that starts before a prune and
// stores the same messages again deduplicates against packs the prune condemns meanwhile; the
// next prune takes them back instead of deleting them, and nothing the backup references is lost.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox, readAccount, withImap, mailOf } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { watchRepository } from '../support/repository-files.js';
import { createWorkspace, type Workspace, shown } from '../support/workspace.js';

interface PruneJson {
  condemn: Array<{ pack: string; reason: string }>;
  remove: Array<{ pack: string }>;
  pardon: string[];
  waiting: Array<{ pack: string }>;
  outcome: { packsRemoved: number; bytesRemoved: number } | null;
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
    server = await startDovecot({ users: { alice: 'a', one: '1', two: '2', three: '3' } });
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

    const first = await prune('--grace', '0s');
    expect(first.condemn.map((c) => c.pack).sort()).toEqual(dry.condemn.map((c) => c.pack).sort());
    expect(first.remove).toEqual([]);
    expect(await dataBytes(ws.repository)).toBe(before);
    await expectWhole('one');

    const second = await prune('--grace', '0s');
    expect(second.remove.map((r) => r.pack).sort()).toEqual(
      first.condemn.map((c) => c.pack).sort(),
    );
    expect(second.outcome?.packsRemoved).toBe(first.condemn.length);
    // The deleted Trash held 40 messages of 400 kB (16 MB): the packs that held them alone are
    // gone (a pack shared with mail still there stays whole: prune does not repack yet).
    expect(before - (await dataBytes(ws.repository))).toBeGreaterThan(5_000_000);
    await expectWhole('two');
    const third = await prune('--grace', '0s');
    expect([third.condemn, third.remove, third.waiting]).toEqual([[], [], []]);
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
      INBOX: generateMessages({ tag: 'prune-more', count: 600, largeEvery: 4 }),
    });
    let writing = false;
    const stopWatching = await watchRepository(ws.repository, (event) => {
      if (event.kind === 'data') writing = true;
    });
    const child = ws.spawn(['backup']);
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    while (!writing) await new Promise((resolve) => setTimeout(resolve, 5));
    child.kill('SIGSTOP');
    stopWatching();
    const snapshotsBefore = await snapshotFiles(ws.repository);
    const during = await prune();
    expect(await snapshotFiles(ws.repository)).toBe(snapshotsBefore);
    child.kill('SIGCONT');
    expect(await exited).toBe(0);
    expect(during.condemn.length).toBeGreaterThan(0);
    expect(during.remove).toEqual([]);

    // Past the grace period: what the backup's snapshot needs is taken back, not deleted.
    const after = await prune('--grace', '0s');
    expect(after.pardon.length).toBeGreaterThan(0);
    for (const pack of after.pardon) expect(during.condemn.map((c) => c.pack)).toContain(pack);
    await expectWhole('three');
  }, 180_000);
});
