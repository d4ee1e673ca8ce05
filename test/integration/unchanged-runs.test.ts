// Backup runs that find accounts unchanged, against a real Dovecot: they write one run file
// instead of a snapshot file per account, and every reader treats what it records as snapshots:
// `snapshots` lists them, `search --deleted` knows a message was still there at the unchanged
// run, `catalog rebuild` finds them again, `restore --at` restores at their time, `check` walks
// them, and `copy` sends them (byte for byte, or in part for some accounts) without duplicates.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import {
  fillMailbox,
  readAccount,
  withImap,
  type AccountState,
  mailOf,
} from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import {
  configYaml,
  createWorkspace,
  runCli,
  type Workspace,
  shown,
} from '../support/workspace.js';
import { writeFile } from 'node:fs/promises';

interface BackupJson {
  storageRequests: { save: number };
  accounts: Array<{ account: string; snapshot: string; unchanged: boolean }>;
}

interface SnapshotRow {
  id: string;
  account: string;
  time: string;
  items: number;
}

interface SearchHit {
  subject: string;
  lastSeen: string;
}

async function filesIn(repository: string, folder: string): Promise<string[]> {
  return (await readdir(join(repository, folder))).filter((name) => /^[0-9a-f]{64}$/.test(name));
}

describe.skipIf(!haveDovecot)('backup runs that find accounts unchanged', () => {
  let server: DovecotServer;
  let ws: Workspace;
  let aliceAtFirst: AccountState;
  const runs: BackupJson[] = [];

  const backup = async (): Promise<BackupJson> => {
    const result = await ws.run(['backup', '--json']);
    expect(result.code, shown(result)).toBe(0);
    const report = result.json<BackupJson>();
    runs.push(report);
    return report;
  };
  const snapshots = async (config = ws.config): Promise<SnapshotRow[]> => {
    const result = await runCli(config, ['snapshots', '--json']);
    expect(result.code, shown(result)).toBe(0);
    return result.json<SnapshotRow[]>();
  };

  beforeAll(async () => {
    server = await startDovecot({ users: { alice: 'a', bob: 'b', restored: 'r', copy: 'c' } });
    await fillMailbox(server, 'alice', {
      INBOX: generateMessages({ tag: 'unchanged-alice', count: 20 }),
    });
    await fillMailbox(server, 'bob', {
      INBOX: generateMessages({ tag: 'unchanged-bob', count: 10 }),
    });
    aliceAtFirst = await readAccount(server, 'alice');
    ws = await createWorkspace(server, { accounts: ['alice', 'bob'] });
    const init = await ws.run(['init', '--scrypt-cost', '10']);
    expect(init.code, shown(init)).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await ws?.remove();
  });

  it('records a run with no change in one run file, and lists what it records', async () => {
    const first = await backup();
    expect(first.accounts.map((a) => a.unchanged)).toEqual([false, false]);
    const second = await backup();
    expect(second.accounts.map((a) => a.unchanged)).toEqual([true, true]);
    // One file written for the whole run: no pack, no index, no snapshot file.
    expect(second.storageRequests.save).toBe(1);
    expect(await filesIn(ws.repository, 'snapshots')).toHaveLength(2);
    expect(await filesIn(ws.repository, 'runs')).toHaveLength(1);

    const rows = await snapshots();
    expect(rows).toHaveLength(4);
    const ids = rows.map((row) => row.id);
    for (const account of second.accounts) expect(ids).toContain(account.snapshot);
    const alice = rows.filter((row) => row.account === 'alice');
    expect(alice.map((row) => row.items)).toEqual([20, 20]);
  });

  it('knows a message deleted after an unchanged run was there at that run', async () => {
    const unchangedAt = (await snapshots()).filter((row) => row.account === 'alice')[1]?.time;
    await withImap(server, 'alice', async (client) => {
      const lock = await client.getMailboxLock('INBOX');
      try {
        await client.messageDelete('1', { uid: true });
      } finally {
        lock.release();
      }
    });
    const third = await backup();
    expect(third.accounts.map((a) => [a.account, a.unchanged])).toEqual([
      ['alice', false],
      ['bob', true],
    ]);
    const searchDeleted = async (): Promise<SearchHit[]> => {
      const result = await ws.run(['search', '--account', 'alice', '--deleted', '--json']);
      expect(result.code, shown(result)).toBe(0);
      return result.json<SearchHit[]>();
    };
    const hits = await searchDeleted();
    expect(hits).toHaveLength(1);
    // Last seen at the unchanged run, not at the first one.
    expect(hits[0]?.lastSeen).toBe(unchangedAt);

    // The catalog, thrown away and rebuilt from the repository, knows the same.
    const before = await snapshots();
    const rebuild = await ws.run(['catalog', 'rebuild']);
    expect(rebuild.code, shown(rebuild)).toBe(0);
    expect(await snapshots()).toEqual(before);
    expect(await searchDeleted()).toEqual(hits);

    // Restored at the unchanged run's time: the message deleted since is there.
    const restore = await ws.run([
      'restore',
      'account',
      'alice',
      '--at',
      unchangedAt ?? '',
      '--to-account',
      'restored',
    ]);
    expect(restore.code, shown(restore)).toBe(0);
    expect(mailOf(await readAccount(server, 'restored'))).toEqual(mailOf(aliceAtFirst));

    const check = await ws.run(['check', '--read-data']);
    expect(check.code, shown(check)).toBe(0);
  });

  it('copies what run files record, in part for some accounts, then the rest, once', async () => {
    const destination = join(ws.dir, 'offsite');
    await writeFile(join(ws.dir, 'offsite.pass'), 'offsite passphrase\n');
    const copy = async (...args: string[]): Promise<{ copied: number; skipped: number }> => {
      const result = await ws.run([
        'copy',
        '--to',
        destination,
        '--to-password-file',
        join(ws.dir, 'offsite.pass'),
        '--json',
        ...args,
      ]);
      expect(result.code, shown(result)).toBe(0);
      return result.json<{ snapshots: { copied: number; skipped: number } }>().snapshots;
    };
    // bob: a snapshot file and two unchanged entries, from the two run files.
    expect(await copy('--account', 'bob')).toMatchObject({ copied: 3, skipped: 0 });
    expect(await copy()).toMatchObject({ copied: 3, skipped: 3 });
    expect(await copy()).toMatchObject({ copied: 0, skipped: 6 });

    const config = join(ws.dir, 'offsite.yml');
    await writeFile(
      config,
      configYaml(server, ws.dir, { accounts: ['alice', 'bob'], repository: { url: destination } })
        .replace(join(ws.dir, 'repo.pass'), join(ws.dir, 'offsite.pass'))
        .replace(join(ws.dir, 'catalog.sqlite'), join(ws.dir, 'offsite.sqlite')),
    );
    expect(await snapshots(config)).toEqual(await snapshots());
    const check = await runCli(config, ['check', '--read-data']);
    expect(check.code, shown(check)).toBe(0);
  });
});
