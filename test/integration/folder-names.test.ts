// Folder names that need care on the wire: quotes, backslashes, dots (a hierarchy separator on
// many servers), non-ASCII (modified UTF-7), an empty folder. Backed up and restored by name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox, readAccount, withImap } from '../support/imap-fixture.js';
import { createWorkspace, type Workspace } from '../support/workspace.js';

describe.skipIf(!haveDovecot)('folder names', () => {
  let server: DovecotServer;
  let ws: Workspace;
  beforeAll(async () => {
    // LAYOUT=fs accepts dots in names, which the default Maildir++ layout refuses.
    server = await startDovecot({ layout: 'fs' });
    ws = await createWorkspace(server, { accounts: ['alice'] });
    const message = (n: number): { raw: Buffer } => ({
      raw: Buffer.from(`Subject: ${n}\r\nMessage-ID: <${n}@example.com>\r\n\r\nbody ${n}\r\n`),
    });
    await fillMailbox(server, 'alice', {
      'Say "hi"': [message(1)],
      'Back\\slash': [message(2)],
      'dot.ted/Ünïcödé 日本': [message(3)],
      'Projects & Plans': [message(4), message(5)],
      Empty: [],
    });
    expect((await ws.run(['init', '--scrypt-cost', '12'])).code).toBe(0);
  });
  afterAll(async () => {
    await server?.stop();
    await ws?.remove();
  });

  it('come back with their exact names and content after they were all deleted', async () => {
    const before = await readAccount(server, 'alice');
    expect(before.folders.map((folder) => folder.path)).toContain('dot.ted/Ünïcödé 日本');
    expect((await ws.run(['backup'])).code).toBe(0);
    await withImap(server, 'alice', async (client) => {
      for (const folder of await client.list())
        if (folder.path !== 'INBOX') await client.mailboxDelete(folder.path).catch(() => undefined);
    });
    const restore = await ws.run(['restore', 'account', 'alice']);
    expect(restore.code, restore.stderr).toBe(0);
    expect(await readAccount(server, 'alice')).toEqual(before);
  });
});
