import { describe, expect, it } from 'vitest';
import { corpusMessages } from '../../test/support/corpus.js';
import {
  asctime,
  envelopeSender,
  fromLine,
  mboxEntry,
  quoteFromLines,
  unquoteFromLines,
} from './mboxrd.js';

const quote = (text: string): string => Buffer.concat(quoteFromLines(Buffer.from(text))).toString();
const unquote = (text: string): string => unquoteFromLines(Buffer.from(text)).toString();

describe('mboxrd quoting', () => {
  it('adds one > to "From " lines at any depth of >, and only at the start of a line', () => {
    const message = [
      'Subject: quoting',
      '',
      'From here on',
      '>From the start',
      '>>From deeper',
      '>>>>From deepest',
      ' From not at the start',
      'xFrom neither',
      'From',
      '>From',
      'Fromage',
      '> From spaced',
      'From the end',
    ].join('\r\n');
    expect(quote(message).split('\r\n')).toEqual([
      'Subject: quoting',
      '',
      '>From here on',
      '>>From the start',
      '>>>From deeper',
      '>>>>>From deepest',
      ' From not at the start',
      'xFrom neither',
      'From',
      '>From',
      'Fromage',
      '> From spaced',
      '>From the end',
    ]);
  });

  it('quotes the very first line, and treats only LF as a line end', () => {
    expect(quote('From a@b Thu Jan  1 00:00:00 2026\nx')).toBe(
      '>From a@b Thu Jan  1 00:00:00 2026\nx',
    );
    // An mbox reader splits at LF: after a bare CR there is no new line to mistake.
    expect(quote('a\rFrom b\r\n>From c\n')).toBe('a\rFrom b\r\n>>From c\n');
  });

  it('gives back exactly the message when a reader removes one >', () => {
    for (const text of [
      '',
      'From ',
      '>From ',
      '>>From ',
      'From \n>From \n>>From \n',
      'a\r\n\r\nFrom x\r\n\r\n>From y',
      '>>>',
      'From\nFrom',
    ]) {
      expect(unquote(quote(text))).toBe(text);
    }
    for (const { name, raw } of corpusMessages()) {
      const quoted = Buffer.concat(quoteFromLines(raw));
      expect(unquoteFromLines(quoted).equals(raw), name).toBe(true);
      // No line of the quoted message can be taken for a separator.
      expect(/(^|\n)From /.test(quoted.toString('latin1')), name).toBe(false);
    }
  });

  it('does not copy a message that needs no quoting', () => {
    const raw = Buffer.from('Subject: x\r\n\r\nno separators here\r\n');
    const parts = quoteFromLines(raw);
    expect(parts).toHaveLength(1);
    expect(parts[0]?.buffer).toBe(raw.buffer);
  });
});

describe('mbox separators', () => {
  it('write the INTERNALDATE as asctime in UTC', () => {
    expect(asctime(new Date('2021-11-04T08:05:09Z'))).toBe('Thu Nov  4 08:05:09 2021');
    expect(asctime(new Date('2026-12-24T23:59:59-02:00'))).toBe('Fri Dec 25 01:59:59 2026');
  });

  it('take the envelope sender from Return-Path, else From, else MAILER-DAEMON', () => {
    const sender = (header: string): string => envelopeSender(Buffer.from(`${header}\r\n\r\nbody`));
    expect(sender('Return-Path: <bounce@lists.example>\r\nFrom: Alice <alice@example.com>')).toBe(
      'bounce@lists.example',
    );
    expect(sender('From: "Smith, Alice" <alice@example.com>, bob@example.com')).toBe(
      'alice@example.com',
    );
    expect(sender('From: alice@example.com (Alice)')).toBe('alice@example.com');
    expect(sender('Return-Path: <>\r\nFrom: alice@example.com')).toBe('MAILER-DAEMON');
    expect(sender('Subject: no sender')).toBe('MAILER-DAEMON');
    expect(sender('From: <a b@example.com>')).toBe('ab@example.com');
    // The body is not the header.
    expect(envelopeSender(Buffer.from('Subject: x\n\nFrom: body@example.com\n'))).toBe(
      'MAILER-DAEMON',
    );
  });

  it('end each message with a line end and a blank line', () => {
    const date = new Date('2026-01-02T03:04:05Z');
    const entry = (text: string): string =>
      Buffer.concat(mboxEntry(Buffer.from(text), date, ['\\Seen'])).toString();
    expect(entry('From: a@b\r\n\r\nhi\r\n')).toBe(
      'From a@b Fri Jan  2 03:04:05 2026\nFrom: a@b\r\nStatus: RO\r\n\r\nhi\r\n\n',
    );
    expect(entry('From: a@b\n\nno final line end')).toBe(
      'From a@b Fri Jan  2 03:04:05 2026\nFrom: a@b\nStatus: RO\n\nno final line end\n\n',
    );
    expect(entry('From: a@b')).toBe('From a@b Fri Jan  2 03:04:05 2026\nFrom: a@b\nStatus: RO\n\n');
    expect(fromLine(Buffer.from('x'), date).toString()).toBe(
      'From MAILER-DAEMON Fri Jan  2 03:04:05 2026\n',
    );
  });
});
