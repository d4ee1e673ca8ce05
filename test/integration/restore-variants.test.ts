// The restores a help desk runs every day, against a real Dovecot and a real SMTP receiver:
// single items, an account into a new account created through the provisioning hook (the source
// untouched), and "everything deleted between Monday and Wednesday" brought back, tagged,
// without what was moved or re-flagged. Each tells the initiator and the admins by e-mail.
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox, readAccount, withImap, type AccountState } from '../support/imap-fixture.js';
import { parseMail, startSmtpReceiver, type SmtpReceiver } from '../support/smtp-receiver.js';
import { createWorkspace, type Workspace } from '../support/workspace.js';

const message = (
  folder: string,
  n: number,
): { raw: Buffer; flags: string[]; internalDate: Date } => ({
  raw: Buffer.from(
    `Message-ID: <${folder}-${n}@example.com>\r\nFrom: sender${n}@example.org\r\nSubject: ${folder} message ${n}\r\n\r\nbody ${n}\r\n`,
  ),
  flags: n % 2 ? ['\\Seen'] : ['\\Flagged', '$Label1'],
  internalDate: new Date(Date.UTC(2026, 10, n)),
});
const many = (folder: string, count: number) =>
  Array.from({ length: count }, (_, i) => message(folder, i + 1));

interface RestoreJson {
  totals: { restored: number; alreadyPresent: number; failed: number; foldersCreated: number };
}

const between = async (): Promise<Date> => {
  // Snapshot times are milliseconds apart at worst: leave a clear gap on each side of a moment.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const moment = new Date();
  await new Promise((resolve) => setTimeout(resolve, 50));
  return moment;
};

const subjects = (state: AccountState, folder: string): string[] =>
  (state.folders.find((f) => f.path === folder)?.messages ?? []).map((m) => m.sha256).sort();

