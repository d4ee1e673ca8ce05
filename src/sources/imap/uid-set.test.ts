import { describe, expect, it } from 'vitest';
import { toUidSet, uidSetBatches } from './uid-set.js';

describe('UID sets', () => {
  it('writes runs as ranges, in order, without duplicates', () => {
    expect(toUidSet([9, 1, 2, 3, 7, 10, 3])).toBe('1:3,7,9:10');
    expect(toUidSet([42])).toBe('42');
    expect(toUidSet([])).toBe('');
  });

  it('splits long lists into sets that cover every UID once', () => {
    const uids = Array.from({ length: 12_001 }, (_, i) => i * 2 + 1);
    const batches = uidSetBatches(uids, 5000);
    expect(batches).toHaveLength(3);
    const covered = batches.flatMap((set) => set.split(',').map(Number));
    expect(covered).toEqual(uids);
  });
});
