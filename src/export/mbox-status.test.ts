import { describe, expect, it } from 'vitest';
import { statusFields, withStatusFields } from './mbox-status.js';

const entry = (text: string, flags: string[]): string => {
  const { head, fields, rest } = withStatusFields(Buffer.from(text, 'latin1'), flags);
  return Buffer.concat([head, fields, rest]).toString('latin1');
};

describe('mbox flag fields', () => {
  it('write Status, X-Status and X-Keywords as mutt and Dovecot read them', () => {
    expect(statusFields([], '\n')).toBe('Status: O\n');
    expect(statusFields(['\\Seen'], '\n')).toBe('Status: RO\n');
    expect(
      statusFields(
        ['\\Deleted', '\\Draft', '\\Flagged', '\\Answered', '\\Seen', '\\Recent'],
        '\r\n',
      ),
    ).toBe('Status: RO\r\nX-Status: AFTD\r\n');
    expect(statusFields(['$Forwarded', '\\Flagged', 'NonJunk'], '\n')).toBe(
      'Status: O\nX-Status: F\nX-Keywords: $Forwarded NonJunk\n',
    );
  });

  it('declare the keywords of the file in the first message, as Dovecot needs', () => {
    expect(statusFields(['a'], '\n', { uidValidity: 1700000000, keywords: ['a', '$b'] })).toBe(
      'Status: O\nX-IMAPbase: 1700000000 0000000000 a $b\nX-Keywords: a\n',
    );
    expect(statusFields([], '\n', { uidValidity: 1700000000, keywords: [] })).toBe('Status: O\n');
  });

  it('go at the end of the header block, with its line ends, the rest untouched', () => {
    expect(entry('Subject: a\r\nFrom: b\r\n\r\nbody\r\n', ['\\Seen', '\\Answered'])).toBe(
      'Subject: a\r\nFrom: b\r\nStatus: RO\r\nX-Status: A\r\n\r\nbody\r\n',
    );
    expect(entry('Subject: a\n\n', [])).toBe('Subject: a\nStatus: O\n\n');
    // No body: the fields end the header; no line end at all: one is added first.
    expect(entry('Subject: a\r\n', [])).toBe('Subject: a\r\nStatus: O\r\n');
    expect(entry('Subject: a', [])).toBe('Subject: a\nStatus: O\n');
    // An empty header block.
    expect(entry('\r\nbody', [])).toBe('Status: O\r\n\r\nbody');
  });

  it('replace the fields an earlier mbox store left, folded lines included', () => {
    expect(
      entry(
        'Status: RO\r\nSubject: a\r\nX-Keywords: old\r\n  folded\r\nx-status: D\r\nX-UID: 7\r\nX-IMAPbase: 1 2 old\r\nX-Statuses: kept\r\n\r\nStatus: body\r\n',
        ['\\Flagged'],
      ),
    ).toBe('Subject: a\r\nX-Statuses: kept\r\nStatus: O\r\nX-Status: F\r\n\r\nStatus: body\r\n');
  });

  it('put the fields before a CR-only message, which an mbox reader sees as one line', () => {
    expect(entry('Subject: a\r\rbody\r', ['\\Seen'])).toBe('Status: RO\nSubject: a\r\rbody\r');
  });
});
