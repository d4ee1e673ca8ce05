// What a restore must bring back exactly, against real Dovecot servers: subscriptions of folders
// the restore finds rather than creates (INBOX above all), and which of two byte-identical
// messages with different flags is the one missing.
import { createHash } from 'node:crypto';
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

/** Appends messages as literal8 (`~{n+}`), the only way NUL bytes travel (RFC 3516). */
async function appendBinary(
  server: DovecotServer,
  user: string,
  folder: string,
  messages: readonly Buffer[],
): Promise<void> {
  const client = await RawImap.connect({ host: server.host, port: server.port });
  try {
    await client.ok(
      `LOGIN ${quoted(`${user}*${server.master.user}`)} ${quoted(server.master.password)}`,
    );
    const created = await client.command(`CREATE ${quoted(folder)}`);
    if (created.status !== 'OK' && !created.text.includes('ALREADYEXISTS'))
      throw new Error(`CREATE ${folder}: ${created.text}`);
    for (const raw of messages)
      await client.ok(`APPEND ${quoted(folder)} () ~{${raw.length}+}\r\n`, raw);
  } finally {
    await client.logout();
  }
}

/** Each message of a folder as BINARY[] gives it (NUL bytes included), in UID order. */
async function binaryBodies(
  server: DovecotServer,
  user: string,
  folder: string,
): Promise<Buffer[]> {
  const client = await RawImap.connect({ host: server.host, port: server.port });
  try {
    await client.ok(
      `LOGIN ${quoted(`${user}*${server.master.user}`)} ${quoted(server.master.password)}`,
    );
    await client.ok(`EXAMINE ${quoted(folder)}`);
    const fetched = await client.ok('UID FETCH 1:* (BINARY.PEEK[])');
    return fetched.untagged.flatMap((response) => response.literals);
  } finally {
    await client.logout();
  }
}

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');
/** A plain 7-bit message with NUL bytes in its body. */
const withNul = latin1(
  'Message-ID: <nul-1@example.com>\r\nSubject: nul\r\n\r\nbefore\0after\0\r\n',
);
/** 8-bit UTF-8 (’ is E2 80 99): 0x80 inside UTF-8, nothing to ask again. */
const utf8 = Buffer.from(
  'Message-ID: <nul-2@example.com>\r\nSubject: utf8\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nit’s fine\r\n',
);
/** windows-1252 € is 0x80: asked again with BINARY, which gives the same bytes. */
const euro = latin1(
  'Message-ID: <nul-3@example.com>\r\nSubject: euro\r\nContent-Type: text/plain; charset=windows-1252\r\n\r\n5 \x80\r\n',
);
/** NUL in one part, base64 in another: BINARY[] decodes the other part, so NUL cannot be proved. */
const mixed = latin1(
  'Message-ID: <nul-4@example.com>\r\nSubject: mixed\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nnul\0here\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--b--\r\n',
);

interface Warning {
  folder?: string;
  item?: string;
  reason: string;
}

