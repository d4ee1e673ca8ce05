import { describe, expect, it } from 'vitest';
import type { FileKind } from '../storage.js';
import type { PendingFile } from './pending-folder.js';
import { uploadable } from './upload-order.js';

const file = (seq: number, kind: FileKind): PendingFile => ({
  seq,
  kind,
  name: `${kind}-${seq}`,
  size: 1,
  fileName: `${seq}.${kind}`,
});

const names = (files: PendingFile[]): string[] => files.map((entry) => entry.name);

describe('uploadable', () => {
  const saved = [
    file(1, 'data'),
    file(2, 'data'),
    file(3, 'index'),
    file(4, 'snapshots'),
    file(5, 'data'),
  ];

  it('sends packs at once, and an index or snapshot only once everything before it is sent', () => {
    expect(names(uploadable(saved, new Set(), 10))).toEqual(['data-1', 'data-2', 'data-5']);
    // Packs 1 and 2 uploading: the index still waits for them.
    expect(names(uploadable(saved, new Set(['1.data', '2.data']), 10))).toEqual(['data-5']);
    // Both sent (gone from the folder): the index goes, the snapshot waits for it.
    expect(names(uploadable(saved.slice(2), new Set(), 10))).toEqual(['index-3', 'data-5']);
    expect(names(uploadable(saved.slice(3), new Set(), 10))).toEqual(['snapshots-4', 'data-5']);
  });

  it('starts no more than there is room for, earliest first', () => {
    expect(names(uploadable(saved, new Set(), 1))).toEqual(['data-1']);
    expect(names(uploadable(saved, new Set(), 0))).toEqual([]);
  });

  it('lets files of one number (two processes that did not see each other) go together', () => {
    const together = [file(7, 'snapshots'), { ...file(7, 'index'), fileName: '7.index.b' }];
    expect(names(uploadable(together, new Set(), 10))).toEqual(['snapshots-7', 'index-7']);
  });

  it('has nothing to send from an empty folder', () => {
    expect(uploadable([], new Set(), 4)).toEqual([]);
  });
});
