import { describe, expect, it } from 'vitest';
import { encodeBase64Lines, matchBase64Body } from './base64-lines.js';

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

describe('encodeBase64Lines', () => {
  it('wraps canonical base64 without a final line ending', () => {
    expect(text(encodeBase64Lines(latin1('abcdefgh'), 4, 'crlf'))).toBe('YWJj\r\nZGVm\r\nZ2g=');
    expect(text(encodeBase64Lines(latin1('abcdefgh'), 5, 'lf'))).toBe('YWJjZ\nGVmZ2\ng=');
    expect(text(encodeBase64Lines(new Uint8Array(), 76, 'lf'))).toBe('');
  });

  it('refuses a line length below one', () => {
    expect(() => encodeBase64Lines(latin1('x'), 0, 'lf')).toThrow(RangeError);
  });
});

describe('matchBase64Body', () => {
  it('matches only the given range of a larger buffer', () => {
    const buf = latin1('xxQUJD\r\nREVG\r\nyy');
    expect(matchBase64Body(buf, 2, 14)).toMatchObject({ lineLength: 4, eol: 'crlf', dataEnd: 12 });
    expect(text(matchBase64Body(buf, 2, 14)?.decoded ?? new Uint8Array())).toBe('ABCDEF');
    expect(matchBase64Body(buf, 2, 16)).toBeNull();
  });
});
