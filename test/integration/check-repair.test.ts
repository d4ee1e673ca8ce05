// check --repair against a real Dovecot: a pack of message content is damaged on disk; check
// names the damaged messages; --repair drops the damaged objects from the index and marks their
// folders; the next backup reads those folders whole and stores the messages again; then the
// whole repository, old snapshot included, checks out and restores the same mail.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox, readAccount, mailOf } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { contentPacks } from '../support/repository-files.js';
import { createWorkspace, type Workspace, shown } from '../support/workspace.js';

interface CheckJson {
  ok: boolean;
  warnings: string[];
  damagedItems: Array<{ account: string; folder: string; uid: number | null }>;
  repair?: {
    objectsDropped: number;
    packsRewritten: number;
    objectsRewritten: number;
    indexFilesSuperseded: number;
    folders: Array<{ account: string; folder: string }>;
  } | null;
}

describe.skipIf(!haveDovecot)('check --repair', () => {
  let server: DovecotServer;
  let ws: Workspace;

  beforeAll(async () => {
    server = await startDovecot({ users: { alice: 'a', copy: 'c' } });
    await fillMailbox(server, 'alice', {
      INBOX: generateMessages({ tag: 'repair-inbox', count: 30, largeEvery: 3 }),
      Archive: generateMessages({ tag: 'repair-archive', count: 10 }),
    });
    ws = await createWorkspace(server, { accounts: ['alice'] });
    expect((await ws.run(['init', '--scrypt-cost', '10'])).code).toBe(0);
    const backup = await ws.run(['backup']);
    expect(backup.code, shown(backup)).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await ws?.remove();
  });

  it('makes the next backup store again what a damaged pack held, healing old snapshots', async () => {
    const passphrase = (await readFile(join(ws.dir, 'repo.pass'), 'utf8')).trim();
    const [victim] = await contentPacks(ws.repository, passphrase);
    if (!victim) throw new Error('no pack of message content');
    const path = join(ws.repository, 'data', victim.slice(0, 2), victim);
    const bytes = await readFile(path);
    for (let at = 100; at < bytes.length - 200; at += 4096) bytes[at] = (bytes[at] ?? 0) ^ 0xff;
    await writeFile(path, bytes);

    const found = await ws.run(['check', '--read-data', '--json']);
    expect(found.code, shown(found)).toBe(1);
    const damaged = found.json<CheckJson>().damagedItems;
    expect(damaged.length).toBeGreaterThan(0);

    const repaired = await ws.run(['check', '--read-data', '--repair', '--json']);
    expect(repaired.code, shown(repaired)).toBe(1);
    const repair = repaired.json<CheckJson>().repair;
    expect(repair?.objectsDropped).toBeGreaterThan(0);
    expect(repair?.folders.map((f) => f.folder).sort()).toEqual(
      [...new Set(damaged.map((item) => item.folder))].sort(),
    );

    const backup = await ws.run(['backup', '--json']);
    expect(backup.code, shown(backup)).toBe(0);
    expect(backup.json<{ totals: { bytesAdded: number } }>().totals.bytesAdded).toBeGreaterThan(0);

    // Both snapshots check out: the messages went back under the ids the first one needs.
    const check = await ws.run(['check', '--read-data', '--json']);
    expect(check.code, shown(check)).toBe(0);
    expect(check.json<CheckJson>().damagedItems).toEqual([]);
    const snapshots = await ws.run(['snapshots', '--json']);
    const [first] = snapshots.json<Array<{ time: string }>>();
    const restore = await ws.run([
      'restore',
      'account',
      'alice',
      '--at',
      first?.time ?? '',
      '--to-account',
      'copy',
    ]);
    expect(restore.code, shown(restore)).toBe(0);
    expect(mailOf(await readAccount(server, 'copy'))).toEqual(
      mailOf(await readAccount(server, 'alice')),
    );
    // The repair is done: the backup after reads nothing again.
    const again = await ws.run(['backup', '--json']);
    expect(again.json<{ totals: { bytesRead: number } }>().totals.bytesRead).toBe(0);
    expect((await readdir(join(ws.repository, 'index'))).length).toBeGreaterThan(0);
  });

  it('copies the intact objects of a pack with one damaged object into a new pack, so the repository checks out again', async () => {
    const passphrase = (await readFile(join(ws.dir, 'repo.pass'), 'utf8')).trim();
    const [victim] = await contentPacks(ws.repository, passphrase);
    if (!victim) throw new Error('no pack of message content');
    const path = join(ws.repository, 'data', victim.slice(0, 2), victim);
    const bytes = await readFile(path);
    // One byte in the middle: one object of many (the header is at the end).
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
    await writeFile(path, bytes);

    const repaired = await ws.run(['check', '--read-data', '--repair', '--json']);
    expect(repaired.code, shown(repaired)).toBe(1);
    const repair = repaired.json<CheckJson>().repair;
    expect(repair?.objectsDropped).toBe(1);
    expect(repair?.packsRewritten).toBe(1);
    expect(repair?.objectsRewritten).toBeGreaterThan(0);

    const backup = await ws.run(['backup', '--json']);
    expect(backup.code, shown(backup)).toBe(0);
    // The damaged pack is in no index now: read no more, a warning until prune deletes it.
    const check = await ws.run(['check', '--read-data', '--json']);
    expect(check.code, shown(check)).toBe(0);
    expect(check.json<CheckJson>().warnings.join('\n')).toContain('prune removes them');
    for (let run = 0; run < 2; run++) {
      const prune = await ws.run(['prune', '--grace', '0s']);
      expect(prune.code, shown(prune)).toBe(0);
    }
    await expect(readFile(path)).rejects.toThrow();
    const clean = await ws.run(['check', '--read-data', '--json']);
    expect(clean.code, shown(clean)).toBe(0);
    expect(clean.json<CheckJson>().warnings).toEqual([]);
    await server.doveadm('expunge', '-u', 'copy', 'mailbox', '*', 'all');
    const restore = await ws.run(['restore', 'account', 'alice', '--to-account', 'copy']);
    expect(restore.code, shown(restore)).toBe(0);
    expect(mailOf(await readAccount(server, 'copy'))).toEqual(
      mailOf(await readAccount(server, 'alice')),
    );
  });
});
