import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corporaDir } from '../../test/support/corpus.js';
import { findHeaderEnd } from './header-block.js';
import { parseHeaderDate } from './header-date.js';
import { splitAddressList, summarizeHeader } from './header-summary.js';

const summarize = (header: string | Buffer) =>
  summarizeHeader(typeof header === 'string' ? Buffer.from(header, 'latin1') : header);

describe('summarizeHeader', () => {
  it('reads the usual fields', () => {
    const summary = summarize(
      'From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nCC: Carol <c@example.com>, d@example.com\r\n' +
        'Subject: Hello\r\nDate: Tue, 1 Jul 2003 10:52:37 +0200\r\nMessage-ID: <1234@local.machine.example>\r\n\r\n',
    );
    expect(summary).toEqual({
      from: 'Alice <alice@example.com>',
      to: 'bob@example.com',
      cc: 'Carol <c@example.com>, d@example.com',
      subject: 'Hello',
      date: '2003-07-01T08:52:37.000Z',
      messageId: '<1234@local.machine.example>',
    });
  });

  it('decodes encoded words in subjects and display names', () => {
    const summary = summarize(
      'Subject: =?UTF-8?B?SGVsbG8gV8O2cmxk?=\n =?ISO-8859-1?Q?_caf=E9?=\n' +
        'From: =?utf-8?q?Ren=C3=A9e_Dupont?= <renee@example.fr>\n' +
        'To: "=?utf-8?Q?M=C3=BCller=2C_Hans?=" <hans@example.de>, "Smith, Jo" <jo@example.com>\n\n',
    );
    expect(summary.subject).toBe('Hello Wörld café');
    expect(summary.from).toBe('Renée Dupont <renee@example.fr>');
    expect(summary.to).toBe('Müller, Hans <hans@example.de>, Smith, Jo <jo@example.com>');
  });

  it('decodes encoded words in UTF-7 and the other charsets iconv-lite knows', () => {
    const summary = summarize(
      'Subject: =?UTF-7?Q?Caf+AOk-_au_lait?= =?koi8-r?B?8NLJ18XU?=\n' +
        'From: =?utf-7?B?SitBUHctcmdlbg==?= <j@example.de>\n' +
        'To: =?windows-1252?Q?=93Z=FCrich=94?= <z@example.ch>\n\n',
    );
    expect(summary.subject).toBe('Café au laitПривет');
    expect(summary.from).toBe('Jürgen <j@example.de>');
    expect(summary.to).toBe('“Zürich” <z@example.ch>');
  });

  it('reads a UTF-7 message of the corpora as its reader shows it', () => {
    const raw = readFileSync(
      join(corporaDir(), 'stalwart-mail-parser', 'resources', 'eml', 'legacy', '001.eml'),
    );
    const summary = summarizeHeader(raw.subarray(0, findHeaderEnd(raw)));
    expect(summary.subject).toBe('Die Hasen und die Frösche (Microsoft Outlook 00)');
    expect(summary.to).toBe(
      'Joe Blow <jblow@example.com>, Jürgen Schmürgen <schmuergen@example.com>',
    );
  });

  it('keeps malformed encoded words as written: bad base64, an unknown charset', () => {
    expect(summarize('Subject: =?utf-8?B?!!!?= left\n\n').subject).toBe('=?utf-8?B?!!!?= left');
    expect(summarize('Subject: =?x-unknown?Q?Caf=E9?=\n\n').subject).toBe('=?x-unknown?Q?Caf=E9?=');
  });

  it('unfolds and trims folded fields', () => {
    const summary = summarize(
      'Subject:   a long\r\n\tsubject   \r\n  line \r\nTo: one@example.com,\r\n two@example.com\r\n\r\n',
    );
    expect(summary.subject).toBe('a long subject line');
    expect(summary.to).toBe('one@example.com, two@example.com');
  });

  it('reads raw 8-bit headers as UTF-8, else as latin1', () => {
    expect(summarize(Buffer.from('Subject: Grüße\n\n', 'utf8')).subject).toBe('Grüße');
    expect(summarize(Buffer.from('Subject: Gr\xfc\xdfe\n\n', 'latin1')).subject).toBe('Grüße');
  });

  it('leaves missing fields empty', () => {
    expect(summarize('X-Other: 1\n\n')).toEqual({
      from: '',
      to: '',
      cc: '',
      subject: '',
      date: null,
      messageId: '',
    });
    expect(summarize('')).toMatchObject({ subject: '', date: null });
  });

  it('ignores an mbox From_ line and takes the first of repeated fields', () => {
    const summary = summarize(
      'From someone Tue Jul  1 10:52:37 2003\nSubject: one\nSubject: two\n\n',
    );
    expect(summary.from).toBe('');
    expect(summary.subject).toBe('one');
  });

  it('caps every field at 1,000 characters', () => {
    const summary = summarize(`Subject: ${'x'.repeat(5000)}\nTo: ${'a@b, '.repeat(1000)}\n\n`);
    expect(summary.subject).toHaveLength(1000);
    expect(summary.to.length).toBeLessThanOrEqual(1000);
  });

  it('never throws on junk', () => {
    const junk = Buffer.alloc(4096);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919) % 256;
    expect(() => summarizeHeader(junk)).not.toThrow();
    expect(summarize('Subject: =?utf-8?B?####?= =?bogus?Q?x?=\n\n').subject).toBeTypeOf('string');
    expect(summarize('Subject: \0\x01x\x7f\n\n').subject).toBe('x');
  });
});

describe('parseHeaderDate', () => {
  it.each([
    ['Tue, 1 Jul 2003 10:52:37 +0200', '2003-07-01T08:52:37.000Z'],
    ['1 Jul 2003 10:52:37 -0000', '2003-07-01T10:52:37.000Z'],
    ['Fri, 21 Nov 97 09:55:06 GMT', '1997-11-21T09:55:06.000Z'],
    ['Thu, 13 Feb 2025 09:55 EST', '2025-02-13T14:55:00.000Z'],
    ['Mon, 2 Jan 06 1:02:03 PDT (Pacific)', '2006-01-02T08:02:03.000Z'],
    ['Wed, 05 Mar 2014 12:00:00 +0100 (CET)', '2014-03-05T11:00:00.000Z'],
    ['Tue Jul  1 10:52:37 2003', '2003-07-01T10:52:37.000Z'],
    ['2021-04-05T06:07:08+02:00', '2021-04-05T04:07:08.000Z'],
    ['2021-04-05T06:07:08', '2021-04-05T06:07:08.000Z'],
  ])('reads %j', (value, iso) => {
    expect(parseHeaderDate(value)).toBe(iso);
  });

  it.each([
    ['yesterday'],
    [''],
    ['31 Feb 2020 10:00:00 +0000'],
    ['1 Foo 2020 10:00:00'],
    ['1 Jan 2020 25:00:00'],
  ])('refuses %j', (value) => {
    expect(parseHeaderDate(value)).toBeNull();
  });
});

describe('splitAddressList', () => {
  it('splits only at commas between addresses', () => {
    expect(splitAddressList('"Doe, J" <j@x>, (a, comment) k@y , <l@z>,,Group: m@w, n@v;')).toEqual([
      '"Doe, J" <j@x>',
      '(a, comment) k@y',
      '<l@z>',
      'Group: m@w',
      'n@v;',
    ]);
  });
});
