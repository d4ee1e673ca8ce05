import { describe, expect, it } from 'vitest';
import {
  decodeRunFile,
  encodeRunFile,
  expandRunFile,
  unchangedSnapshotId,
  type RunFile,
} from './run-file.js';

const TREE = 'ab'.repeat(32);

const file: RunFile = {
  version: 1,
  run: '20260306T010000-f1x7a003',
  hostname: 'backup1',
  program: 'mailvault test',
  unchanged: [
    {
      kind: 'account',
      source: 'mail1',
      name: 'alice@example.com',
      time: '2026-03-06T01:00:03.000Z',
      tree: TREE,
      parent: 'cd'.repeat(32),
      summary: { items: 6, newItems: 0 },
    },
  ],
};

describe('run files', () => {
  it('give each entry the id the format documents (computed apart, with Python hashlib)', () => {
    const entry = file.unchanged[0];
    if (!entry) throw new Error('no entry');
    expect(unchangedSnapshotId(entry)).toBe(
      '2a9f755263378a79ade40c0a6cbaf04e0d0eed056bbe831e25f0b9f7b26859d8',
    );
    // The parent and the summary are not part of what identifies the moment.
    expect(unchangedSnapshotId({ ...entry, parent: null, summary: {} })).toBe(
      unchangedSnapshotId(entry),
    );
    expect(unchangedSnapshotId({ ...entry, time: '2026-03-07T01:00:03.000Z' })).not.toBe(
      unchangedSnapshotId(entry),
    );
  });

  it('stand for snapshots that carry the run, host and program of their file', () => {
    const [expanded] = expandRunFile(decodeRunFile(encodeRunFile(file), 'r'));
    expect(expanded?.snapshot).toEqual({
      version: 1,
      kind: 'account',
      source: 'mail1',
      name: 'alice@example.com',
      time: '2026-03-06T01:00:03.000Z',
      run: '20260306T010000-f1x7a003',
      tree: TREE,
      parent: 'cd'.repeat(32),
      hostname: 'backup1',
      program: 'mailvault test',
      summary: { items: 6, newItems: 0 },
    });
  });

  it('are refused, with the file and the entry named, when they lack what they need', () => {
    const bad = (value: unknown) => Buffer.from(JSON.stringify(value));
    expect(() => decodeRunFile(Buffer.from('{'), 'f1')).toThrow('run file f1 is not valid JSON');
    expect(() => decodeRunFile(bad({ ...file, version: 2 }), 'f2')).toThrow(
      'run file f2 has unsupported version 2',
    );
    const noTree = { ...file.unchanged[0], tree: undefined };
    expect(() => decodeRunFile(bad({ ...file, unchanged: [noTree] }), 'f3')).toThrow(
      'run file f3: entry 0 lacks tree',
    );
  });
});
