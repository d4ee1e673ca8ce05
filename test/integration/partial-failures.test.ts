// One failure stays one failure: a folder the server lists but will not open, or one deleted
// while the backup runs, fails alone; the account's snapshot holds every other folder, keeps the
// last backup of the failed one (so none of its messages looks deleted), lists the failure (exit
// 3), and the next run reads it again. Calendars and contacts go on when the mail cannot be read.
// Against a real Dovecot (and Radicale), through the real CLI.
import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCommandHookProxy } from '../support/command-hook-proxy.js';
import { haveDovecot, MAIL_UID, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { haveRadicale, startRadicale, type RadicaleServer } from '../support/radicale.js';
import { freePort } from '../support/servers.js';
import {
  createWorkspace,
  runCli,
  shown,
  withImapEndpoint,
  type Workspace,
} from '../support/workspace.js';

interface BackupJson {
  accounts: Array<{ account: string; ok: boolean; snapshot: string | null; error: string | null }>;
  failures: Array<{ account: string; folder?: string; uid?: number; reason: string }>;
}
interface LsJson {
  folders: Array<{ path: string; count: number }>;
  collections: Array<{ name: string; count: number }>;
}
interface Hit {
  folder: string;
  subject: string;
}

const INIT = ['init', '--scrypt-cost', '10'];

/** Folder name -> messages, as `ls ACCOUNT` shows the account's latest snapshot. */
async function folderCounts(ws: Workspace, account: string): Promise<Record<string, number>> {
  const result = await ws.run(['ls', account, '--json']);
  expect(result.code, shown(result)).toBe(0);
  return Object.fromEntries(
    result.json<LsJson>().folders.map((folder) => [folder.path, folder.count]),
  );
}

async function deletedSubjects(ws: Workspace, account: string): Promise<string[]> {
  const result = await ws.run(['search', '--account', account, '--deleted', '--json']);
  expect(result.code, shown(result)).toBe(0);
  return result
    .json<Hit[]>()
    .map((hit) => hit.subject)
    .sort();
}

/** The folder's Maildir++ directory in the harness's Dovecot. */
const folderDir = (server: DovecotServer, user: string, folder: string): string =>
  join(server.dir, 'mail', user, 'Maildir', `.${folder}`);

describe.skipIf(!haveDovecot)('one failure stays one failure: folders', () => {
  let server: DovecotServer;

  beforeAll(async () => {
    server = await startDovecot({ users: { alice: 'a', bob: 'b', carol: 'c', dave: 'd' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('a folder the server lists but will not open fails alone, keeps its last backup, and is read again once it opens', async () => {
    await fillMailbox(server, 'alice', {
      INBOX: generateMessages({ tag: 'unopened-inbox', count: 3 }),
      Work: generateMessages({ tag: 'unopened-work', count: 4 }),
      Later: generateMessages({ tag: 'unopened-later', count: 2 }),
    });
    await fillMailbox(server, 'bob', {
      INBOX: generateMessages({ tag: 'unopened-bob', count: 2 }),
    });
    const ws = await createWorkspace(server, { accounts: ['alice', 'bob'] });
    try {
      expect((await ws.run(INIT)).code).toBe(0);
      const first = await ws.run(['backup']);
      expect(first.code, shown(first)).toBe(0);

      // New mail in Work and in INBOX; then Work cannot be opened (Dovecot lists it, and answers
      // SELECT with NO [SERVERBUG]: its directory is unreadable to the mail processes).
      await fillMailbox(server, 'alice', {
        INBOX: generateMessages({ tag: 'unopened-inbox-2', count: 1 }),
        Work: generateMessages({ tag: 'unopened-work-2', count: 2 }),
      });
      const work = folderDir(server, 'alice', 'Work');
      await chmod(work, 0o000);
      let second;
      try {
        second = await ws.run(['backup', '--json']);
      } finally {
        await chmod(work, 0o700);
      }
      expect(second.code, shown(second)).toBe(3);
      const report = second.json<BackupJson>();
      expect(report.accounts.map((a) => [a.account, a.ok, a.snapshot !== null])).toEqual([
        ['alice', true, true],
        ['bob', true, true],
      ]);
      expect(report.failures).toHaveLength(1);
      expect(report.failures[0]).toMatchObject({ account: 'alice', folder: 'Work' });
      expect(report.failures[0]?.reason).toMatch(
        /folder not backed up \(its messages as backed up at .* are kept\): .*Work/,
      );
      const human = await ws.run(['snapshots']);
      expect(human.code, shown(human)).toBe(0);

      // The snapshot has INBOX's new message, and Work as it was last read: not emptied, not
      // gone, so nothing in it shows as deleted.
      expect(await folderCounts(ws, 'alice')).toMatchObject({ INBOX: 4, Work: 4, Later: 2 });
      expect(await deletedSubjects(ws, 'alice')).toEqual([]);
      const workItems = await ws.run(['ls', 'alice', 'Work', '--json']);
      expect(workItems.code, shown(workItems)).toBe(0);
      expect(workItems.json<{ items: unknown[] }>().items).toHaveLength(4);

      // Readable again: the next run reads it, with what arrived meanwhile.
      const third = await ws.run(['backup', '--json']);
      expect(third.code, shown(third)).toBe(0);
      expect(third.json<BackupJson>().failures).toEqual([]);
      expect(await folderCounts(ws, 'alice')).toMatchObject({ INBOX: 4, Work: 6, Later: 2 });
      expect(await deletedSubjects(ws, 'alice')).toEqual([]);
    } finally {
      await ws.remove();
    }
  });

  it('a folder deleted by its user while the backup runs fails alone; the next run sees it gone', async () => {
    await fillMailbox(server, 'carol', {
      INBOX: generateMessages({ tag: 'deleted-inbox', count: 3 }),
      Projects: generateMessages({ tag: 'deleted-projects', count: 3 }),
      Zeta: generateMessages({ tag: 'deleted-zeta', count: 2 }),
    });
    const ws = await createWorkspace(server, { accounts: ['carol'] });
    try {
      expect((await ws.run(INIT)).code).toBe(0);
      expect((await ws.run(['backup'])).code).toBe(0);
      await fillMailbox(server, 'carol', {
        Projects: generateMessages({ tag: 'deleted-projects-2', count: 1 }),
        Zeta: generateMessages({ tag: 'deleted-zeta-2', count: 1 }),
      });
      // Between the listing and the opening of Projects, its user deletes it.
      const proxy = await startCommandHookProxy(server, {
        pattern: /(SELECT|EXAMINE) "?Projects"?/,
        action: async () => {
          await server.doveadm('mailbox', 'delete', '-u', 'carol', 'Projects');
        },
      });
      let during;
      try {
        const yaml = withImapEndpoint(await readFile(ws.config, 'utf8'), proxy);
        const config = join(ws.dir, 'through-proxy.yml');
        await writeFile(config, yaml);
        during = await runCli(config, ['backup', '--json']);
      } finally {
        await proxy.close();
      }
      expect(proxy.fired).toBe(1);
      expect(during.code, shown(during)).toBe(3);
      const report = during.json<BackupJson>();
      expect(report.accounts[0]).toMatchObject({ account: 'carol', ok: true });
      expect(report.failures.map((f) => f.folder)).toEqual(['Projects']);
      // Zeta, listed after it, was backed up; Projects is kept as last backed up.
      expect(await folderCounts(ws, 'carol')).toMatchObject({ INBOX: 3, Projects: 3, Zeta: 3 });
      expect(await deletedSubjects(ws, 'carol')).toEqual([]);

      // The next run finds it gone: now, and only now, its messages are deleted ones.
      const after = await ws.run(['backup', '--json']);
      expect(after.code, shown(after)).toBe(0);
      expect(Object.keys(await folderCounts(ws, 'carol'))).not.toContain('Projects');
      expect(await deletedSubjects(ws, 'carol')).toEqual([
        'deleted-projects message 0',
        'deleted-projects message 1',
        'deleted-projects message 2',
      ]);
    } finally {
      await ws.remove();
    }
  });

  it('folders with control characters in their names (never opened) are listed; the rest of the account and the other accounts are backed up, every run', async () => {
    await fillMailbox(server, 'dave', {
      INBOX: generateMessages({ tag: 'control-inbox', count: 2 }),
      Archive: generateMessages({ tag: 'control-archive', count: 2 }),
    });
    // Made on the server's disk, as a broken client or a migration tool would leave them.
    for (const name of ['.Bad\x01Name', '.Del\x7fName']) {
      for (const sub of ['', 'cur', 'new', 'tmp']) {
        const dir = join(server.dir, 'mail', 'dave', 'Maildir', name, sub);
        await mkdir(dir, { recursive: true });
        await chown(dir, MAIL_UID, MAIL_UID);
      }
    }
    const ws = await createWorkspace(server, { accounts: ['dave', 'bob'] });
    try {
      expect((await ws.run(INIT)).code).toBe(0);
      for (const run of ['first', 'second']) {
        const result = await ws.run(['backup', '--json']);
        expect(result.code, `${run} run\n${shown(result)}`).toBe(3);
        const report = result.json<BackupJson>();
        expect(report.accounts.map((a) => [a.account, a.ok])).toEqual([
          ['dave', true],
          ['bob', true],
        ]);
        expect(report.failures.map((f) => [f.account, f.folder]).sort()).toEqual([
          ['dave', 'Bad\x01Name'],
          ['dave', 'Del\x7fName'],
        ]);
        for (const failure of report.failures)
          expect(failure.reason).toMatch(/^folder not backed up: /);
      }
      // Never read, so not in the snapshot at all (an empty folder would be a lie).
      const counts = await folderCounts(ws, 'dave');
      expect(counts).toMatchObject({ INBOX: 2, Archive: 2 });
      expect(
        Object.keys(counts).filter((path) => path.includes('\x01') || path.includes('\x7f')),
      ).toEqual([]);
    } finally {
      await ws.remove();
    }
  });
});

describe.skipIf(!haveDovecot || !haveRadicale)(
  'one failure stays one failure: mail and calendars',
  () => {
    let mail: DovecotServer;
    let radicale: RadicaleServer;

    beforeAll(async () => {
      mail = await startDovecot({ users: { alice: 'a' } });
      radicale = await startRadicale({ users: { alice: 'alicepw' } });
    });
    afterAll(async () => {
      await radicale?.stop();
      await mail?.stop();
    });

    it('backs up calendars, contacts, file sets and commands when the mail server cannot be reached, keeping the mail of the last backup', async () => {
      await fillMailbox(mail, 'alice', { INBOX: generateMessages({ tag: 'parts', count: 3 }) });
      const auth = `Basic ${Buffer.from('alice:alicepw').toString('base64')}`;
      const put = async (path: string, body: string, method = 'PUT', type = 'text/calendar') => {
        const response = await fetch(new URL(path, radicale.url), {
          method,
          body,
          headers: { authorization: auth, 'content-type': type },
        });
        expect(response.status, `${method} ${path}`).toBeLessThan(300);
      };
      await put('/alice/work/', '', 'MKCALENDAR');
      const event = (uid: string): string =>
        `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260105T100000Z\r\nSUMMARY:${uid}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;
      await put('/alice/work/one.ics', event('one'));

      const ws = await createWorkspace(mail, { accounts: ['alice'] });
      try {
        await writeFile(join(ws.dir, 'dav-admin.pass'), `${radicale.admin.password}\n`);
        await mkdir(join(ws.dir, 'etc'));
        await writeFile(join(ws.dir, 'etc', 'a.conf'), 'a = 1\n');
        const davLine = `    dav: { url: "${radicale.url}", auth: { user: ${radicale.admin.user}, passwordFile: ${join(ws.dir, 'dav-admin.pass')} }, principalPath: "{account}/" }`;
        const yaml = (await readFile(ws.config, 'utf8')).replace(
          /( {4}imap: [^\n]*\n)/,
          `$1${davLine}\n`,
        );
        const sets = `files:\n  - { name: conf, include: [${join(ws.dir, 'etc')}] }\ncommands:\n  - { name: dump, backup: "echo dumped" }\n`;
        await writeFile(ws.config, `${yaml}\n${sets}`);
        expect((await ws.run(INIT)).code).toBe(0);
        const first = await ws.run(['backup']);
        expect(first.code, shown(first)).toBe(0);

        // The mail server is out of reach; the calendar got a new event.
        await put('/alice/work/two.ics', event('two'));
        const closed = await freePort();
        const down = join(ws.dir, 'mail-down.yml');
        await writeFile(
          down,
          withImapEndpoint(
            await readFile(ws.config, 'utf8'),
            { host: '127.0.0.1', port: closed },
            'retries: 0',
          ),
        );
        const result = await runCli(down, ['backup', '--json']);
        expect(result.code, shown(result)).toBe(3);
        const report = result.json<BackupJson & { sets: Array<{ name: string; ok: boolean }> }>();
        expect(report.accounts[0]).toMatchObject({ account: 'alice', ok: true });
        expect(report.sets.map((set) => [set.name, set.ok])).toEqual([
          ['conf', true],
          ['dump', true],
        ]);
        expect(report.failures).toHaveLength(1);
        expect(report.failures[0]?.reason).toMatch(
          new RegExp(
            `^mail not backed up \\(the previous snapshot's folders are kept\\): .*127\\.0\\.0\\.1:${closed}`,
          ),
        );
        const ls = await ws.run(['ls', 'alice', '--json']);
        expect(ls.code, shown(ls)).toBe(0);
        const listed = ls.json<LsJson>();
        expect(listed.collections.map((c) => [c.name, c.count])).toEqual([['work', 2]]);
        expect(listed.folders.find((f) => f.path === 'INBOX')?.count).toBe(3);
        expect(await deletedSubjects(ws, 'alice')).toEqual([]);
      } finally {
        await ws.remove();
      }
    });
  },
);
