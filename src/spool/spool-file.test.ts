import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SpoolFile } from './spool-file.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('SpoolFile', () => {
  it('gives back any range of what was written, and its SHA-256', async () => {
    dir = await mkdtemp(join(tmpdir(), 'spool-test-'));
    const data = randomBytes(300_000);
    const spool = await SpoolFile.create(dir);
    try {
      // Pieces of odd sizes, so counter blocks straddle them.
      for (let at = 0; at < data.length;) {
        const size = Math.min(data.length - at, 1 + ((at * 7919) % 40_000));
        await spool.append(data.subarray(at, at + size));
        at += size;
      }
      expect(spool.length).toBe(data.length);
      expect(spool.sha256()).toBe(createHash('sha256').update(data).digest('hex'));
      for (const [offset, length] of [
        [0, 1],
        [15, 2],
        [16, 16],
        [17, 99_999],
        [299_990, 100],
        [123_457, 65_536],
      ] as const)
        expect(spool.readSync(offset, length).equals(data.subarray(offset, offset + length))).toBe(
          true,
        );
    } finally {
      await spool.close();
    }
  });

  it('leaves no file behind, and keeps nothing readable on disk while open', async () => {
    dir = await mkdtemp(join(tmpdir(), 'spool-test-'));
    const secret = Buffer.from('Subject: the quarterly figures\r\n\r\n'.repeat(1000));
    const spool = await SpoolFile.create(dir);
    try {
      await spool.append(secret);
      // Unlinked while open: a crash leaves nothing to find.
      expect(await readdir(dir)).toEqual([]);
      const fd = (spool as unknown as { handle: { fd: number } }).handle.fd;
      const onDisk = await readFile(`/proc/self/fd/${fd}`);
      expect(onDisk.length).toBe(secret.length);
      expect(onDisk.includes('quarterly')).toBe(false);
    } finally {
      await spool.close();
    }
    expect(await readdir(dir)).toEqual([]);
  });
});
