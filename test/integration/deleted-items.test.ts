// retention.deletedItems against a real Dovecot: alice's mailbox is backed up three times, one
// message deleted (and one moved to another folder) before the second backup, another deleted
// before the third. The snapshots are then re-dated so that the first deletion happened 100
// days ago and the second 10 days ago; with `deletedItems: 90d`, forget writes the older kept
// snapshots again without the first message, prune frees its bytes, and the second one, the
// moved one and everything of bob (under legal hold) stay restorable.
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAccountTree } from '../../src/mailbox/account-tree.js';
import { readAllEntries } from '../../src/mailbox/folder-listing.js';
import { readBody, readManifest } from '../../src/mailbox/message-store.js';
import { Repository } from '../../src/repository/repository.js';
import type { Snapshot } from '../../src/repository/snapshot/snapshot.js';
import { LocalStorage } from '../../src/storage/local/local-storage.js';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import {
  fillMailbox,
  readAccount,
  withImap,
  type FixtureMessage,
} from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { createWorkspace, shown, type Workspace } from '../support/workspace.js';

const DAY = 86_400_000;

interface ForgetJson {
  forgotten: number;
  deletedItems: {
    items: number;
    accounts: Array<{ name: string; snapshots: Array<{ id: string; items: number }> }>;
  } | null;
  snapshotFilesRewritten?: number;
}

interface Hit {
  key: string;
  account: string;
  folder: string;
  subject: string;
}

const sha256 = (message: FixtureMessage): string =>
  createHash('sha256').update(message.raw).digest('hex');

async function folderBytes(folder: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(folder).catch(() => [])) {
    const info = await stat(join(folder, name));
    total += info.isDirectory() ? await folderBytes(join(folder, name)) : info.size;
  }
  return total;
}

