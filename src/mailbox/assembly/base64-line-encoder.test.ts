import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeBase64Lines } from '../../mime/base64-lines.js';
import { Base64LineEncoder } from './base64-line-encoder.js';

/** What the encoder gives for `data` cut at the given offsets. */
function encodeInPieces(
  data: Buffer,
  cuts: readonly number[],
  line: number,
  eol: 'crlf' | 'lf',
): Buffer {
  const encoder = new Base64LineEncoder(line, eol);
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, data.length]) {
    out.push(encoder.push(data.subarray(from, cut)));
    from = cut;
  }
  out.push(encoder.end());
  return Buffer.concat(out);
}

describe('Base64LineEncoder', () => {
  it('gives exactly encodeBase64Lines for every line length 1..80, both line endings, and cuts at every residue', () => {
    const data = randomBytes(997);
    for (const eol of ['crlf', 'lf'] as const) {
      for (let line = 1; line <= 80; line++) {
        const expected = Buffer.from(encodeBase64Lines(data, line, eol));
        // First cuts at every offset modulo 3 and at every column of the first lines, then
        // cuts of every small length (1..7 bytes) through the whole input.
        for (let first = 0; first < Math.max(3, line); first++)
          expect(encodeInPieces(data, [first], line, eol).equals(expected)).toBe(true);
        for (let step = 1; step <= 7; step++) {
          const cuts: number[] = [];
          for (let at = step; at < data.length; at += step) cuts.push(at);
          expect(encodeInPieces(data, cuts, line, eol).equals(expected)).toBe(true);
        }
      }
    }
  });

  it('is exact for every input length around line and group boundaries, and for long single lines', () => {
    for (let length = 0; length <= 200; length++) {
      const data = randomBytes(length);
      for (const line of [1, 2, 3, 4, 57, 64, 76, 4000]) {
        const expected = Buffer.from(encodeBase64Lines(data, line, 'crlf'));
        expect(encodeInPieces(data, [Math.floor(length / 2)], line, 'crlf').equals(expected)).toBe(
          true,
        );
      }
    }
  });

  it('is exact for random sizes cut at random places (chunks of a large attachment)', () => {
    for (let round = 0; round < 20; round++) {
      const data = randomBytes(100_000 + Math.floor(Math.random() * 50_000));
      const cuts: number[] = [];
      for (let at = 0; ;) {
        at += 1 + Math.floor(Math.random() * 20_000);
        if (at >= data.length) break;
        cuts.push(at);
      }
      const line = 1 + Math.floor(Math.random() * 80);
      const eol = round % 2 === 0 ? 'crlf' : 'lf';
      expect(
        encodeInPieces(data, cuts, line, eol).equals(
          Buffer.from(encodeBase64Lines(data, line, eol)),
        ),
      ).toBe(true);
    }
  });

  it('refuses a line length that is not a positive integer', () => {
    expect(() => new Base64LineEncoder(0, 'lf')).toThrow(RangeError);
    expect(() => new Base64LineEncoder(2.5, 'lf')).toThrow(RangeError);
  });
});
