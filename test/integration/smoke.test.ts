import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusMessages } from '../support/corpus.js';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox, readAccount } from '../support/imap-fixture.js';
import { createWorkspace, type Workspace } from '../support/workspace.js';

describe.skipIf(!haveDovecot)('smoke', () => {
  let server: DovecotServer;
  let ws: Workspace;
  beforeAll(async () => {
    server = await startDovecot();
    ws = await createWorkspace(server, { accounts: ['alice'] });
  });
  afterAll(async () => {
    await server?.stop();
  });
  it('backs up and restores', async () => {
    const messages = corpusMessages()
      .filter((m) => m.raw.length > 0)
      .slice(0, 60);
    await fillMailbox(server, 'alice', {
      INBOX: messages.slice(0, 20).map((m) => ({ raw: m.raw, flags: ['\\Seen'] })),
      'Archive/2024': messages.slice(20, 40).map((m) => ({
        raw: m.raw,
        flags: ['$Label1'],
        internalDate: new Date('2024-03-05T10:00:00Z'),
      })),
      Sent: messages.slice(40).map((m) => ({ raw: m.raw })),
    });
    const before = await readAccount(server, 'alice');
    let r = await ws.run(['init', '--scrypt-cost', '12']);
    console.log(r.code, r.stdout, r.stderr);
    r = await ws.run(['backup']);
    console.log(r.code, r.stdout, r.stderr);
    r = await ws.run(['backup', '--json']);
    console.log(r.code, r.stdout.slice(0, 600), r.stderr);
    r = await ws.run(['snapshots']);
    console.log(r.code, r.stdout, r.stderr);
    r = await ws.run(['ls', 'alice']);
    console.log(r.code, r.stdout, r.stderr);
    r = await ws.run(['ls', 'alice', 'Archive/2024']);
    console.log(r.code, r.stdout.slice(0, 800), r.stderr);
    await server.doveadm('mailbox', 'delete', '-u', 'alice', '-s', 'Archive/2024');
    await server.doveadm('expunge', '-u', 'alice', 'mailbox', 'INBOX', 'all');
    r = await ws.run(['restore', 'account', 'alice']);
    console.log(r.code, r.stdout, r.stderr);
    r = await ws.run(['restore', 'account', 'alice']);
    console.log(r.code, r.stdout, r.stderr);
    const after = await readAccount(server, 'alice');
    expect(after).toEqual(before);
    r = await ws.run(['check', '--read-data']);
    console.log(r.code, r.stdout, r.stderr);
    r = await ws.run(['stats']);
    console.log(r.code, r.stdout, r.stderr);
  });
});
