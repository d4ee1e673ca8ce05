// Search and listings read mail as its reader shows it: HTML entities decoded (Caf&eacute; is
// found by "Café", and a style sheet's words are not text), encoded words decoded in UTF-7 and the
// other charsets iconv-lite knows, bodies in UTF-7; a malformed encoded word stays as written.
// Backed up from a real Dovecot, then searched, listed and shown through the CLI.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corporaDir } from '../support/corpus.js';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox } from '../support/imap-fixture.js';
import { createWorkspace, shown, type Workspace } from '../support/workspace.js';

interface Hit {
  key: string;
  subject: string;
}

const message = (n: number, lines: string[]): { raw: Buffer; internalDate: Date } => ({
  raw: Buffer.from(
    [`Message-ID: <decoding-${n}@example.com>`, 'To: alice@example.com', ...lines].join('\r\n'),
    'latin1',
  ),
  internalDate: new Date(Date.UTC(2026, 1, n)),
});

/** The Outlook 2000 message of the corpora, its subject, recipients and body in UTF-7. */
const OUTLOOK_UTF7 = ['stalwart-mail-parser', 'resources', 'eml', 'legacy', '001.eml'];
const OUTLOOK_SUBJECT = 'Die Hasen und die Frösche (Microsoft Outlook 00)';
const MALFORMED = '=?x-unknown?Q?Caf=E9?= and =?utf-8?B?!!!?= kept';

describe.skipIf(!haveDovecot)('search and listings decode what mail encodes', () => {
  let server: DovecotServer;
  let ws: Workspace;

  const search = async (...args: string[]): Promise<string[]> => {
    const result = await ws.run(['search', '--account', 'alice', ...args, '--json']);
    expect(result.code, shown(result)).toBe(0);
    return result
      .json<Hit[]>()
      .map((hit) => hit.subject)
      .sort();
  };

  beforeAll(async () => {
    server = await startDovecot();
    ws = await createWorkspace(server, { accounts: ['alice'] });
    await fillMailbox(server, 'alice', {
      INBOX: [
        message(1, [
          'From: Chef <chef@example.com>',
          'Subject: Menu of the week',
          'Content-Type: text/html; charset=us-ascii',
          '',
          '<html><head><style>p { font-family: Cafeteria }</style></head>',
          '<body><p>Caf&eacute; au lait, cr&egrave;me br&ucirc;l&eacute;e</p></body></html>',
        ]),
        { raw: readFileSync(join(corporaDir(), ...OUTLOOK_UTF7)) },
        message(3, [
          'From: =?koi8-r?B?8MXU0s8=?= <petr@example.ru>',
          'Subject: =?koi8-r?B?8NLJ18XU?= from Moscow',
          '',
          'Plain text.',
        ]),
        message(4, [
          'From: Jo <jo@example.de>',
          'Subject: =?UTF-7?Q?Gr+APwA3w-e_aus_K+APY-ln?=',
          'Content-Type: text/plain; charset=utf-7',
          '',
          'Der Dom ist sch+APY-n.',
        ]),
        message(5, ['From: Odd <odd@example.com>', `Subject: ${MALFORMED}`, '', 'Body.']),
      ],
    });
    expect((await ws.run(['init', '--scrypt-cost', '12'])).code).toBe(0);
    const backup = await ws.run(['backup']);
    expect(backup.code, shown(backup)).toBe(0);
  });
  afterAll(async () => {
    await server?.stop();
    await ws?.remove();
  });

  it('finds HTML mail by its words with their entities decoded, and not by its styles', async () => {
    expect(await search('--text', 'Café')).toEqual(['Menu of the week']);
    expect(await search('--text', 'crème brûlée')).toEqual(['Menu of the week']);
    expect(await search('--text', 'Cafeteria')).toEqual([]);
  });

  it('finds mail by subjects and bodies written in UTF-7 and other charsets', async () => {
    expect(await search('--subject', 'Frösche')).toEqual([OUTLOOK_SUBJECT]);
    expect(await search('--text', 'mißliche Lage')).toEqual([OUTLOOK_SUBJECT]);
    expect(await search('--subject', 'Köln')).toEqual(['Grüße aus Köln']);
    expect(await search('--text', 'schön')).toEqual(['Grüße aus Köln']);
    expect(await search('--subject', 'Привет')).toEqual(['Привет from Moscow']);
    expect(await search('--from', 'Петро')).toEqual(['Привет from Moscow']);
  });

  it('lists and shows the decoded subjects and names, and malformed words as written', async () => {
    const listing = await ws.run(['ls', 'alice', 'INBOX']);
    expect(listing.code, shown(listing)).toBe(0);
    for (const subject of [OUTLOOK_SUBJECT, 'Grüße aus Köln', 'Привет from Moscow', MALFORMED])
      expect(listing.stdout).toContain(subject);
    expect(listing.stdout).not.toContain('+APY-');

    const [hit] = (await ws.run(['search', '--subject', 'Frösche', '--json'])).json<Hit[]>();
    const show = await ws.run(['show', hit?.key ?? '']);
    expect(show.code, shown(show)).toBe(0);
    expect(show.stdout).toMatch(
      new RegExp(`subject: +${OUTLOOK_SUBJECT.replace(/[()]/g, '\\$&')}`),
    );
    expect(show.stdout).toContain('Jürgen Schmürgen <schmuergen@example.com>');
  });
});
