// Servers reached over TLS, implicit (imaps) or STARTTLS, with the certificate checked against a
// configured CA: backup and restore both go through it, and a certificate that cannot be
// verified stops the run with a clear error instead of falling back to plain text.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusMessages, servedByDovecot } from '../support/corpus.js';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox, readAccount, withImap } from '../support/imap-fixture.js';
import { configYaml, createWorkspace, type Workspace } from '../support/workspace.js';

describe.skipIf(!haveDovecot)('IMAP over TLS', () => {
  let server: DovecotServer;
  beforeAll(async () => {
    server = await startDovecot({ tls: true });
    const messages = corpusMessages()
      .filter((m) => servedByDovecot(m.raw) !== null)
      .slice(0, 40);
    await fillMailbox(server, 'alice', {
      INBOX: messages.map((m) => ({ raw: m.raw, flags: ['\\Seen'] })),
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function workspaceWith(imap: string): Promise<Workspace> {
    const ws = await createWorkspace(server, { accounts: ['alice'] });
    const yaml = configYaml(server, ws.dir, { accounts: ['alice'] }).replace(
      /port: \d+, tls: none, /,
      imap,
    );
    await writeFile(ws.config, yaml);
    expect((await ws.run(['init', '--scrypt-cost', '12'])).code).toBe(0);
    return ws;
  }

  for (const [name, settings] of [
    [
      'implicit TLS',
      () =>
        `port: ${server.tlsPort}, tls: implicit, caFile: ${join(server.dir, 'tls', 'cert.pem')}, `,
    ],
    [
      'STARTTLS',
      () => `port: ${server.port}, tls: starttls, caFile: ${join(server.dir, 'tls', 'cert.pem')}, `,
    ],
  ] as const) {
    it(`backs up and restores with ${name}`, async () => {
      const ws = await workspaceWith(settings());
      const before = await readAccount(server, 'alice');
      const backup = await ws.run(['backup']);
      expect(backup.code, backup.stderr).toBe(0);
      await withImap(server, 'alice', async (client) => {
        await client.mailboxOpen('INBOX');
        await client.messageDelete('1:10');
      });
      const restore = await ws.run(['restore', 'account', 'alice', '--json']);
      expect(restore.code, restore.stderr).toBe(0);
      expect(restore.json<{ totals: { restored: number } }>().totals.restored).toBe(10);
      expect(await readAccount(server, 'alice')).toEqual(before);
      await ws.remove();
    });
  }

  it('refuses a certificate it cannot verify, in one line', async () => {
    const ws = await workspaceWith(`port: ${server.tlsPort}, tls: implicit, retries: 0, `);
    const backup = await ws.run(['backup']);
    expect(backup.code).toBe(1);
    expect(backup.stderr.trim().split('\n')).toHaveLength(1);
    expect(backup.stderr).toMatch(/mail1.*certificate/i);
    await ws.remove();
  });
});
