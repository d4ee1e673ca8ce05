import { describe, expect, it } from 'vitest';
import { EntryBits } from './entry-bits.js';

describe('EntryBits', () => {
  it('holds exactly the entries added, growing past its first size, and forgets them when cleared', () => {
    const bits = new EntryBits(10);
    for (const entry of [0, 7, 8, 9, 1_000, 123_457]) bits.add(entry);
    for (const entry of [0, 7, 8, 9, 1_000, 123_457]) expect(bits.has(entry)).toBe(true);
    for (const entry of [1, 6, 10, 999, 1_001, 123_456, 123_458, 10_000_000])
      expect(bits.has(entry)).toBe(false);
    // -1 is what an id not in the index has: never marked, never found.
    bits.add(-1);
    expect(bits.has(-1)).toBe(false);
    bits.clear();
    expect(bits.has(0)).toBe(false);
    expect(bits.has(123_457)).toBe(false);
  });
});
