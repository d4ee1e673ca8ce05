import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isBodyWithNul, mayHideNul, servedSha256 } from './nul-bytes.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');
const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

describe('NUL bytes over IMAP', () => {
  it('suspects a 0x80 outside UTF-8, not one inside it', () => {
    expect(mayHideNul(bytes('before\x80after'))).toBe(true);
    expect(mayHideNul(bytes('5 \x80'))).toBe(true);
    expect(mayHideNul(bytes('\x80 at the start'))).toBe(true);
    expect(mayHideNul(bytes('caf\xe9\x80'))).toBe(true); // é in Latin-1, then a stand-in
    expect(mayHideNul(Buffer.from('it’s — “fine” … À'))).toBe(false);
    expect(mayHideNul(bytes('\xe2\x80'))).toBe(true); // a sequence cut short
    expect(mayHideNul(bytes('\xe0\x80\x80'))).toBe(true); // overlong: not UTF-8
    expect(mayHideNul(bytes('no high bytes at all'))).toBe(false);
  });

  it('proves a BINARY answer to be the BODY[] answer with NUL bytes back in place', () => {
    const stored = bytes('a\0b\x80c\0');
    const served = bytes('a\x80b\x80c\x80');
    expect(isBodyWithNul(stored, sha256(served))).toBe(true);
    expect(isBodyWithNul(served, sha256(served))).toBe(true);
    expect(isBodyWithNul(bytes('a\0b\x80c'), sha256(served))).toBe(false);
    expect(servedSha256(stored)).toBe(sha256(served));
    expect(servedSha256(served)).toBeNull();
  });
});
