// Incremental runs: only what changed travels, and each snapshot still records the whole account
// exactly. With CONDSTORE/QRESYNC an unchanged account costs a handful of commands whatever its
// number of folders; without them the UID/FLAGS comparison finds the same changes.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusMessages, servedByDovecot } from '../support/corpus.js';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import {
  fillMailbox,
  readAccount,
  withImap,
  type AccountState,
  type FixtureMessage,
} from '../support/imap-fixture.js';
import { configYaml, createWorkspace, type Workspace } from '../support/workspace.js';

interface BackupJson {
  imapCommands: number;
  storageRequests: { save: number; load: number; stat: number; list: number; remove: number };
  accounts: Array<{ unchanged: boolean }>;
  totals: { items: number; newItems: number; bytesRead: number; bytesAdded: number };
}

interface LsItem {
  sha256: string;
  flags: string[];
  internalDate: string;
}

const corpus = corpusMessages().filter((message) => servedByDovecot(message.raw) !== null);
const FOLDERS = Array.from({ length: 12 }, (_, i) => (i === 0 ? 'INBOX' : `Folder ${i}`));

function fixture(offset: number, count: number): FixtureMessage[] {
  return corpus.slice(offset, offset + count).map((message, i) => ({
    raw: message.raw,
    flags: i % 2 ? ['\\Seen'] : [],
    internalDate: new Date(Date.UTC(2020, 0, 1 + i)),
  }));
}

/** The catalog's view of every folder at the last snapshot, in readAccount's terms. */
async function catalogView(ws: Workspace, account: string): Promise<Record<string, string[]>> {
  const folders = (await ws.run(['ls', account, '--json'])).json<{
    folders: Array<{ path: string }>;
  }>().folders;
  const view: Record<string, string[]> = {};
  for (const folder of folders) {
    const items = (await ws.run(['ls', account, folder.path, '--json'])).json<{ items: LsItem[] }>()
      .items;
    view[folder.path] = items
      .map(
        (item) =>
          `${item.sha256} ${item.flags.join(',')} ${new Date(item.internalDate).toISOString()}`,
      )
      .sort();
  }
  return view;
}

function serverView(state: AccountState): Record<string, string[]> {
  return Object.fromEntries(
    state.folders.map((folder) => [
      folder.path,
      folder.messages.map((m) => `${m.sha256} ${m.flags.join(',')} ${m.internalDate}`).sort(),
    ]),
  );
}

async function changeAccount(server: DovecotServer): Promise<void> {
  await fillMailbox(server, 'alice', { INBOX: fixture(600, 5), 'New folder': fixture(610, 2) });
  await withImap(server, 'alice', async (client) => {
    await client.mailboxOpen('INBOX');
    const uids = (await client.search({ all: true }, { uid: true })) || [];
    await client.messageDelete(uids.slice(0, 3).join(','), { uid: true });
    await client.messageFlagsAdd(uids.slice(3, 5).join(','), ['\\Flagged', '$Important'], {
      uid: true,
    });
    await client.mailboxOpen('Folder 3');
    await client.messageFlagsSet('1:*', ['\\Answered']);
  });
}

