import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PendingFolder } from './pending-folder.js';

const hash = (c: string): string => c.repeat(64);

describe('PendingFolder', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pending-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('keeps each save under its sequence number, in order, and reads it back', async () => {
    const folder = new PendingFolder(join(dir, 'pending'));
    await folder.add({ kind: 'data', name: hash('a') }, Buffer.from('pack one'));
    await folder.add({ kind: 'index', name: hash('b') }, Buffer.from('index'));
    await folder.add({ kind: 'config', name: 'ignored' }, Buffer.from('{}'));
    expect(await readdir(join(dir, 'pending'))).toEqual([
      `000000000001.data.${hash('a')}`,
      `000000000002.index.${hash('b')}`,
      '000000000003.config.config',
    ]);
    expect(folder.list().map((entry) => [entry.seq, entry.kind])).toEqual([
      [1, 'data'],
      [2, 'index'],
      [3, 'config'],
    ]);
    expect(folder.totals()).toEqual({ files: 3, bytes: 15 });
    const pack = folder.find({ kind: 'data', name: hash('a') });
    expect(pack && (await folder.read(pack, { offset: 5, length: 3 })).toString()).toBe('one');
    expect(folder.find({ kind: 'config', name: 'config' })?.size).toBe(2);
  });

  it('finds a file of every kind again when it reads the folder afresh', async () => {
    const kinds = ['config', 'keys', 'data', 'index', 'snapshots', 'runs'] as const;
    const writer = new PendingFolder(join(dir, 'pending'));
    for (const [i, kind] of kinds.entries())
      await writer.add({ kind, name: hash(String(i)) }, Buffer.from(kind));
    const reader = new PendingFolder(join(dir, 'pending'));
    await reader.scan();
    expect(reader.list().map((entry) => entry.kind)).toEqual(kinds);
  });

  it('sees what another process adds and uploads, and numbers after what it saw', async () => {
    const mine = new PendingFolder(join(dir, 'pending'));
    const theirs = new PendingFolder(join(dir, 'pending'));
    await theirs.add({ kind: 'data', name: hash('a') }, Buffer.from('their pack'));
    await theirs.add({ kind: 'index', name: hash('b') }, Buffer.from('their index'));
    // A snapshot saved here may refer to their index: it must sort after it.
    const snapshot = await mine.add({ kind: 'snapshots', name: hash('c') }, Buffer.from('s'));
    expect(snapshot.seq).toBe(3);
    expect(mine.list().map((entry) => entry.name)).toEqual([hash('a'), hash('b'), hash('c')]);

    const theirIndex = theirs.find({ kind: 'index', name: hash('b') });
    if (theirIndex) await theirs.delete(theirIndex);
    await mine.scan();
    expect(mine.find({ kind: 'index', name: hash('b') })).toBeUndefined();
    expect(mine.totals().files).toBe(2);
    expect(mine.lastDeparture).toBeGreaterThan(0);
  });

  it('takes the next number when another process took the same one at the same moment', async () => {
    const mine = new PendingFolder(join(dir, 'pending'));
    await mine.add({ kind: 'data', name: hash('a') }, Buffer.from('x'));
    // Another process's file under the number this one would take next, not seen yet.
    await writeFile(join(dir, 'pending', `000000000002.index.${hash('b')}`), 'theirs');
    await writeFile(join(dir, 'pending', `000000000002.data.${hash('c')}`), 'theirs too');
    const pack = await mine.add({ kind: 'data', name: hash('c') }, Buffer.from('mine'));
    expect(pack.seq).toBe(3);
  });

  it('removes temporary files of writers that died, and only theirs', async () => {
    const path = join(dir, 'pending');
    const folder = new PendingFolder(path);
    await folder.add({ kind: 'data', name: hash('a') }, Buffer.from('x'));
    await writeFile(join(path, '.tmp-999999999-abcdef'), 'half a pack');
    await writeFile(join(path, `.tmp-${process.pid}-abcdef`), 'being written');
    await folder.scan();
    expect((await readdir(path)).sort()).toEqual(
      [`.tmp-${process.pid}-abcdef`, `000000000001.data.${hash('a')}`].sort(),
    );
  });

  it('finds the earliest of two saves of one file, and the other once the first is gone', async () => {
    const mine = new PendingFolder(join(dir, 'pending'));
    const theirs = new PendingFolder(join(dir, 'pending'));
    await mine.add({ kind: 'data', name: hash('a') }, Buffer.from('x'));
    await theirs.add({ kind: 'data', name: hash('a') }, Buffer.from('x'));
    await mine.scan();
    const first = mine.find({ kind: 'data', name: hash('a') });
    expect(first?.seq).toBe(1);
    if (first) await mine.delete(first);
    expect(mine.find({ kind: 'data', name: hash('a') })?.seq).toBe(2);
  });

  it('is empty while its folder does not exist', async () => {
    const folder = new PendingFolder(join(dir, 'never-made'));
    await folder.scan();
    expect(folder.totals()).toEqual({ files: 0, bytes: 0 });
  });
});
