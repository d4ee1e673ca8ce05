import { describe, expect, it } from 'vitest';
import { nextSlice, parseSubset } from './data-subset.js';

const packs = ['a1', 'b2', 'c3', 'd4', 'e5', 'f6', 'g7', 'h8', 'i9', 'j0'];

describe('check --read-data-subset', () => {
  it('reads every pack once over as many runs as the percentage says, then starts again', () => {
    let cursor: string | null = null;
    const read: string[] = [];
    for (let run = 0; run < 4; run++) {
      const slice = nextSlice(packs, 30, cursor);
      expect(slice.chosen).toHaveLength(3);
      read.push(...slice.chosen);
      cursor = slice.cursor;
    }
    // 12 reads: the ten packs in order, then the first two again.
    expect(read).toEqual([...packs, 'a1', 'b2']);
  });

  it('takes packs added meanwhile in their place in the round', () => {
    const first = nextSlice(packs, 50, null);
    expect(first.chosen).toEqual(['a1', 'b2', 'c3', 'd4', 'e5']);
    const second = nextSlice([...packs, 'aa', 'ee'], 50, first.cursor);
    expect(second.chosen).toEqual(['ee', 'f6', 'g7', 'h8', 'i9', 'j0']);
    const third = nextSlice([...packs, 'aa', 'ee'], 50, second.cursor);
    expect(third.chosen[0]).toBe('a1');
    expect(third.chosen).toContain('aa');
  });

  it('reads at least one pack, and copes with a cursor whose pack is gone', () => {
    expect(nextSlice(packs, 1, null).chosen).toEqual(['a1']);
    expect(nextSlice(packs, 20, 'zz').chosen).toEqual(['a1', 'b2']);
    expect(nextSlice(packs, 20, 'c').chosen).toEqual(['c3', 'd4']);
    expect(nextSlice([], 20, 'c')).toEqual({ chosen: [], cursor: 'c' });
  });

  it('takes a percentage, and refuses anything else', () => {
    expect(parseSubset('10%')).toBe(10);
    expect(parseSubset('2.5')).toBe(2.5);
    for (const bad of ['0%', '101%', 'ten', '1/7'])
      expect(() => parseSubset(bad)).toThrow(/give a percentage such as 10%/);
  });
});
