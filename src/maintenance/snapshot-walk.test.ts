import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  dirEntry,
  fileRecord,
  writeDirectory,
  writeFilesRoot,
  type EntryMeta,
} from '../filesets/file-tree.js';
import { temporaryRepository } from '../mailbox/test-repository.test-helper.js';
import type { ObjectLocation } from '../repository/index/object-index.js';
import type { Repository } from '../repository/repository.js';
import type { Snapshot } from '../repository/snapshot/snapshot.js';
import { SnapshotWalker, WalkedTrees } from './snapshot-walk.js';

let repository: Repository;
let remove: () => void;

beforeEach(async () => {
  ({ repository, remove } = await temporaryRepository());
});
afterEach(() => remove());

const idOf = (n: number): Buffer => createHash('sha256').update(`tree ${n}`).digest();
const hexOf = (n: number): string => idOf(n).toString('hex');
const somewhere: ObjectLocation = {
  pack: 'ab'.repeat(32),
  type: 'tree',
  offset: 0,
  length: 40,
  rawLength: 12,
};

describe('WalkedTrees', () => {
  it('remembers indexed trees by entry number and others by id', () => {
    for (let n = 0; n < 100; n++) repository.index.add(idOf(n), somewhere);
    const walked = new WalkedTrees(repository);
    expect(walked.has(hexOf(7))).toBe(false);
    walked.add(hexOf(7));
    walked.add(hexOf(99));
    walked.add(hexOf(1000));
    expect([7, 99, 1000].map((n) => walked.has(hexOf(n)))).toEqual([true, true, true]);
    expect([0, 8, 98, 1001].map((n) => walked.has(hexOf(n)))).toEqual([false, false, false, false]);
  });

  it('takes only a whole id for the indexed tree it names', () => {
    repository.index.add(idOf(1), somewhere);
    const walked = new WalkedTrees(repository);
    walked.add(hexOf(1));
    expect(walked.has(`${hexOf(1)}00`)).toBe(false);
    expect(walked.has(`${hexOf(1).slice(0, 62)}zz`)).toBe(false);
    walked.add(`${hexOf(1)}00`);
    walked.add('not an id');
    expect(walked.has(`${hexOf(1)}00`)).toBe(true);
    expect(walked.has('not an id')).toBe(true);
    expect(walked.has(hexOf(2))).toBe(false);
  });

  it('grows with an index that grows during the walk', () => {
    repository.index.add(idOf(0), somewhere);
    const walked = new WalkedTrees(repository);
    walked.add(hexOf(0));
    for (let n = 1; n < 5000; n++) repository.index.add(idOf(n), somewhere);
    walked.add(hexOf(4999));
    walked.add(hexOf(17));
    expect([0, 17, 4999].every((n) => walked.has(hexOf(n)))).toBe(true);
    expect(walked.has(hexOf(18))).toBe(false);
  });

  it('forgets the indexed trees when the index is loaded again (their numbers change)', () => {
    repository.index.add(idOf(1), somewhere);
    repository.index.add(idOf(2), somewhere);
    const walked = new WalkedTrees(repository);
    walked.add(hexOf(1));
    repository.index.clear();
    repository.index.add(idOf(2), somewhere);
    repository.index.add(idOf(1), somewhere);
    // Entry 0 is now tree 2, which was never walked.
    expect(walked.has(hexOf(2))).toBe(false);
    expect(walked.has(hexOf(1))).toBe(false);
  });
});

describe('SnapshotWalker', () => {
  const meta = (name: string): EntryMeta => ({
    name,
    mode: 0o755,
    uid: 0,
    gid: 0,
    user: 'root',
    group: null,
    mtime: '1700000000000000000',
  });

  /** Two file sets that share a directory /shared (with one file), and a missing /gone. */
  async function fileSets(): Promise<{ first: Snapshot; second: Snapshot; gone: string }> {
    const writer = repository.writer({ workers: 0 });
    const chunk = (await writer.save('data', Buffer.from('content'))).id.toString('hex');
    const file = fileRecord(meta('f'), {
      size: 7,
      sha256: 'cd'.repeat(32),
      chunks: [chunk],
      ino: '1',
      ctime: '1700000000000000000',
    });
    const shared = await writeDirectory(writer, [file]);
    const gone = 'ef'.repeat(32);
    const snapshot = async (name: string): Promise<Snapshot> => {
      const top = await writeDirectory(writer, [
        dirEntry(meta('shared'), shared, false),
        dirEntry(meta('gone'), gone, false),
        dirEntry(meta(name), await writeDirectory(writer, []), false),
      ]);
      const root = await writeFilesRoot(writer, {
        v: 1,
        include: ['/'],
        exclude: [],
        root: dirEntry(meta(''), top, false),
      });
      return {
        version: 1,
        kind: 'files',
        source: 'files',
        name,
        time: '2026-01-01T00:00:00.000Z',
        run: name,
        tree: root,
        parent: null,
        hostname: 'test',
        program: 'test',
        summary: {},
      };
    };
    const first = await snapshot('one');
    const second = await snapshot('two');
    await writer.flush();
    await writer.close();
    return { first, second, gone };
  }

  it('reads a tree shared by two snapshots once, and reports a missing one once', async () => {
    const { first, second, gone } = await fileSets();
    const visits: string[] = [];
    const unreadable: string[] = [];
    const walker = new SnapshotWalker(repository, {
      object: (id, type, use) => visits.push(`${use.snapshot.name} ${type} ${use.item ?? ''}`),
      unreadable: (id) => unreadable.push(id),
    });
    await walker.walk(first);
    await walker.walk(second);
    // The root, /, the three directories and the file's chunk; then the second snapshot's own
    // trees, with /shared and /gone named but not read again.
    expect(visits.filter((visit) => visit.includes(' data '))).toEqual(['one data /shared/f']);
    expect(visits.filter((visit) => visit.startsWith('two tree')).sort()).toEqual([
      'two tree /',
      'two tree /',
      'two tree /gone',
      'two tree /shared',
      'two tree /two',
    ]);
    expect(unreadable).toEqual([gone]);
  });
});
