// Tests of the Dovecot harness itself, so that a failing integration test points at the
// product rather than at its test server.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusMessages, servedByDovecot } from './corpus.js';
import { haveDovecot, startDovecot } from './dovecot.js';
import type { DovecotServer } from './dovecot.js';
import { fillMailbox, readAccount, withImap } from './imap-fixture.js';
import type { FixtureMessage } from './imap-fixture.js';
import { RawImap } from './raw-imap.js';
import { assertBinaries, requireBinaries } from './servers.js';

function message(subject: string, body = 'Hello.\r\n'): Uint8Array {
  return Buffer.from(
    `From: a@example.org\r\nTo: b@example.org\r\nSubject: ${subject}\r\n` +
      `Message-ID: <${subject.replace(/\W/g, '')}@example.org>\r\n\r\n${body}`,
  );
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function portRefuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('server binaries', () => {
  const missing = { name: 'Nothing', path: '/nonexistent/nothing', debianPackage: 'nothing-pkg' };
  const ci = process.env.CI;
  afterAll(() => {
    if (ci === undefined) delete process.env.CI;
    else process.env.CI = ci;
  });

  it('skips suites outside CI and fails them under CI, naming the package', () => {
    process.env.CI = 'false';
    expect(requireBinaries(missing)).toBe(false);
    process.env.CI = 'true';
    // Under CI the suite runs, and the start function's assertion fails it.
    expect(requireBinaries(missing)).toBe(true);
    expect(() => assertBinaries(missing)).toThrow(/apt-get install -y nothing-pkg/);
    expect(requireBinaries({ ...missing, path: process.execPath })).toBe(true);
  });
});

describe.skipIf(!haveDovecot)('Dovecot harness', () => {
  let server: DovecotServer;

  beforeAll(async () => {
    server = await startDovecot();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('starts, greets, and stops removing its directory', async () => {
    const started = Date.now();
    const own = await startDovecot({ users: { carol: 'carolpw' } });
    const elapsed = Date.now() - started;
    console.log(`startDovecot took ${elapsed} ms`);
    const client = await RawImap.connect({ host: own.host, port: own.port });
    expect(client.greeting).toMatch(/^\* OK .*Dovecot/);
    await client.logout();
    expect(own.port).not.toBe(server.port);
    await own.stop();
    expect(existsSync(own.dir)).toBe(false);
    expect(await portRefuses(own.port)).toBe(true);
  });

  it('logs in as user*master and offers what backup and restore need', async () => {
    const capabilities = await withImap(server, 'alice', async (client) => [
      ...client.capabilities.keys(),
    ]);
    for (const capability of [
      'MULTIAPPEND',
      'LITERAL+',
      'UIDPLUS',
      'CONDSTORE',
      'QRESYNC',
      'SPECIAL-USE',
      'LIST-STATUS',
      'LIST-EXTENDED',
      'METADATA',
      'MOVE',
      'BINARY',
    ]) {
      expect(capabilities).toContain(capability);
    }
  });

  it('authorizes as another user with AUTHENTICATE PLAIN and an authzid', async () => {
    const client = new ImapFlow({
      host: server.host,
      port: server.port,
      secure: false,
      doSTARTTLS: false,
      logger: false,
      auth: {
        user: server.master.user,
        pass: server.master.password,
        authzid: 'alice',
        loginMethod: 'AUTH=PLAIN',
      },
    });
    await client.connect();
    await client.mailboxCreate('Via authzid');
    await client.logout();
    const alice = (await readAccount(server, 'alice')).folders.map((folder) => folder.path);
    const bob = (await readAccount(server, 'bob')).folders.map((folder) => folder.path);
    expect(alice).toContain('Via authzid');
    expect(bob).not.toContain('Via authzid');
  });

  it('adds and removes users while running', async () => {
    await server.addUser('dave', 'davepw');
    const client = await RawImap.connect({ host: server.host, port: server.port });
    expect((await client.command('LOGIN "dave" "davepw"')).status).toBe('OK');
    await client.logout();
    await server.removeUser('dave');
    const again = await RawImap.connect({ host: server.host, port: server.port });
    expect((await again.command('LOGIN "dave" "davepw"')).status).toBe('NO');
    await again.logout();
    // Same name and size as before within the same second: must still be noticed.
    await server.addUser('dave', 'davepw');
  });

  it('round-trips folders, flags, keywords and dates through fill and read', async () => {
    const date = new Date('2021-03-05T14:03:09Z');
    const folders: Record<string, FixtureMessage[]> = {
      INBOX: [
        { raw: message('one'), flags: ['\\Seen'], internalDate: date },
        { raw: message('two'), flags: ['\\Flagged', '\\Answered', '$Forwarded', 'custom_kw'] },
        { raw: message('three', 'bare\nLF\n'), flags: [] },
      ],
      Archive: [{ raw: message('archived'), flags: ['\\Seen', '\\Deleted'], internalDate: date }],
      'Projects/2024/Q1': [{ raw: message('nested'), flags: ['\\Draft'] }],
      'Grüße & Co': [{ raw: message('unicode') }],
      Sent: [],
    };
    await fillMailbox(server, 'bob', folders, { subscribe: ['Archive', 'Grüße & Co'] });
    const state = await readAccount(server, 'bob');
    const byPath = new Map(state.folders.map((folder) => [folder.path, folder]));
    expect([...byPath.keys()]).toEqual([
      'Archive',
      'Grüße & Co',
      'INBOX',
      'Projects/2024/Q1',
      'Sent',
      'Trash',
    ]);
    expect(byPath.get('Archive')).toMatchObject({
      delimiter: '/',
      specialUse: '\\Archive',
      subscribed: true,
    });
    expect(byPath.get('Sent')).toMatchObject({ specialUse: '\\Sent', subscribed: true });
    expect(byPath.get('Trash')).toMatchObject({ specialUse: '\\Trash', subscribed: true });
    expect(byPath.get('Projects/2024/Q1')).toMatchObject({ specialUse: null, subscribed: false });
    expect(byPath.get('Grüße & Co')?.subscribed).toBe(true);

    const inbox = byPath.get('INBOX')?.messages ?? [];
    expect(inbox).toHaveLength(3);
    const one = inbox.find((m) => m.sha256 === sha256(message('one')));
    expect(one).toMatchObject({ flags: ['\\Seen'], internalDate: '2021-03-05T14:03:09.000Z' });
    const two = inbox.find((m) => m.sha256 === sha256(message('two')));
    expect(two?.flags).toEqual(['$Forwarded', '\\Answered', '\\Flagged', 'custom_kw']);
    // Without a date the server uses the APPEND time.
    expect(Math.abs(Date.parse(two?.internalDate ?? '') - Date.now())).toBeLessThan(60_000);
    // Bare LFs are served as CRLF.
    const three = servedByDovecot(message('three', 'bare\nLF\n'));
    expect(inbox.find((m) => m.sha256 === sha256(three ?? Buffer.alloc(0)))?.size).toBe(
      three?.length,
    );
    expect(byPath.get('Archive')?.messages[0]?.flags).toEqual(['\\Deleted', '\\Seen']);
    // Reading changed nothing.
    expect(await readAccount(server, 'bob')).toEqual(state);
  });

  it('fills ~1,000 messages with MULTIAPPEND in a few seconds', async () => {
    const messages: FixtureMessage[] = [];
    for (let i = 0; i < 1000; i++) {
      messages.push({ raw: message(`bulk ${i}`, `Line\r\n`.repeat(40)), flags: ['\\Seen'] });
    }
    const started = Date.now();
    await fillMailbox(server, 'alice', { Bulk: messages });
    const elapsed = Date.now() - started;
    console.log(`1,000 messages appended in ${elapsed} ms`);
    expect(elapsed).toBeLessThan(5_000);
    const bulk = (await readAccount(server, 'alice')).folders.find((f) => f.path === 'Bulk');
    expect(bulk?.messages).toHaveLength(1000);
  });

  it('ignores a special-use a client asks for when creating a mailbox', async () => {
    // Dovecot 2.3 takes special-use only from its configuration: CREATE ... (USE (...)) is
    // accepted and ignored (no CREATE-SPECIAL-USE capability), SETMETADATA is refused.
    const client = await RawImap.connect({ host: server.host, port: server.port });
    await client.ok('LOGIN "alice*admin" "adminpw"');
    expect((await client.command('CREATE "Old mail" (USE (\\Archive))')).status).toBe('OK');
    const set = await client.command('SETMETADATA "Old mail" (/private/specialuse "\\\\Archive")');
    expect(set.status).toBe('NO');
    await client.logout();
    const folder = (await readAccount(server, 'alice')).folders.find((f) => f.path === 'Old mail');
    expect(folder?.specialUse).toBeNull();
  });

  it('runs doveadm against the instance', async () => {
    await fillMailbox(server, 'alice', { Admin: [{ raw: message('admin') }] });
    const out = await server.doveadm('mailbox', 'status', '-u', 'alice', 'messages', 'Admin');
    expect(out.trim()).toBe('Admin messages=1');
  });

  it('restarts on the same port with the same data, also after a SIGKILL', async () => {
    await fillMailbox(server, 'bob', { Durable: [{ raw: message('durable') }] });
    const before = await readAccount(server, 'bob');
    const port = server.port;
    await server.restart();
    expect(server.port).toBe(port);
    expect(await readAccount(server, 'bob')).toEqual(before);
    server.kill();
    await server.restart();
    expect(await readAccount(server, 'bob')).toEqual(before);
  });

  it('serves every corpus message as servedByDovecot predicts', async (context) => {
    const corpus = corpusMessages();
    if (corpus.length === 0) context.skip('no corpora at ../shared/corpora');
    const own = await startDovecot({ users: { corpus: 'corpuspw' } });
    try {
      const accepted = corpus.filter((entry) => servedByDovecot(entry.raw) !== null);
      await fillMailbox(own, 'corpus', { INBOX: accepted.map((entry) => ({ raw: entry.raw })) });
      const inbox = (await readAccount(own, 'corpus', { nul: 'served' })).folders.find(
        (f) => f.path === 'INBOX',
      );
      const served = (inbox?.messages ?? []).map((m) => m.sha256).sort();
      const predicted = accepted
        .map((entry) => sha256(servedByDovecot(entry.raw) ?? Buffer.alloc(0)))
        .sort();
      expect(served).toEqual(predicted);
      // Appending the served bytes again (what a restore does) follows the same rules, and
      // changes the messages that were served ending in CR once more.
      const once = accepted.map((entry) => servedByDovecot(entry.raw) ?? Buffer.alloc(0));
      await fillMailbox(own, 'corpus', { Restored: once.map((raw) => ({ raw })) });
      const restored = (await readAccount(own, 'corpus', { nul: 'served' })).folders.find(
        (f) => f.path === 'Restored',
      );
      const twice = once.map((raw) => servedByDovecot(raw) ?? Buffer.alloc(0));
      expect((restored?.messages ?? []).map((m) => m.sha256).sort()).toEqual(
        twice.map(sha256).sort(),
      );
      const changedAgain = once.filter((raw, i) => !raw.equals(twice[i] ?? Buffer.alloc(0)));
      expect(changedAgain.every((raw) => raw.at(-1) === 0x0d)).toBe(true);
      // And the one the model says is refused really is.
      const empty = corpus.find((entry) => entry.raw.length === 0);
      if (empty) {
        await expect(fillMailbox(own, 'corpus', { INBOX: [{ raw: empty.raw }] })).rejects.toThrow(
          /zero byte/,
        );
      }
    } finally {
      await own.stop();
    }
  });
});

describe.skipIf(!haveDovecot)('Dovecot harness options', () => {
  it('can leave out CONDSTORE and QRESYNC', async () => {
    const server = await startDovecot({ condstore: false });
    try {
      const capabilities = await withImap(server, 'alice', async (client) => [
        ...client.capabilities.keys(),
      ]);
      expect(capabilities).not.toContain('CONDSTORE');
      expect(capabilities).not.toContain('QRESYNC');
      expect(capabilities).toContain('MULTIAPPEND');
      expect(capabilities).toContain('SPECIAL-USE');
    } finally {
      await server.stop();
    }
  });

  it('listens with implicit TLS as well', async () => {
    const server = await startDovecot({ tls: true });
    try {
      expect(server.tlsPort).toBeTypeOf('number');
      const client = new ImapFlow({
        host: server.host,
        port: server.tlsPort,
        secure: true,
        tls: { rejectUnauthorized: false },
        logger: false,
        auth: { user: 'alice', pass: 'alicepw' },
      });
      await client.connect();
      expect(client.secureConnection).toBe(true);
      await client.mailboxOpen('INBOX');
      await client.logout();
    } finally {
      await server.stop();
    }
  });

  it("accepts '.' in mailbox names with layout 'fs'", async () => {
    const server = await startDovecot({ layout: 'fs' });
    try {
      await fillMailbox(server, 'alice', { 'v1.2/notes.txt': [{ raw: message('dotted') }] });
      const paths = (await readAccount(server, 'alice')).folders.map((f) => f.path);
      expect(paths).toContain('v1.2/notes.txt');
    } finally {
      await server.stop();
    }
  });
});
