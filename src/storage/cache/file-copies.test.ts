import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileCopies } from './file-copies.js';
import { KnownListings } from './known-listings.js';

const named = (text: string): { name: string; bytes: Buffer } => {
  const bytes = Buffer.from(text);
  return { name: createHash('sha256').update(bytes).digest('hex'), bytes };
};

describe('FileCopies', () => {
  let dir: string;
  let copies: FileCopies;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'copies-'));
    copies = new FileCopies(join(dir, 'files'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('keeps a copy and gives it back, whole or in part', async () => {
    const index = named('an index file');
    await copies.keep({ kind: 'index', ...index }, index.bytes);
    expect(await copies.read({ kind: 'index', name: index.name })).toEqual(index.bytes);
    expect(
      (
        await copies.read({ kind: 'index', name: index.name }, { offset: 3, length: 5 })
      )?.toString(),
    ).toBe('index');
    expect(await copies.size({ kind: 'index', name: index.name })).toBe(index.bytes.length);
    expect(await copies.read({ kind: 'index', name: named('other').name })).toBeUndefined();
  });

  it('drops a copy whose content no longer matches its name, so the remote is asked again', async () => {
    const snapshot = named('a snapshot');
    await copies.keep({ kind: 'snapshots', ...snapshot }, snapshot.bytes);
    await writeFile(join(dir, 'files', 'snapshots', snapshot.name), 'a snaps'); // torn by a crash
    expect(await copies.read({ kind: 'snapshots', name: snapshot.name })).toBeUndefined();
    expect(await readdir(join(dir, 'files', 'snapshots'))).toEqual([]);
  });

  it('keeps the config, which is not named by its content, as it is', async () => {
    await copies.keep({ kind: 'config', name: 'config' }, Buffer.from('{"version":2}'));
    expect((await copies.read({ kind: 'config', name: 'anything' }))?.toString()).toBe(
      '{"version":2}',
    );
  });

  it('adopts an uploaded file as its copy, dated now', async () => {
    const key = named('a key file');
    const uploaded = join(dir, 'uploaded');
    await writeFile(uploaded, key.bytes);
    const old = new Date(Date.now() - 3_600_000);
    await utimes(uploaded, old, old);
    await copies.adopt(uploaded, { kind: 'keys', name: key.name });
    const [entry] = await copies.entries('keys');
    expect(entry?.name).toBe(key.name);
    expect(entry?.madeAt).toBeGreaterThan(Date.now() - 60_000);
    await copies.remove({ kind: 'keys', name: key.name });
    expect(await copies.entries('keys')).toEqual([]);
  });
});

describe('KnownListings', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'listings-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('remembers the last listing of a kind and when it began', async () => {
    const listings = new KnownListings(join(dir, 'listings'));
    expect(await listings.read('snapshots')).toBeUndefined();
    const begunAt = Date.now() - 5_000;
    await listings.record('snapshots', ['a', 'b'], begunAt);
    await listings.record('snapshots', ['a', 'b', 'c'], begunAt);
    const known = await listings.read('snapshots');
    expect(known?.names).toEqual(['a', 'b', 'c']);
    expect(Math.abs((known?.listedAt ?? 0) - begunAt)).toBeLessThan(1_000);
    await listings.clear();
    expect(await listings.read('snapshots')).toBeUndefined();
  });
});
