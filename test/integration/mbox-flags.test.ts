// An mbox export keeps each message's flags where mbox readers look for them (Status, X-Status,
// X-Keywords): a Dovecot whose mail is kept in mbox files reads the exported file and serves
// every message with the bytes and flags the original Dovecot had.
import { createHash } from 'node:crypto';
import { chown, copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, MAIL_UID, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox, readAccount, type FixtureMessage } from '../support/imap-fixture.js';
import { createWorkspace, type Workspace } from '../support/workspace.js';

const FLAG_SETS = [
  [],
  ['\\Seen'],
  ['\\Seen', '\\Answered'],
  ['\\Flagged'],
  ['\\Draft'],
  ['\\Seen', '\\Deleted'],
  ['\\Seen', '$Forwarded', 'NonJunk'],
  ['\\Answered', '\\Flagged', '\\Draft', '\\Deleted', '$Label1'],
];

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

function message(n: number, extraHeader = ''): Uint8Array {
  return Buffer.from(
    `From: sender${n}@example.com\r\nTo: alice@example.com\r\nSubject: message ${n}\r\n` +
      `Message-ID: <m${n}@example.com>\r\n${extraHeader}\r\nbody of message ${n}\r\n`,
  );
}

describe.skipIf(!haveDovecot)('mbox export flags', () => {
  let source: DovecotServer;
  let reader: DovecotServer;
  let ws: Workspace;

  beforeAll(async () => {
    [source, reader] = await Promise.all([startDovecot(), startDovecot({ layout: 'mbox' })]);
    ws = await createWorkspace(source, { accounts: ['alice'] });
    const messages: FixtureMessage[] = FLAG_SETS.map((flags, n) => ({ raw: message(n), flags }));
    // Fields an earlier mbox store left in a message say nothing of its flags on this server.
    messages.push({ raw: message(90, 'Status: RO\r\nX-Status: AF\r\nX-Keywords: Stale\r\n') });
    await fillMailbox(source, 'alice', { INBOX: messages });
    expect((await ws.run(['init', '--scrypt-cost', '10'])).code).toBe(0);
    const backup = await ws.run(['backup']);
    expect(backup.code, backup.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([source?.stop(), reader?.stop()]);
    await ws?.remove();
  });

  it('are read back by Dovecot with every flag and keyword, the messages unchanged', async () => {
    const output = join(ws.dir, 'export');
    const result = await ws.run(['export', 'alice', '--format', 'mbox', '--output', output]);
    expect(result.code, result.stderr).toBe(0);
    const written = await readFile(join(output, 'INBOX.mbox'), 'latin1');
    expect(written).toContain(
      'Subject: message 1\r\nMessage-ID: <m1@example.com>\r\nStatus: RO\r\n\r\n',
    );

    // Dovecot's mbox storage: INBOX is ~/mail/inbox, owned by the mail user.
    const home = join(reader.dir, 'mail', 'alice');
    await mkdir(join(home, 'mail'), { recursive: true });
    await copyFile(join(output, 'INBOX.mbox'), join(home, 'mail', 'inbox'));
    for (const path of [home, join(home, 'mail'), join(home, 'mail', 'inbox')])
      await chown(path, MAIL_UID, MAIL_UID);

    // Dovecot serves mbox mail without the flag fields: the bytes are the messages as appended,
    // but for the fields an earlier store had left in the last one.
    const expected = [
      ...FLAG_SETS.map((flags, n) => ({ sha256: sha256(message(n)), flags: [...flags].sort() })),
      { sha256: sha256(message(90)), flags: [] },
    ].sort((a, b) => (a.sha256 < b.sha256 ? -1 : 1));
    const read = (await readAccount(reader, 'alice')).folders.find((f) => f.path === 'INBOX');
    expect(read?.messages.map(({ sha256, flags }) => ({ sha256, flags }))).toEqual(expected);
  });
});
