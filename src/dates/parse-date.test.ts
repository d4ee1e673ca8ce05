import { describe, expect, it } from 'vitest';
import { DateError, parseDate } from './parse-date.js';

const now = new Date('2026-11-22T12:00:00Z');
const time = (text: string, role: 'start' | 'end' = 'end'): string => {
  const spec = parseDate(text, '--at', role, now);
  if (spec.kind !== 'time') throw new Error(`expected a time for ${text}`);
  return spec.time.toISOString();
};

describe('parseDate', () => {
  it('reads ISO 8601 with an offset or Z exactly', () => {
    expect(time('2026-11-20T14:30+01:00', 'start')).toBe('2026-11-20T13:30:00.000Z');
    expect(time('2026-11-20T14:30:15Z', 'start')).toBe('2026-11-20T14:30:15.000Z');
    expect(time('2026-11-20T14:30:15.250-0500')).toBe('2026-11-20T19:30:15.250Z');
    // What JSON output prints: milliseconds and Z.
    expect(time('2026-11-20T14:30:15.123Z')).toBe('2026-11-20T14:30:15.123Z');
  });

  it('reads times without an offset as local time', () => {
    expect(time('2026-11-20T14:30', 'start')).toBe(new Date(2026, 10, 20, 14, 30).toISOString());
    expect(time('20/11/2026 14:30:05', 'start')).toBe(
      new Date(2026, 10, 20, 14, 30, 5).toISOString(),
    );
  });

  it("makes a time its unit's last moment as an end, so a printed time means what it showed", () => {
    // `snapshots` prints 2026-11-20 14:30:05 for a snapshot of 14:30:05.250: --at takes it back.
    expect(time('2026-11-20 14:30:05')).toBe(new Date(2026, 10, 20, 14, 30, 5, 999).toISOString());
    expect(time('20/11/2026 14:30:05')).toBe(new Date(2026, 10, 20, 14, 30, 5, 999).toISOString());
    expect(time('2026-11-20T14:30')).toBe(new Date(2026, 10, 20, 14, 30, 59, 999).toISOString());
    expect(time('2026-11-20T14:30:15.2Z')).toBe('2026-11-20T14:30:15.299Z');
    expect(time('2026-11-20T14:30:15.25Z')).toBe('2026-11-20T14:30:15.259Z');
    expect(time('2026-11-20T14:30:15.123456Z')).toBe('2026-11-20T14:30:15.123Z');
  });

  it('makes a bare day its last moment as an end and its first as a start', () => {
    expect(time('2026-11-03', 'end')).toBe(new Date(2026, 10, 3, 23, 59, 59, 999).toISOString());
    expect(time('2026-11-03', 'start')).toBe(new Date(2026, 10, 3).toISOString());
  });

  it('reads ages, with m for minutes and M for months', () => {
    expect(time('90m')).toBe('2026-11-22T10:30:00.000Z');
    expect(time('6h')).toBe('2026-11-22T06:00:00.000Z');
    const month = new Date(now);
    month.setMonth(month.getMonth() - 1);
    expect(time('1M')).toBe(month.toISOString());
  });

  it('refuses an age older than any date, naming the option, instead of an invalid time', () => {
    for (const age of ['999999999Y', '99999999999999999999D', '9999999999999999h'])
      expect(() => parseDate(age, '--after', 'start', now)).toThrow(
        new DateError('--after', age, 'that long ago is before any date there can be'),
      );
    expect(time('200000Y')).toMatch(/^-19/);
  });

  it('knows first and last', () => {
    expect(parseDate('last', '--at')).toEqual({ kind: 'last' });
    expect(parseDate('first', '--at')).toEqual({ kind: 'first' });
  });

  it.each(['yesterday', '2026-13-01', '2026-02-30', '31/02/2026', '12:00', ''])(
    'refuses %j with the option named',
    (text) => {
      expect(() => parseDate(text, '--at')).toThrow(DateError);
      expect(() => parseDate(text, '--at')).toThrow(/^--at: cannot read the date/);
    },
  );
});
