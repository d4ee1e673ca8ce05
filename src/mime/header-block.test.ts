import { describe, expect, it } from 'vitest';
import { findHeaderEnd, headerFieldValues } from './header-block.js';

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');

describe('findHeaderEnd', () => {
  it.each([
    ['A: 1\r\nB: 2\r\n\r\nbody', 14],
    ['A: 1\nB: 2\n\nbody', 11],
    ['A: 1\nB: 2\r\n\r\nbody', 13],
    ['\r\nbody', 2],
    ['A: 1\rB: 2\r\rbody', 11],
    ['A: 1\r\n \r\nB: 2', 13],
    ['', 0],
  ])('finds the end of %j at %i', (raw, end) => {
    expect(findHeaderEnd(latin1(raw))).toBe(end);
  });
});

describe('headerFieldValues', () => {
  it('finds folded fields case-insensitively, each in full', () => {
    const header =
      'X-A: 1\r\ncontent-TYPE : text/plain;\r\n\tcharset=x\r\nX-B: 2\nContent-Type: y\n';
    expect(headerFieldValues(header, 'content-type')).toEqual([
      ' text/plain;\r\n\tcharset=x',
      ' y',
    ]);
    expect(headerFieldValues(header, 'x-c')).toEqual([]);
  });
});
