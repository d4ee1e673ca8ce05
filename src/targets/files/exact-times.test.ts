import { describe, expect, it } from 'vitest';
import { settableByNode, touchTime } from './exact-times.js';

describe('exact file times', () => {
  it('are written for touch -d as @SECONDS.NANOSECONDS', () => {
    expect(touchTime(1_700_000_000_123_456_789n)).toBe('@1700000000.123456789');
    expect(touchTime(1_700_000_000_000_000_007n)).toBe('@1700000000.000000007');
  });

  it('are left to Node when nothing is below the microsecond', () => {
    expect(settableByNode(1_700_000_000_123_456_000n)).toBe(true);
    expect(settableByNode(1_700_000_000_123_456_001n)).toBe(false);
  });
});
