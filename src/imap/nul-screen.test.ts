import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NulScreen, mayHideNul } from './nul-bytes.js';

/** Random text made of ASCII, well-formed UTF-8 (many holding 0x80) and stray 0x80 bytes. */
function sample(length: number, strays: number): Buffer {
  const parts: Buffer[] = [];
  let size = 0;
  const pick = ['a', 'é', '’', '\u0800', '😀', 'Ѐ', '\n'].map((s) => Buffer.from(s));
  while (size < length) {
    const part = pick[Math.floor(Math.random() * pick.length)] as Buffer;
    parts.push(part);
    size += part.length;
  }
  const bytes = Buffer.concat(parts);
  for (let i = 0; i < strays; i++) bytes[Math.floor(Math.random() * bytes.length)] = 0x80;
  return bytes;
}

function screened(bytes: Buffer, cuts: number[]): boolean {
  const screen = new NulScreen();
  let at = 0;
  for (let k = 0; at < bytes.length; k++) {
    const size = cuts[k % cuts.length] as number;
    screen.feed(bytes.subarray(at, at + size));
    at += size;
  }
  return screen.end();
}

describe('NulScreen', () => {
  it('answers as mayHideNul does on the whole, however the bytes are cut', () => {
    let suspects = 0;
    for (let round = 0; round < 400; round++) {
      const bytes = sample(50 + Math.floor(Math.random() * 200), round % 3);
      const whole = mayHideNul(bytes);
      if (whole) suspects++;
      for (const cuts of [[1], [2, 3], [5], [7, 1, 13], [12], [13, 40], [bytes.length]])
        expect(screened(bytes, cuts), `${bytes.toString('hex')} cut ${cuts.join(',')}`).toBe(whole);
    }
    // Both answers occur, or the comparison would prove little.
    expect(suspects).toBeGreaterThan(50);
    expect(suspects).toBeLessThan(350);
  });

  it('finds a stand-in at the very start and at the very end', () => {
    for (const bytes of [
      Buffer.from([0x80, 0x61, 0x62]),
      Buffer.concat([randomBytes(0), Buffer.from('abc\u00e9'), Buffer.from([0xe2, 0x80])]),
    ])
      for (const cuts of [[1], [2], [100]]) expect(screened(bytes, cuts)).toBe(mayHideNul(bytes));
  });
});
