// What a newcomer trips over, found by running the product as one: the ids that --json prints
// are those the tables print and the commands take back; a restore into another account that the
// server does not know names --create-account.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { createWorkspace, shown, type Workspace } from '../support/workspace.js';

describe.skipIf(!haveDovecot)('the newcomer path', () => {
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

  it('prints the item ids it takes back, under id in --json as under ID in tables', async () => {
    const ls = await ws.run(['ls', 'alice', 'INBOX', '--json']);
    expect(ls.code, shown(ls)).toBe(0);
    const items = ls.json<{ items: Array<{ id: string; subject: string }> }>().items;
    expect(items).toHaveLength(3);
    const [first] = items;
    expect(first?.id).toMatch(/^[0-9a-f]{16}$/);
    const table = await ws.run(['ls', 'alice', 'INBOX']);
    expect(table.stdout).toContain(first?.id);
    const search = await ws.run(['search', '--subject', first?.subject ?? '', '--json']);
    expect(search.json<Array<{ id: string }>>().map((hit) => hit.id)).toContain(first?.id);
    const show = await ws.run(['show', first?.id ?? '', '--json']);
    expect(show.code, shown(show)).toBe(0);
    expect(show.json<{ id: string }>().id).toBe(first?.id);
  });

  it('prints stats as a label and a value apart on every line', async () => {
    const stats = await ws.run(['stats']);
    expect(stats.code, shown(stats)).toBe(0);
    const lines = stats.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) expect(line).toMatch(/^[a-z][a-z ()/,]*[a-z)] {2,}\S/);
    expect(stats.stdout).toMatch(/unique objects \(before compression\) {2,}\d/);
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
