import { describe, expect, it } from 'vitest';
import { ageCutoff, retentionPolicy } from './policy-from-config.js';

const now = new Date('2026-08-31T10:00:00.000Z');

describe('ages of the retention configuration', () => {
  it('count minutes, hours, days and weeks as fixed lengths', () => {
    expect(ageCutoff('90m', now).toISOString()).toBe('2026-08-31T08:30:00.000Z');
    expect(ageCutoff('12h', now).toISOString()).toBe('2026-08-30T22:00:00.000Z');
    expect(ageCutoff('30d', now).toISOString()).toBe('2026-08-01T10:00:00.000Z');
    expect(ageCutoff('2w', now).toISOString()).toBe('2026-08-17T10:00:00.000Z');
  });

  it('count months and years by the calendar, ending on a shorter month’s last day', () => {
    expect(ageCutoff('6M', now).toISOString()).toBe('2026-02-28T10:00:00.000Z');
    expect(ageCutoff('1M', now).toISOString()).toBe('2026-07-31T10:00:00.000Z');
    expect(ageCutoff('1y', new Date('2028-02-29T00:00:00.000Z')).toISOString()).toBe(
      '2027-02-28T00:00:00.000Z',
    );
  });

  it('refuse what is not an age', () => {
    expect(() => ageCutoff('30 days', now)).toThrow('"30 days" is not an age');
  });

  it('make a policy with keepWithin in milliseconds and the other rules as they are', () => {
    expect(
      retentionPolicy({ keepWithin: '30d', keepDaily: 7, legalHold: ['ceo@example.com'] }, now),
    ).toEqual({ keepWithin: 30 * 86_400_000, keepDaily: 7, legalHold: ['ceo@example.com'] });
  });
});
