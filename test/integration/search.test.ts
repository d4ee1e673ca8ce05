// Finding mail across every snapshot: by sender, recipient, subject and body words decoded from
// their charset; by date and folder; and what is no longer on the server, with when it was last
// seen (a message moved to another folder is not "deleted"). The catalog rebuilt from the
// repository alone finds the same.
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusMessages, servedByDovecot } from '../support/corpus.js';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox, withImap } from '../support/imap-fixture.js';
import { createWorkspace, type Workspace } from '../support/workspace.js';

interface Hit {
  key: string;
  account: string;
  folder: string;
  subject: string;
  present: boolean;
  lastSeen: string;
}

const message = (n: number, lines: string[]): { raw: Buffer; internalDate: Date } => ({
  raw: Buffer.from([`Message-ID: <search-${n}@example.com>`, ...lines].join('\r\n'), 'latin1'),
  internalDate: new Date(Date.UTC(2026, 0, n)),
});

describe.skipIf(!haveDovecot)('search', () => {
  let server: DovecotServer;
  let ws: Workspace;
  let firstBackup: Date;

  const search = async (...args: string[]): Promise<Hit[]> => {
    const result = await ws.run(['search', ...args, '--json']);
    expect(result.code, result.stderr).toBe(0);
    return result.json<Hit[]>();
  };
  const subjects = (hits: Hit[]): string[] => hits.map((hit) => hit.subject).sort();

  beforeAll(async () => {
    server = await startDovecot();
    ws = await createWorkspace(server, { accounts: ['alice', 'bob'] });
    await fillMailbox(server, 'alice', {
      INBOX: [
        message(1, [
          'From: Jürgen Weiß <jw@example.de>',
          'To: alice@example.com',
          'Subject: =?iso-8859-1?q?Gr=FC=DFe_aus_K=F6ln?=',
          'Content-Type: text/plain; charset=iso-8859-1',
          'Content-Transfer-Encoding: quoted-printable',
          '',
          'Das Angebot f=FCr die Schlie=DFanlage liegt bei.',
        ]),
        message(2, [
          'From: Carol <carol@example.org>',
          'To: alice@example.com',
          'Subject: quarterly report',
          'Content-Type: text/html; charset=utf-8',
          '',
          '<p>The <b>revenue</b> figures are attached.</p>',
        ]),
        message(3, [
          'From: Dave <dave@example.net>',
          'To: alice@example.com, bob@example.com',
          'Subject: lunch on friday',
          '',
          'Shall we try the new ramen place?',
        ]),
      ],
      Projects: [
        message(4, [
          'From: Carol <carol@example.org>',
          'To: alice@example.com',
          'Subject: project kickoff',
          '',
          'Kickoff notes: budget and revenue targets.',
        ]),
      ],
    });
    await fillMailbox(server, 'bob', {
      INBOX: corpusMessages()
        .filter((m) => servedByDovecot(m.raw) !== null)
        .slice(0, 200)
        .map((m) => ({ raw: m.raw })),
    });
    expect((await ws.run(['init', '--scrypt-cost', '12'])).code).toBe(0);
    expect((await ws.run(['backup'])).code).toBe(0);
    firstBackup = new Date();
  });
  afterAll(async () => {
    await server?.stop();
    await ws?.remove();
  });

  it('finds messages by words of the sender, recipients, subject and body, decoded', async () => {
    expect(subjects(await search('--from', 'carol'))).toEqual([
      'project kickoff',
      'quarterly report',
    ]);
    expect(subjects(await search('--from', 'Weiss'))).toEqual([]);
    expect(subjects(await search('--from', 'weiß'))).toEqual(['Grüße aus Köln']);
    expect(subjects(await search('--text', 'schließanlage'))).toEqual(['Grüße aus Köln']);
    expect(subjects(await search('--text', 'revenue'))).toEqual([
      'project kickoff',
      'quarterly report',
    ]);
    expect(subjects(await search('--text', 'revenue', '--folder', 'INBOX'))).toEqual([
      'quarterly report',
    ]);
    expect(subjects(await search('--to', 'bob@example.com', '--account', 'alice'))).toEqual([
      'lunch on friday',
    ]);
    expect(subjects(await search('--subject', 'kick'))).toEqual(['project kickoff']);
    expect(
      subjects(
        await search('--after', '2026-01-02', '--before', '2026-01-04', '--account', 'alice'),
      ),
    ).toEqual(['lunch on friday', 'quarterly report']);
    // Every hit carries the id the restore commands take.
    const [hit] = await search('--subject', 'lunch friday');
    expect(hit?.key).toMatch(/^[0-9a-f]{16}$/);
  });

  it('finds what is no longer on the server, with when it was last seen, but not what was moved', async () => {
    await withImap(server, 'alice', async (client) => {
      await client.mailboxOpen('INBOX');
      const uids = (await client.search({ all: true }, { uid: true })) || [];
      await client.messageDelete(String(uids[1]), { uid: true }); // the quarterly report
      await client.messageMove(String(uids[2]), 'Projects', { uid: true }); // lunch on friday
    });
    expect((await ws.run(['backup'])).code).toBe(0);
    const deleted = await search('--deleted', '--account', 'alice');
    expect(subjects(deleted)).toEqual(['quarterly report']);
    const [report] = deleted;
    expect(report?.present).toBe(false);
    expect(new Date(report?.lastSeen ?? 0).getTime()).toBeLessThanOrEqual(firstBackup.getTime());
    expect(subjects(await search('--text', 'ramen', '--deleted'))).toEqual([]);
  });

  it('answers the same from a catalog rebuilt from the repository alone', async () => {
    const queries = [
      ['--text', 'revenue'],
      ['--from', 'weiß'],
      ['--deleted'],
      ['--account', 'bob', '--limit', '50'],
    ];
    const before = await Promise.all(queries.map((q) => search(...q)));
    await rm(ws.catalog);
    await rm(`${ws.catalog}-wal`, { force: true });
    await rm(`${ws.catalog}-shm`, { force: true });
    expect((await ws.run(['catalog', 'rebuild'])).code).toBe(0);
    expect(await Promise.all(queries.map((q) => search(...q)))).toEqual(before);
  });

  it('says what is wrong with a bad date or limit', async () => {
    const result = await ws.run(['search', '--after', 'someday']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--after/);
    expect((await ws.run(['search', '--limit', '0'])).code).toBe(2);
  });
});
