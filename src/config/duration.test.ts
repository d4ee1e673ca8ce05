import { describe, expect, it } from 'vitest';
import { MAX_TIMER_MS, parseDurationMs, parseTimeoutMs } from './duration.js';

describe('durations', () => {
  it('reads seconds, minutes, hours, days and weeks', () => {
    expect(parseDurationMs('30s')).toBe(30_000);
    expect(parseDurationMs('90m')).toBe(5_400_000);
    expect(parseDurationMs('6h')).toBe(21_600_000);
    expect(parseDurationMs('6H')).toBe(21_600_000);
    expect(parseDurationMs('2d')).toBe(172_800_000);
    expect(parseDurationMs('1W')).toBe(604_800_000);
  });

  it('has no months or years, whose length varies', () => {
    expect(parseDurationMs('1M')).toBeNull();
    expect(parseDurationMs('1y')).toBeNull();
    expect(parseDurationMs('6')).toBeNull();
    expect(parseDurationMs('h')).toBeNull();
  });
});

describe('timeouts', () => {
  it('takes 0, with or without a unit, for no limit', () => {
    expect(parseTimeoutMs(0)).toBe(0);
    expect(parseTimeoutMs('0')).toBe(0);
    expect(parseTimeoutMs('0s')).toBe(0);
  });

  it('refuses bare numbers and what no timer can wait for', () => {
    expect(parseTimeoutMs(30)).toBeNull();
    expect(parseTimeoutMs('25d')).toBeNull();
    expect(parseTimeoutMs('24d')).toBeLessThanOrEqual(MAX_TIMER_MS);
  });
});
