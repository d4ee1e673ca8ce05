import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileTarget, utimeSeconds, type EntryMetadata } from './file-target.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mailvault-target-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const metadata: EntryMetadata = {
  mode: 0o640,
  uid: 0,
  gid: 0,
  user: null,
  group: null,
  mtimeNs: 1_700_000_000_123_456_789n,
};
const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
const expected = (text: string) => ({ size: Buffer.byteLength(text), sha256: sha(text) });
async function* content(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text);
}
const target = (force = false): FileTarget => new FileTarget({ root, force, owners: null });

describe('restoring into a directory', () => {
  it('writes a file with its mode and mtime (to the nanosecond), below the absolute path', async () => {
    const files = target();
    await files.directory('/etc', metadata, true);
    expect(
      await files.file('/etc/a.conf', metadata, expected('alpha'), () => content('alpha')),
    ).toEqual({ kind: 'restored' });
    expect((await files.finish()).microsecondTimes).toBeNull();
    const stats = await lstat(join(root, 'etc/a.conf'), { bigint: true });
    expect(Number(stats.mode & 0o7777n)).toBe(0o640);
    expect(stats.mtimeNs).toBe(1_700_000_000_123_456_789n);
    expect(await readFile(join(root, 'etc/a.conf'), 'utf8')).toBe('alpha');
  });

  it('leaves nothing behind when the content fails its check', async () => {
    const files = target();
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('half of it');
      throw new Error('stored stream does not match what was backed up');
    }
    const outcome = await files.file('/broken', metadata, expected('whole'), broken);
    expect(outcome).toEqual({ kind: 'failed', reason: expect.stringMatching(/does not match/) });
    expect(await readdir(root)).toEqual([]);
  });

  it('keeps identical files, skips different ones, replaces them only with --force', async () => {
    await writeFile(join(root, 'same'), 'same');
    await writeFile(join(root, 'other'), 'before');
    expect(await target().file('/same', metadata, expected('same'), () => content('same'))).toEqual(
      { kind: 'present' },
    );
    expect(
      await target().file('/other', metadata, expected('after'), () => content('after')),
    ).toMatchObject({ kind: 'skipped', reason: expect.stringMatching(/different content/) });
    expect(await readFile(join(root, 'other'), 'utf8')).toBe('before');
    expect(
      await target(true).file('/other', metadata, expected('after'), () => content('after')),
    ).toEqual({ kind: 'restored' });
    expect(await readFile(join(root, 'other'), 'utf8')).toBe('after');
    expect((await readdir(root)).sort()).toEqual(['other', 'same']);
  });

  it('never replaces a directory by a file, even with --force', async () => {
    await mkdir(join(root, 'dir'));
    expect(
      await target(true).file('/dir', metadata, expected('x'), () => content('x')),
    ).toMatchObject({ kind: 'skipped', reason: expect.stringMatching(/directory is in the way/) });
  });

  it('restores links as links, and knows an identical one', async () => {
    const files = target();
    expect(await files.symlink('/link', metadata, '../nowhere')).toEqual({ kind: 'restored' });
    expect(await files.symlink('/link', metadata, '../nowhere')).toEqual({ kind: 'present' });
    expect(await files.symlink('/link', metadata, 'elsewhere')).toMatchObject({ kind: 'skipped' });
    expect(await target(true).symlink('/link', metadata, 'elsewhere')).toEqual({
      kind: 'restored',
    });
    expect((await lstat(join(root, 'link'))).isSymbolicLink()).toBe(true);
  });

  it('follows a link on the way to what is restored, not one inside the set', async () => {
    await mkdir(join(root, 'real'));
    await symlink('real', join(root, 'via'));
    expect(await target().directory('/via', metadata, true)).toEqual({ kind: 'present' });
    expect(await target().directory('/via', metadata, false)).toMatchObject({
      kind: 'skipped',
      reason: expect.stringMatching(/symlink is in the way/),
    });
  });

  it('sets directory modes last, so a read-only directory can still be filled', async () => {
    const files = target();
    await files.directory('/ro', { ...metadata, mode: 0o555 }, false);
    await files.file('/ro/f', metadata, expected('f'), () => content('f'));
    expect((await files.finish()).problems).toEqual([]);
    expect((await lstat(join(root, 'ro'))).mode & 0o7777).toBe(0o555);
  });

  it('gives links and directories their times to the nanosecond, directories after their contents', async () => {
    const files = target();
    const at = (ns: bigint): EntryMetadata => ({ ...metadata, mode: 0o755, mtimeNs: ns });
    await files.directory('/d', at(1_600_000_000_000_000_001n), false);
    await files.directory('/d/e', at(1_600_000_000_999_999_999n), false);
    await files.file('/d/e/f', at(1_500_000_000_100_200_300n), expected('f'), () => content('f'));
    await files.symlink('/d/link', at(1_400_000_000_000_000_007n), 'e/f');
    // A time Node sets alone: no sub-microsecond part.
    await files.file('/d/g', at(1_300_000_000_123_456_000n), expected('g'), () => content('g'));
    expect(await files.finish()).toEqual({ problems: [], microsecondTimes: null });
    const mtime = async (path: string): Promise<bigint> =>
      (await lstat(join(root, path), { bigint: true })).mtimeNs;
    expect(await mtime('d')).toBe(1_600_000_000_000_000_001n);
    expect(await mtime('d/e')).toBe(1_600_000_000_999_999_999n);
    expect(await mtime('d/e/f')).toBe(1_500_000_000_100_200_300n);
    expect(await mtime('d/link')).toBe(1_400_000_000_000_000_007n);
    expect(await mtime('d/g')).toBe(1_300_000_000_123_456_000n);
  });
});

describe('utimes seconds', () => {
  it('land on the recorded microsecond', () => {
    for (let us = 0n; us < 1_000_000n; us += 7_919n) {
      const ns = 1_732_294_923_000_000_000n + us * 1000n + 999n;
      const seconds = utimeSeconds(ns);
      // What libuv does: microseconds, truncated.
      const whole = Math.trunc(seconds);
      const micros =
        Math.trunc((seconds - whole) * 1e9) - (Math.trunc((seconds - whole) * 1e9) % 1000);
      expect(BigInt(whole) * 1_000_000n + BigInt(micros / 1000)).toBe(ns / 1000n);
    }
  });
});
