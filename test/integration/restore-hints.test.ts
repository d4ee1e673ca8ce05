// What a restore says when it cannot start, so the administrator knows what to do next: a
// restore into another account that the server does not know names --create-account.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { createWorkspace, shown, type Workspace } from '../support/workspace.js';

describe.skipIf(!haveDovecot)('restore hints', () => {
  let server: DovecotServer;
  let ws: Workspace;

  beforeAll(async () => {
    server = await startDovecot({ users: { alice: 'alicepw' } });
    await fillMailbox(server, 'alice', { INBOX: generateMessages({ tag: 'hint', count: 3 }) });
    ws = await createWorkspace(server, { accounts: ['alice'] });
    expect((await ws.run(['init', '--scrypt-cost', '10'])).code).toBe(0);
    expect((await ws.run(['backup'])).code).toBe(0);
  });
  afterAll(async () => {
    await server?.stop();
    await ws?.remove();
  });

  it('into an account the server refuses, names --create-account', async () => {
    const result = await ws.run(['restore', 'account', 'alice', '--to-account', 'nobody']);
    expect(result.code, shown(result)).toBe(1);
    expect(result.stderr).toMatch(/nobody: login refused/);
    expect(result.stderr).toContain('--create-account creates it');
  });

  it('into the account itself, a refused login says nothing of --create-account', async () => {
    await server.removeUser('alice');
    const result = await ws.run(['restore', 'account', 'alice']);
    expect(result.code, shown(result)).toBe(1);
    expect(result.stderr).toMatch(/login refused/);
    expect(result.stderr).not.toContain('--create-account');
  });
});
