import { describe, expect, it } from 'vitest';
import { UniqueNames, emlName, subjectOf } from './eml-names.js';
import { FolderPaths, safeComponent } from './folder-paths.js';

describe('eml file names', () => {
  it('are UID-SUBJECT.eml with the subject made safe', () => {
    expect(emlName(12, 'Minutes of the meeting')).toBe('12-Minutes of the meeting.eml');
    expect(emlName(3, 'Re: a/b \\ c:d*e?f"g<h>i|j')).toBe('3-Re_ a_b _ c_d_e_f_g_h_i_j.eml');
    expect(emlName(4, '  tabs\tand\r\n newlines  ')).toBe('4-tabs and newlines.eml');
    expect(emlName(5, '../../etc/passwd')).toBe('5-_.._etc_passwd.eml');
    expect(emlName(6, '...')).toBe('6.eml');
    expect(emlName(7, '')).toBe('7.eml');
    expect(emlName(8, 'Grüße 日本語 😀')).toBe('8-Grüße 日本語 😀.eml');
  });

  it('stay short, without cutting a character in two', () => {
    const name = emlName(1, '😀'.repeat(200));
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(120);
    expect(name).toMatch(/^1-(😀)+\.eml$/);
    expect(name).not.toContain('\ufffd');
  });

  it('are unique in a folder, whatever the case', () => {
    const names = new UniqueNames();
    expect(names.claim('1-Hello.eml')).toBe('1-Hello.eml');
    expect(names.claim('1-Hello.eml')).toBe('1-Hello-2.eml');
    expect(names.claim('1-HELLO.eml')).toBe('1-HELLO-3.eml');
    expect(names.claim('1-Hello-2.eml')).toBe('1-Hello-2-2.eml');
    expect(names.claim('2.eml')).toBe('2.eml');
  });

  it('use the decoded subject of the header only', () => {
    const message = Buffer.from(
      'From: a@b\r\nSubject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n  again\r\n\r\nSubject: body\r\n',
    );
    expect(subjectOf(message)).toBe('Grüße again');
    expect(subjectOf(Buffer.from('no header at all'))).toBe('');
  });
});

describe('folder paths', () => {
  it('nest folders as directories with safe, unique names', () => {
    const paths = new FolderPaths();
    expect(paths.of('INBOX', '/')).toEqual(['INBOX']);
    expect(paths.of('Archive/2023', '/')).toEqual(['Archive', '2023']);
    expect(paths.of('Archive', '/')).toEqual(['Archive']);
    expect(paths.of('a/b', '.')).toEqual(['a_b']);
    expect(paths.of('a_b', '.')).toEqual(['a_b~2']);
    expect(paths.of('A_B', '.')).toEqual(['A_B~3']);
    expect(paths.of('..', '/')).toEqual(['_']);
    expect(paths.of('x//y', '/')).toEqual(['x', '_', 'y']);
  });

  it('make any name one safe component', () => {
    expect(safeComponent('')).toBe('_');
    expect(safeComponent('.hidden')).toBe('hidden');
    expect(safeComponent('trailing. ')).toBe('trailing');
    expect(safeComponent('tab\there')).toBe('tab_here');
    expect(Buffer.byteLength(safeComponent('é'.repeat(300)))).toBeLessThanOrEqual(200);
  });
});