describe.skipIf(!haveDovecot)(
  'restores of items, into new accounts, and of what was deleted',
  () => {
    let server: DovecotServer;
    let ws: Workspace;
    let smtp: SmtpReceiver;
    let monday: AccountState;
    const times = { monday: new Date(0), wednesday: new Date(0) };

    beforeAll(async () => {
      server = await startDovecot();
      smtp = await startSmtpReceiver();
      ws = await createWorkspace(server, {
        accounts: ['alice', 'bob'],
        extra: [
          `notify: { smtp: { host: ${smtp.host}, port: ${smtp.port}, from: mailvault@example.com }, admins: [ops@example.com] }`,
        ].join('\n'),
      });
      // Accounts created by the hook land in Dovecot's passwd-file, as a provisioning script would.
      const provisioning = `    provisioning: { command: "printf '%s:{PLAIN}newpw\\\\n' {account} >> ${join(server.dir, 'users')}" }`;
      const yaml = (await import('node:fs/promises')).readFile(ws.config, 'utf8');
      await writeFile(
        ws.config,
        (await yaml).replace(/( {4}accounts: \{[^\n]*\n)/, `$1${provisioning}\n`),
      );
      await fillMailbox(
        server,
        'alice',
        {
          INBOX: many('INBOX', 10),
          Trash: many('Trash', 5),
          Projects: many('Projects', 4),
          Archive: many('Archive', 3),
        },
        { subscribe: ['Projects', 'Archive'] },
      );
      await fillMailbox(server, 'bob', { INBOX: many('bob', 2) });
      expect((await ws.run(['init', '--scrypt-cost', '12'])).code).toBe(0);
      expect((await ws.run(['backup'])).code).toBe(0);
      monday = await readAccount(server, 'alice');
      times.monday = await between();

      // Tuesday: Trash emptied, a folder deleted, two messages moved, one re-flagged.
      await withImap(server, 'alice', async (client) => {
        await client.mailboxOpen('Trash');
        await client.messageDelete('1:*');
        await client.mailboxDelete('Projects');
        await client.mailboxOpen('INBOX');
        await client.messageMove('1:2', 'Archive');
        await client.messageFlagsAdd('3', ['\\Answered']);
      });
      expect((await ws.run(['backup'])).code).toBe(0);
      times.wednesday = await between();
      // Wednesday night's backup: a deletion is only known to lie between two backups.
      expect((await ws.run(['backup'])).code).toBe(0);

      // Thursday: one more message deleted, after the range.
      await withImap(server, 'alice', async (client) => {
        await client.mailboxOpen('INBOX');
        await client.messageDelete('1');
      });
      expect((await ws.run(['backup'])).code).toBe(0);
    });

    afterAll(async () => {
      await server?.stop();
      await smtp?.stop();
      await ws?.remove();
    });

    it('brings back exactly what was deleted between Monday and Wednesday, tagged, once', async () => {
      const result = await ws.run([
        'restore',
        'undelete',
        'alice',
        '--from',
        new Date(times.monday.getTime() - 3_600_000).toISOString(),
        '--to',
        times.wednesday.toISOString(),
        '--json',
        '--notify',
        'helpdesk@example.com',
      ]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json<RestoreJson>().totals).toMatchObject({
        restored: 9,
        failed: 0,
        foldersCreated: 1,
      });
      const now = await readAccount(server, 'alice');
      // Trash and Projects hold again what they held on Monday, each message with its Monday flags
      // plus the day's keyword; the moved and Thursday's messages are not brought back.
      const d = new Date();
      const keyword = `undelete_${String(d.getDate()).padStart(2, '0')}_${String(d.getMonth() + 1).padStart(2, '0')}_${String(d.getFullYear() % 100).padStart(2, '0')}`;
      for (const folder of ['Trash', 'Projects']) {
        const before = monday.folders.find((f) => f.path === folder)?.messages ?? [];
        const after = now.folders.find((f) => f.path === folder)?.messages ?? [];
        expect(
          after
            .map((m) => ({ ...m, flags: m.flags.filter((f) => f !== keyword) }))
            .sort((a, b) => a.sha256.localeCompare(b.sha256)),
        ).toEqual(before);
        expect(after.every((m) => m.flags.includes(keyword))).toBe(true);
      }
      expect(subjects(now, 'INBOX')).toHaveLength(7);
      expect(subjects(now, 'Archive')).toHaveLength(5);

      const again = await ws.run([
        'restore',
        'undelete',
        'alice',
        '--from',
        new Date(times.monday.getTime() - 3_600_000).toISOString(),
        '--to',
        times.wednesday.toISOString(),
        '--json',
      ]);
      expect(again.json<RestoreJson>().totals).toMatchObject({ restored: 0, alreadyPresent: 9 });

      // The initiator and the admins heard of the start and of the end, with the report attached.
      // The second run had no --notify: its two notices went to the admins alone.
      const mails = await smtp.waitFor(4, 10_000);
      expect(mails.map((mail) => mail.rcptTo.sort())).toEqual([
        ['helpdesk@example.com', 'ops@example.com'],
        ['helpdesk@example.com', 'ops@example.com'],
        ['ops@example.com'],
        ['ops@example.com'],
      ]);
      const finished = parseMail(mails[1]?.raw ?? Buffer.alloc(0));
      expect(finished.subject).toMatch(/undelete in alice finished: 9 restored/);
      expect(
        JSON.parse(
          finished.attachments.find((a) => a.filename === 'report.json')?.content.toString() ??
            '{}',
        ),
      ).toMatchObject({ totals: { restored: 9 } });
    });

    it('says so when nothing was deleted in a range', async () => {
      const result = await ws.run([
        'restore',
        'undelete',
        'bob',
        '--from',
        '2020-01-01',
        '--to',
        '2020-01-02',
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/nothing was deleted from bob between/);
    });

    it('restores single items into their folder, another folder, or another account', async () => {
      const found = (
        await ws.run(['search', '--account', 'alice', '--subject', 'Archive message 2', '--json'])
      ).json<Array<{ key: string }>>();
      expect(found).toHaveLength(1);
      const key = found[0]?.key ?? '';
      await withImap(server, 'alice', async (client) => {
        await client.mailboxDelete('Archive');
      });
      let result = await ws.run(['restore', 'item', key, '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json<RestoreJson>().totals).toMatchObject({ restored: 1, foldersCreated: 1 });
      result = await ws.run(['restore', 'item', key, '--to-folder', 'Recovered', '--json']);
      expect(result.json<RestoreJson>().totals).toMatchObject({ restored: 1 });
      result = await ws.run([
        'restore',
        'item',
        key,
        '--to-account',
        'bob',
        '--to-folder',
        'From alice',
        '--json',
      ]);
      expect(result.json<RestoreJson>().totals).toMatchObject({ restored: 1 });
      const bob = await readAccount(server, 'bob');
      expect(bob.folders.find((f) => f.path === 'From alice')?.messages).toHaveLength(1);
      // A folder the server will not create: the item is reported failed, with the server's reason.
      const refused = await ws.run(['restore', 'item', key, '--to-folder', 'bad.name', '--json']);
      expect(refused.code).toBe(3);
      expect(refused.json<{ failures: Array<{ reason: string }> }>().failures[0]?.reason).toMatch(
        /CREATE refused/,
      );
      // Wrong ids are usage errors.
      expect((await ws.run(['restore', 'item', 'nothex'])).code).toBe(2);
      expect((await ws.run(['restore', 'item', '0123456789abcdef'])).code).toBe(2);
    });

    it('restores an account at a date into a new account made by the provisioning hook, leaving the source as it is', async () => {
      const aliceNow = await readAccount(server, 'alice');
      const result = await ws.run([
        'restore',
        'account',
        'alice',
        '--at',
        times.monday.toISOString(),
        '--to-account',
        'alice-restored',
        '--create-account',
        '--json',
      ]);
      expect(result.code, result.stderr).toBe(0);
      const copy = await readAccount(server, 'alice-restored');
      for (const folder of monday.folders) {
        expect(copy.folders.find((f) => f.path === folder.path)?.messages, folder.path).toEqual(
          folder.messages,
        );
      }
      expect(await readAccount(server, 'alice')).toEqual(aliceNow);
    });

    it('refuses --create-account where no provisioning command is configured', async () => {
      await writeFile(
        ws.config,
        (await (await import('node:fs/promises')).readFile(ws.config, 'utf8')).replace(
          / {4}provisioning:[^\n]*\n/,
          '',
        ),
      );
      await appendFile(ws.config, '\n');
      const result = await ws.run([
        'restore',
        'account',
        'bob',
        '--to-account',
        'carol',
        '--create-account',
      ]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/provisioning\.command is not configured/);
    });
  },
);