describe.skipIf(!haveDovecot)('retention.deletedItems', () => {
  let server: DovecotServer;
  let ws: Workspace;
  let passphrase: string;
  // Deleted 100 days ago, with an incompressible attachment so that its bytes show on disk.
  const [gone] = generateMessages({ tag: 'gone', count: 1, largeEvery: 1, largeBytes: 600_000 });
  const [recent] = generateMessages({ tag: 'recent', count: 1 });
  const [stays] = generateMessages({ tag: 'stays', count: 1 });
  const [moved] = generateMessages({ tag: 'moved', count: 1 });
  const [held] = generateMessages({ tag: 'held', count: 1 });
  const [bobStays] = generateMessages({ tag: 'bob-stays', count: 1 });
  /** The re-dated snapshots of alice older than the cutoff, by age in days. */
  const oldAlice = new Map<number, string>();

  const open = async (): Promise<{ repository: Repository; close: () => Promise<void> }> => {
    const storage = new LocalStorage(ws.repository);
    const repository = await Repository.open(storage, passphrase);
    await repository.loadIndex();
    return { repository, close: () => storage.close() };
  };

  const expunge = (user: string, subject: string, moveTo?: string) =>
    withImap(server, user, async (client) => {
      await client.mailboxOpen('INBOX');
      const uids = (await client.search({ subject }, { uid: true })) || [];
      expect(uids).toHaveLength(1);
      if (moveTo) await client.messageMove(uids.join(','), moveTo, { uid: true });
      else await client.messageDelete(uids.join(','), { uid: true });
    });

  const backup = async (): Promise<void> => {
    const result = await ws.run(['backup']);
    expect(result.code, shown(result)).toBe(0);
  };

  beforeAll(async () => {
    if (!gone || !recent || !stays || !moved || !held || !bobStays) throw new Error('no messages');
    server = await startDovecot({ users: { alice: 'a', bob: 'b', restored: 'r' } });
    await fillMailbox(server, 'alice', { INBOX: [gone, recent, stays, moved], Archive: [] });
    await fillMailbox(server, 'bob', { INBOX: [held, bobStays] });
    ws = await createWorkspace(server, {
      accounts: ['alice', 'bob'],
      extra: 'retention: { deletedItems: 90d, legalHold: [bob] }\n',
    });
    passphrase = (await readFile(join(ws.dir, 'repo.pass'), 'utf8')).trim();
    expect((await ws.run(['init', '--scrypt-cost', '10'])).code).toBe(0);
    await backup();
    await expunge('alice', 'gone message 0');
    await expunge('alice', 'moved message 0', 'Archive');
    await expunge('bob', 'held message 0');
    await backup();
    await expunge('alice', 'recent message 0');
    await backup();

    // Re-date: each real snapshot becomes synthetic ones in the past, and the real ones of the
    // first two runs go (their "now" would say the deleted messages were still there today).
    const { repository, close } = await open();
    const real: Array<{ id: string; snapshot: Snapshot; runFile?: string }> = [];
    for await (const entry of repository.snapshots()) real.push(entry);
    const runs = (name: string) =>
      real
        .filter((entry) => entry.snapshot.name === name)
        .sort((a, b) => a.snapshot.time.localeCompare(b.snapshot.time));
    const [a1, a2, a3] = runs('alice');
    const [b1, b2] = runs('bob');
    if (!a1 || !a2 || !a3 || !b1 || !b2) throw new Error('expected three runs of each account');
    const now = Date.now();
    const at = (snapshot: Snapshot, days: number) => ({
      ...snapshot,
      time: new Date(now - days * DAY).toISOString(),
    });
    oldAlice.set(120, await repository.saveSnapshot(at(a1.snapshot, 120)));
    // One of them as an unchanged run's entry, as a no-change backup writes it.
    const entry110 = at(a1.snapshot, 110);
    const { kind, source, name, time, tree, parent, summary } = entry110;
    await repository.saveRunFile({
      version: 1,
      run: 'synthetic-110',
      hostname: 'test',
      program: 'deleted-items.test.ts',
      unchanged: [{ kind, source, name, time, tree, parent, summary }],
    });
    oldAlice.set(100, await repository.saveSnapshot(at(a2.snapshot, 100)));
    await repository.saveSnapshot(at(a2.snapshot, 50));
    await repository.saveSnapshot(at(a3.snapshot, 10));
    await repository.saveSnapshot(at(b1.snapshot, 120));
    await repository.saveSnapshot(at(b2.snapshot, 100));
    for (const entry of [a1, a2, b1, b2]) {
      expect(entry.runFile).toBeUndefined();
      await repository.storage.remove({ kind: 'snapshots', name: entry.id });
    }
    await close();
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    await ws?.remove();
  });

  const subjects = (hits: Hit[]): string[] => hits.map((hit) => hit.subject).sort();
  const search = async (...args: string[]): Promise<Hit[]> => {
    const result = await ws.run(['search', ...args, '--json']);
    expect(result.code, shown(result)).toBe(0);
    return result.json<Hit[]>();
  };

  it('says in a dry run which kept snapshots would lose which items, and changes nothing', async () => {
    const files = async () => [
      ...(await readdir(join(ws.repository, 'snapshots'))),
      ...(await readdir(join(ws.repository, 'runs'))),
    ];
    const before = (await files()).sort();
    const result = await ws.run(['forget', '--dry-run', '--json']);
    expect(result.code, shown(result)).toBe(0);
    const plan = result.json<ForgetJson>();
    expect(plan.forgotten).toBe(0);
    // The message deleted 100 days ago, in the two snapshots older than the cutoff's boundary
    // (the one at -100 days already lacks it); nothing of bob, under legal hold.
    expect(plan.deletedItems?.items).toBe(2);
    expect(plan.deletedItems?.accounts.map((account) => account.name)).toEqual(['alice']);
    expect(plan.deletedItems?.accounts[0]?.snapshots.map((s) => s.items)).toEqual([1, 1]);
    expect((await files()).sort()).toEqual(before);
    const text = await ws.run(['forget', '--dry-run']);
    expect(text.stdout).toMatch(
      /^deleted items: 2 item\(s\) gone from the server before .* would leave 2 kept snapshot\(s\)$/m,
    );
  });

  it('writes the old snapshots again without the item deleted 100 days ago, and prune frees it', async () => {
    // What the deleted message is made of, read from its oldest snapshot before anything goes.
    let goneObjects: string[] = [];
    {
      const { repository, close } = await open();
      const snapshot = await repository.loadSnapshot(oldAlice.get(120) ?? '');
      const tree = await readAccountTree(repository, snapshot.tree);
      const inbox = tree.folders.find((folder) => folder.path === 'INBOX');
      const entries = await readAllEntries(repository, inbox?.listing ?? null);
      const entry = entries.find((e) => e.sha256 === sha256(gone as FixtureMessage));
      if (!entry) throw new Error('the deleted message is not in the oldest snapshot');
      const manifest = await readManifest(repository, entry.manifest);
      const body = manifest.body ? await readBody(repository, manifest.body) : null;
      goneObjects = [
        entry.manifest,
        manifest.header,
        ...(body?.segments.flatMap((segment) => (segment.t === 'l' ? [] : segment.chunks)) ?? []),
      ];
      await close();
    }
    expect(goneObjects.length).toBeGreaterThanOrEqual(3);

    // A prune elsewhere holds the repository's lock: forget refuses, naming it, and writes nothing.
    const lock = Buffer.from(
      JSON.stringify({
        version: 1,
        id: 'elsewhere-1',
        command: 'prune',
        host: 'backup2.example.com',
        pid: 4242,
        since: new Date().toISOString(),
        time: new Date().toISOString(),
      }),
    );
    const lockName = createHash('sha256').update(lock).digest('hex');
    await mkdir(join(ws.repository, 'locks'), { recursive: true });
    await writeFile(join(ws.repository, 'locks', lockName), lock);
    const snapshotsBefore = (await readdir(join(ws.repository, 'snapshots'))).sort();
    const refused = await ws.run(['forget']);
    expect(refused.code, shown(refused)).toBe(1);
    expect(refused.stderr).toMatch(/locked by prune on backup2\.example\.com \(pid 4242\)/);
    expect((await readdir(join(ws.repository, 'snapshots'))).sort()).toEqual(snapshotsBefore);
    await rm(join(ws.repository, 'locks', lockName));

    const result = await ws.run(['forget', '--json']);
    expect(result.code, shown(result)).toBe(0);
    expect(await readdir(join(ws.repository, 'locks'))).toEqual([]);
    const outcome = result.json<ForgetJson>();
    expect(outcome.deletedItems?.items).toBe(2);
    expect(outcome.snapshotFilesRewritten).toBe(2);

    // Every snapshot is still there; the two old ones under new ids that name what they replace.
    {
      const { repository, close } = await open();
      const alice: Snapshot[] = [];
      const ids = new Set<string>();
      let aliceInRunFiles = 0;
      for await (const { id, snapshot, runFile } of repository.snapshots()) {
        ids.add(id);
        if (snapshot.name !== 'alice') continue;
        alice.push(snapshot);
        if (runFile) aliceInRunFiles++;
      }
      expect(alice).toHaveLength(6);
      const rewritten = alice.filter((snapshot) => snapshot.rewritten);
      expect(rewritten.map((snapshot) => snapshot.rewritten?.items)).toEqual([1, 1]);
      expect(ids.has(oldAlice.get(120) ?? '')).toBe(false);
      expect(ids.has(oldAlice.get(100) ?? '')).toBe(true);
      // The run file's entry was replaced by a snapshot file of its own.
      expect(aliceInRunFiles).toBe(0);
      await close();
    }

    // Restored as of 115 days ago: everything but the message deleted 100 days ago.
    const at = new Date(Date.now() - 115 * DAY).toISOString();
    const restore = await ws.run([
      'restore',
      'account',
      'alice',
      '--at',
      at,
      '--to-account',
      'restored',
      '--json',
    ]);
    expect(restore.code, shown(restore)).toBe(0);
    const restored = await readAccount(server, 'restored');
    const inbox = restored.folders.find((folder) => folder.path === 'INBOX');
    expect(inbox?.messages.map((m) => m.sha256).sort()).toEqual(
      [recent, stays, moved].map((m) => sha256(m as FixtureMessage)).sort(),
    );

    // Deleted 10 days ago: still found among deleted items, and restorable; gone: not found.
    const deleted = await search('--deleted', '--account', 'alice');
    expect(subjects(deleted)).toEqual(['recent message 0']);
    expect(subjects(await search('--subject', 'gone'))).toEqual([]);
    const item = await ws.run(['restore', 'item', deleted[0]?.key ?? '', '--json']);
    expect(item.code, shown(item)).toBe(0);
    // Bob is under legal hold: his message deleted 100 days ago stays.
    expect(subjects(await search('--deleted', '--account', 'bob'))).toEqual(['held message 0']);

    // Prune: the first condemns (and repacks what is partly needed), the second deletes.
    const before = await folderBytes(join(ws.repository, 'data'));
    for (let i = 0; i < 2; i++) {
      const prune = await ws.run(['prune', '--grace', '0s']);
      expect(prune.code, shown(prune)).toBe(0);
    }
    const after = await folderBytes(join(ws.repository, 'data'));
    expect(before - after).toBeGreaterThan(600_000);
    {
      const { repository, close } = await open();
      for (const id of goneObjects)
        expect(repository.index.has(Buffer.from(id, 'hex'))).toBe(false);
      await close();
    }
    const check = await ws.run(['check', '--read-data']);
    expect(check.code, shown(check)).toBe(0);
    const again = await ws.run(['restore', 'item', deleted[0]?.key ?? '', '--json']);
    expect(again.code, shown(again)).toBe(0);
  }, 180_000);
});
