import { describe, expect, it } from 'vitest';
import type { SnapshotRow } from '../../catalog/catalog.js';
import { snapshotAtDate } from './command-restore-service.js';

const row = (id: string, time: string): SnapshotRow => ({
  id,
  source: 'commands',
  account: 'db',
  time: new Date(time),
  items: 1,
  bytes: 10,
  newItems: 1,
  bytesAdded: 10,
  tree: id,
});

describe('the dump in force at a date', () => {
  const rows = [row('a', '2026-11-01T01:00:00Z'), row('b', '2026-11-02T01:00:00Z')];

  it('is the latest taken at or before it', () => {
    const at = (time: string) => snapshotAtDate(rows, { kind: 'time', time: new Date(time) })?.id;
    expect(at('2026-11-01T01:00:00Z')).toBe('a');
    expect(at('2026-11-02T00:59:59Z')).toBe('a');
    expect(at('2026-11-02T01:00:00Z')).toBe('b');
    expect(at('2026-10-31T00:00:00Z')).toBeUndefined();
  });

  it('is the first or the last when asked', () => {
    expect(snapshotAtDate(rows, { kind: 'first' })?.id).toBe('a');
    expect(snapshotAtDate(rows, { kind: 'last' })?.id).toBe('b');
    expect(snapshotAtDate([], { kind: 'last' })).toBeNull();
  });
});
