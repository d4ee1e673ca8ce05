// What a restore must bring back exactly, against real Dovecot servers: subscriptions of folders
// the restore finds rather than creates (INBOX above all), and which of two byte-identical
// messages with different flags is the one missing.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox, readAccount, withImap, type AccountState } from '../support/imap-fixture.js';
import { RawImap, quoted } from '../support/raw-imap.js';
import { createWorkspace, shown, type Workspace } from '../support/workspace.js';

const message = (n: number, body = `body ${n}`): Buffer =>
  Buffer.from(
    `Message-ID: <fidelity-${n}@example.com>\r\nFrom: sender@example.org\r\nSubject: message ${n}\r\n\r\n${body}\r\n`,
  );

/** Which folders are subscribed, by the server's own LSUB (not through any client library). */
async function subscribedFolders(server: DovecotServer, user: string): Promise<string[]> {
  const client = await RawImap.connect({ host: server.host, port: server.port });
  try {
    await client.ok(
      `LOGIN ${quoted(`${user}*${server.master.user}`)} ${quoted(server.master.password)}`,
    );
    const { untagged } = await client.ok('LSUB "" "*"');
    return untagged
      .map((response) => /^\* LSUB \([^)]*\) (?:NIL|"[^"]*") "?([^"]*)"?$/i.exec(response.text))
      .filter((match) => match !== null)
      .map((match) => match[1] ?? '')
      .sort();
  } finally {
    await client.logout();
  }
}

/** Adds a provisioning command that puts new users in the server's passwd-file. */
async function withProvisioning(workspace: Workspace, server: DovecotServer): Promise<void> {
  const provisioning = `    provisioning: { command: "printf '%s:{PLAIN}newpw\\\\n' {account} >> ${join(server.dir, 'users')}" }`;
  await writeFile(
    workspace.config,
    (await readFile(workspace.config, 'utf8')).replace(
      /( {4}accounts: \{[^\n]*\n)/,
      `$1${provisioning}\n`,
    ),
  );
}

const flagsOf = (state: AccountState, folder: string): string[][] =>
  (state.folders.find((f) => f.path === folder)?.messages ?? []).map((m) => m.flags).sort();

describe.skipIf(!haveDovecot)('restores bring back subscriptions and flags exactly', () => {
  let server: DovecotServer;
  let other: DovecotServer;
  let ws: Workspace;
  let elsewhere: Workspace;

  beforeAll(async () => {
    server = await startDovecot();
    // Another installation's server, empty: an external restore provisions its accounts.
    other = await startDovecot({ users: {} });
    ws = await createWorkspace(server, { accounts: ['alice', 'bob'] });
    elsewhere = await createWorkspace(other, { accounts: ['alice'] });
    await withProvisioning(ws, server);
    await withProvisioning(elsewhere, other);
    await fillMailbox(
      server,
      'alice',
      {
        INBOX: [message(1), message(2)].map((raw) => ({ raw, flags: ['\\Seen'] })),
        Projects: [{ raw: message(3) }],
        Later: [{ raw: message(4) }],
        // Two copies of the same bytes, told apart by their flags alone.
        Twins: [
          { raw: message(5), flags: ['\\Seen'] },
          { raw: message(5), flags: ['\\Flagged', '$Important'] },
        ],
      },
      { subscribe: ['INBOX', 'Projects'] },
    );
    // bob never subscribed to his INBOX: a restore must not subscribe it either.
    await fillMailbox(server, 'bob', { INBOX: [{ raw: message(6) }] });
    expect((await ws.run(['init', '--scrypt-cost', '12'])).code).toBe(0);
    const backup = await ws.run(['backup']);
    expect(backup.code, shown(backup)).toBe(0);
    expect((await elsewhere.run(['init', '--scrypt-cost', '12'])).code).toBe(0);
  });

  afterAll(async () => {
    await server?.stop();
    await other?.stop();
    await ws?.remove();
    await elsewhere?.remove();
  });

  it('subscribes INBOX and every other subscribed folder in a new account, and nothing more', async () => {
    const result = await ws.run([
      'restore',
      'account',
      'alice',
      '--to-account',
      'carol',
      '--create-account',
    ]);
    expect(result.code, shown(result)).toBe(0);
    // Sent and Trash are subscribed by the server's own configuration (auto = subscribe).
    expect(await subscribedFolders(server, 'carol')).toEqual([
      'INBOX',
      'Projects',
      'Sent',
      'Trash',
    ]);
    const copy = await ws.run([
      'restore',
      'account',
      'bob',
      '--to-account',
      'dave',
      '--create-account',
    ]);
    expect(copy.code, shown(copy)).toBe(0);
    expect(await subscribedFolders(server, 'dave')).toEqual(['Sent', 'Trash']);
  });

  it('subscribes again a folder it finds unsubscribed in the account itself', async () => {
    await withImap(server, 'alice', async (client) => {
      await client.mailboxUnsubscribe('INBOX');
      await client.mailboxUnsubscribe('Projects');
    });
    expect(await subscribedFolders(server, 'alice')).toEqual(['Sent', 'Trash']);
    const result = await ws.run(['restore', 'account', 'alice', '--json']);
    expect(result.code, shown(result)).toBe(0);
    expect(await subscribedFolders(server, 'alice')).toEqual([
      'INBOX',
      'Projects',
      'Sent',
      'Trash',
    ]);
  });

  it('subscribes INBOX in an external restore into another installation', async () => {
    const result = await elsewhere.run([
      'restore',
      'external',
      '--repo',
      ws.repository,
      '--password-file',
      join(ws.dir, 'repo.pass'),
      '--account',
      'alice',
      'bob',
    ]);
    expect(result.code, shown(result)).toBe(0);
    expect(await subscribedFolders(other, 'alice')).toEqual(['INBOX', 'Projects', 'Sent', 'Trash']);
    expect(await subscribedFolders(other, 'bob')).toEqual(['Sent', 'Trash']);
  });

  it('adds back the expunged copy of two identical messages with the flags that copy had', async () => {
    // The \Seen copy goes; the \Flagged one stays.
    await withImap(server, 'alice', async (client) => {
      await client.mailboxOpen('Twins');
      await client.messageDelete('1');
    });
    expect(flagsOf(await readAccount(server, 'alice'), 'Twins')).toEqual([
      ['$Important', '\\Flagged'],
    ]);
    const result = await ws.run(['restore', 'account', 'alice', '--folder', 'Twins', '--json']);
    expect(result.code, shown(result)).toBe(0);
    expect(
      result.json<{ totals: { restored: number; alreadyPresent: number } }>().totals,
    ).toMatchObject({
      restored: 1,
      alreadyPresent: 1,
    });
    expect(flagsOf(await readAccount(server, 'alice'), 'Twins')).toEqual([
      ['$Important', '\\Flagged'],
      ['\\Seen'],
    ]);
  });

  it('leaves a copy whose flags changed since the backup as it is, without a second one', async () => {
    await withImap(server, 'alice', async (client) => {
      await client.mailboxOpen('Later');
      await client.messageFlagsAdd('1', ['\\Answered']);
    });
    const result = await ws.run(['restore', 'account', 'alice', '--folder', 'Later', '--json']);
    expect(result.code, shown(result)).toBe(0);
    expect(
      result.json<{ totals: { restored: number; alreadyPresent: number } }>().totals,
    ).toMatchObject({
      restored: 0,
      alreadyPresent: 1,
    });
    expect(flagsOf(await readAccount(server, 'alice'), 'Later')).toEqual([['\\Answered']]);
  });
});