for (const condstore of [true, false]) {
  describe.skipIf(!haveDovecot)(
    `incremental backups ${condstore ? 'with CONDSTORE/QRESYNC' : 'without CONDSTORE (UID/FLAGS comparison)'}`,
    () => {
      let server: DovecotServer;
      let ws: Workspace;

      beforeAll(async () => {
        server = await startDovecot({ condstore });
        ws = await createWorkspace(server, { accounts: ['alice'] });
        await fillMailbox(
          server,
          'alice',
          Object.fromEntries(FOLDERS.map((folder, i) => [folder, fixture(i * 40, 40)])),
        );
        expect((await ws.run(['init', '--scrypt-cost', '12'])).code).toBe(0);
      });
      afterAll(async () => {
        await server?.stop();
        await ws?.remove();
      });

      it('moves only what changed and records the account exactly', async () => {
        const first = await ws.run(['backup', '--json']);
        expect(first.code, first.stderr).toBe(0);
        expect(first.json<BackupJson>().totals.newItems).toBe(FOLDERS.length * 40);
        expect(await catalogView(ws, 'alice')).toEqual(
          serverView(await readAccount(server, 'alice')),
        );

        await changeAccount(server);
        const second = await ws.run(['backup', '--json']);
        expect(second.code, second.stderr).toBe(0);
        const totals = second.json<BackupJson>().totals;
        expect(totals.newItems).toBe(7);
        expect(totals.bytesRead).toBeLessThan(first.json<BackupJson>().totals.bytesRead / 10);
        expect(await catalogView(ws, 'alice')).toEqual(
          serverView(await readAccount(server, 'alice')),
        );
        // Two backups and two catalog views of 13 folders (a CLI process for each folder): about
        // 30 s on an idle machine, bounded but long, and past the default timeout under load.
      }, 180_000);

      it('reads no message on a run with no change', async () => {
        const run = await ws.run(['backup', '--json']);
        expect(run.code, run.stderr).toBe(0);
        const report = run.json<BackupJson>();
        expect(report.totals.newItems).toBe(0);
        expect(report.totals.bytesRead).toBe(0);
        // On a remote repository every request costs: a run with no change lists each kind it
        // reads once (keys, index, condemned, snapshots, runs) and writes one run file that
        // records the account unchanged (no pack, no index, no snapshot file), however many
        // folders it has.
        expect(report.storageRequests.list).toBeLessThanOrEqual(5);
        expect(report.storageRequests.save).toBe(1);
        expect(report.accounts.map((account) => account.unchanged)).toEqual([true]);
        expect(report.storageRequests.load).toBeLessThan(FOLDERS.length);
        if (condstore) {
          // Login, capability, namespace and enable, one LIST-STATUS for all 13 folders, one
          // LIST (SUBSCRIBED) for the subscriptions as the server states them, logout: the number
          // does not grow with the folders.
          expect(report.imapCommands).toBeLessThanOrEqual(9);
        } else {
          // Without CONDSTORE each folder needs its UID/FLAGS scan: SELECT and FETCH.
          expect(report.imapCommands).toBeGreaterThanOrEqual(2 * FOLDERS.length);
        }
      });
    },
  );
}

describe.skipIf(!haveDovecot)('a folder whose UIDVALIDITY changes', () => {
  let server: DovecotServer;
  let ws: Workspace;
  beforeAll(async () => {
    server = await startDovecot();
    ws = await createWorkspace(server, { accounts: ['alice'] });
    await fillMailbox(server, 'alice', { INBOX: fixture(0, 200) });
    expect((await ws.run(['init', '--scrypt-cost', '12'])).code).toBe(0);
  });
  afterAll(async () => {
    await server?.stop();
    await ws?.remove();
  });

  it('is read again but its content is not stored again', async () => {
    const first = (await ws.run(['backup', '--json'])).json<BackupJson>();
    await server.doveadm('mailbox', 'update', '-u', 'alice', '--uid-validity', '12345', 'INBOX');
    const run = await ws.run(['backup', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const second = run.json<BackupJson>();
    expect(second.totals.newItems).toBe(200);
    // Only the new listing and tree: a few kilobytes against the first run's mail.
    expect(second.totals.bytesAdded).toBeLessThan(first.totals.bytesAdded / 20);
    expect(await catalogView(ws, 'alice')).toEqual(serverView(await readAccount(server, 'alice')));
  });
});

describe.skipIf(!haveDovecot)('administrator logins', () => {
  let server: DovecotServer;
  beforeAll(async () => {
    server = await startDovecot();
    await fillMailbox(server, 'alice', { INBOX: fixture(0, 10) });
    await fillMailbox(server, 'bob', { INBOX: fixture(10, 10) });
  });
  afterAll(async () => {
    await server?.stop();
  });

  for (const auth of ['master', 'authzid'] as const) {
    it(`backs up every account through the ${auth} login`, async () => {
      const ws = await createWorkspace(server, { accounts: ['alice', 'bob'], auth });
      expect((await ws.run(['init', '--scrypt-cost', '12'])).code).toBe(0);
      const run = await ws.run(['backup', '--json']);
      expect(run.code, run.stderr).toBe(0);
      expect(run.json<BackupJson>().totals.items).toBe(20);
      await ws.remove();
    });
  }

  it('backs up accounts with their own passwords', async () => {
    const ws = await createWorkspace(server, { accounts: ['alice'] });
    await writeFile(join(ws.dir, 'alice.pass'), 'alicepw\n');
    await writeFile(join(ws.dir, 'bob.pass'), 'bobpw\n');
    const yaml = configYaml(server, ws.dir, { accounts: [] })
      .replace(/auth: \{[^}]*\}/, 'auth: { mode: per-account }')
      .replace(
        /accounts: \{ list: \[\] \}/,
        `accounts: { list: [{ name: alice, passwordFile: ${join(ws.dir, 'alice.pass')} }, { name: bob, passwordFile: ${join(ws.dir, 'bob.pass')} }] }`,
      );
    await writeFile(ws.config, yaml);
    expect((await ws.run(['init', '--scrypt-cost', '12'])).code).toBe(0);
    const run = await ws.run(['backup', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json<BackupJson>().totals.items).toBe(20);
    await ws.remove();
  });
});