describe.skipIf(!haveDovecot)('messages holding NUL bytes', () => {
  let server: DovecotServer;
  let plain: DovecotServer;
  let ws: Workspace;
  let wsPlain: Workspace;

  beforeAll(async () => {
    server = await startDovecot({ users: { alice: 'a', carol: 'c' } });
    // A server that does not offer BINARY: it cannot send NUL bytes, nor take them.
    plain = await startDovecot({ users: { bob: 'b' }, binary: false });
    ws = await createWorkspace(server, { accounts: ['alice'] });
    wsPlain = await createWorkspace(plain, { accounts: ['bob'] });
    await appendBinary(server, 'alice', 'Odd', [withNul, utf8, euro, mixed]);
    await appendBinary(plain, 'bob', 'Odd', [withNul, utf8]);
    expect((await ws.run(['init', '--scrypt-cost', '12'])).code).toBe(0);
    expect((await wsPlain.run(['init', '--scrypt-cost', '12'])).code).toBe(0);
  });

  afterAll(async () => {
    await server?.stop();
    await plain?.stop();
    await ws?.remove();
    await wsPlain?.remove();
  });

  it('backs up a message with NUL bytes byte for byte where the server has BINARY', async () => {
    const backup = await ws.run(['backup', '--json']);
    expect(backup.code, shown(backup)).toBe(0);
    // The message whose NUL bytes BINARY could not prove is named; the others are exact.
    const warnings = backup.json<{ warnings: Warning[] }>().warnings;
    expect(warnings.map((w) => [w.folder, w.item])).toEqual([['Odd', 'UID 4']]);
    expect(warnings[0]?.reason).toMatch(/NUL bytes the server sent as 0x80/);
    for (const [subject, raw] of [
      ['nul', withNul],
      ['utf8', utf8],
      ['euro', euro],
    ] as const) {
      const found = (
        await ws.run(['search', '--account', 'alice', '--subject', subject, '--json'])
      ).json<Array<{ key: string }>>();
      expect(found, subject).toHaveLength(1);
      const item = await ws.run(['show', found[0]?.key ?? '', '--json']);
      expect(item.json<{ sha256: string; size: number }>(), subject).toMatchObject({
        sha256: createHash('sha256').update(raw).digest('hex'),
        size: raw.length,
      });
    }
  });

  it('restores it with literal8, and recognises it when run again', async () => {
    const restore = await ws.run([
      'restore',
      'account',
      'alice',
      '--to-account',
      'carol',
      '--json',
    ]);
    expect(restore.code, shown(restore)).toBe(0);
    const bodies = await binaryBodies(server, 'carol', 'Odd');
    expect(bodies[0]?.equals(withNul)).toBe(true);
    expect(bodies[1]?.equals(utf8)).toBe(true);
    expect(bodies[2]?.equals(euro)).toBe(true);
    const again = await ws.run(['restore', 'account', 'alice', '--to-account', 'carol', '--json']);
    expect(again.code, shown(again)).toBe(0);
    expect(again.json<{ totals: { restored: number } }>().totals.restored).toBe(0);
  });

  it('says where a server without BINARY may have altered a message, and refuses to restore NUL bytes into it', async () => {
    const backup = await wsPlain.run(['backup', '--json']);
    expect(backup.code, shown(backup)).toBe(0);
    const warnings = backup.json<{ warnings: Warning[] }>().warnings;
    expect(warnings.map((w) => [w.folder, w.item])).toEqual([['Odd', 'UID 1']]);
    expect(warnings[0]?.reason).toMatch(/does not offer BINARY/);
    expect(backup.stdout).not.toMatch(/UID 2/);

    // alice's backup (exact, from the BINARY server) restored into the server without it.
    await writeFile(join(ws.dir, 'plain.pass'), `${plain.master.password}\n`);
    await writeFile(
      ws.config,
      (await readFile(ws.config, 'utf8')).replace(
        /^(servers:\n)/m,
        `$1  - name: plain\n    imap: { host: ${plain.host}, port: ${plain.port}, tls: none, auth: { mode: authzid, user: ${plain.master.user}, passwordFile: ${join(ws.dir, 'plain.pass')} } }\n    accounts: { list: [bob] }\n`,
      ),
    );
    const restore = await ws.run([
      'restore',
      'account',
      'alice',
      '--source',
      'mail1',
      '--folder',
      'Odd',
      '--to-server',
      'plain',
      '--to-account',
      'bob',
      '--into-folder',
      'From alice',
      '--json',
    ]);
    expect(restore.code, shown(restore)).toBe(3);
    const report = restore.json<{
      totals: { restored: number; failed: number };
      failures: Array<{ uid?: number; reason: string }>;
    }>();
    expect(report.totals).toMatchObject({ restored: 3, failed: 1 });
    expect(report.failures).toEqual([
      expect.objectContaining({
        uid: 1,
        reason: expect.stringMatching(/holds NUL bytes.*does not offer BINARY/),
      }),
    ]);
  });
});
