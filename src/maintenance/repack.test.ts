import { describe, expect, it } from 'vitest';
import { isSparse, parseMaxUnused } from './repack.js';

describe('--max-unused', () => {
  it('reads a percentage, or unlimited for never', () => {
    expect(parseMaxUnused('10%')).toBeCloseTo(0.1);
    expect(parseMaxUnused('0%')).toBe(0);
    expect(parseMaxUnused('100%')).toBe(1);
    expect(parseMaxUnused('2.5%')).toBeCloseTo(0.025);
    expect(parseMaxUnused('unlimited')).toBeNull();
  });

  it('refuses anything else, saying what it takes', () => {
    for (const bad of ['10', '-1%', '101%', 'ten%', '', '%'])
      expect(() => parseMaxUnused(bad)).toThrow(/--max-unused .*such as 10%/);
  });
});

describe('which packs are repacked', () => {
  const pack = (bytes: number, unusedBytes: number) => ({ bytes, unusedBytes });

  it('those whose unneeded share is above the limit, not at it', () => {
    expect(isSparse(pack(1000, 101), 0.1)).toBe(true);
    expect(isSparse(pack(1000, 100), 0.1)).toBe(false);
    expect(isSparse(pack(1000, 999), 0.1)).toBe(true);
  });

  it('with 0%, any pack with something unneeded; never one with nothing unneeded', () => {
    expect(isSparse(pack(1000, 1), 0)).toBe(true);
    expect(isSparse(pack(1000, 0), 0)).toBe(false);
  });

  it('none when unlimited, and none of an empty listing', () => {
    expect(isSparse(pack(1000, 999), null)).toBe(false);
    expect(isSparse(pack(0, 10), 0)).toBe(false);
  });
});
