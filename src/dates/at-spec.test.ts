import { describe, expect, it } from 'vitest';
import { parseAt } from './at-spec.js';
import { DateError } from './parse-date.js';

describe('parseAt', () => {
  it('takes a snapshot id, whole or as printed (12 characters), in any case', () => {
    const id = 'c3e9df3262cea84a25aa591e44a6b55042b9af7907a97cff12d98b481ce762ec';
    expect(parseAt(id)).toEqual({ kind: 'snapshot', id });
    expect(parseAt('C3E9DF3262CE')).toEqual({ kind: 'snapshot', id: 'c3e9df3262ce' });
    expect(parseAt(' 686b964f ')).toEqual({ kind: 'snapshot', id: '686b964f' });
  });

  it('takes dates and ages as before', () => {
    expect(parseAt('last')).toEqual({ kind: 'last' });
    expect(parseAt('3d').kind).toBe('time');
    expect(parseAt('2026-11-20 14:30:05').kind).toBe('time');
  });

  it('refuses what is neither, naming the option', () => {
    expect(() => parseAt('c3e9df3', '--at')).toThrow(DateError);
    expect(() => parseAt('xyz', '--after')).toThrow(/^--after: cannot read the date/);
  });
});
