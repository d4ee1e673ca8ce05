import { createHash } from 'node:crypto';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileCopies } from './file-copies.js';
import { PackCopies } from './pack-copies.js';

describe('PackCopies', () => {
  let dir: string;
  let copies: FileCopies;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pack-copies-'));
    copies = new FileCopies(join(dir, 'files'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** A pack of `size` bytes in the pending folder, dated `ageMs` ago once adopted. */
  async function upload(packs: PackCopies, fill: string, size: number): Promise<string> {
    const bytes = Buffer.alloc(size, fill);
    const name = createHash('sha256').update(bytes).digest('hex');
    const path = join(dir, `pending-${fill}`);
    await writeFile(path, bytes);
    await packs.adopt(path, name, size);
    return name;
  }

  async function age(name: string, ageMs: number): Promise<void> {
    const then = new Date(Date.now() - ageMs);
    await utimes(join(dir, 'files', 'data', name), then, then);
  }

  it('keeps uploaded packs up to its limit, dropping the least recently used first', async () => {
    const packs = new PackCopies(copies, 250);
    const first = await upload(packs, 'a', 100);
    await age(first, 30_000);
    const second = await upload(packs, 'b', 100);
    await age(second, 20_000);
    // The first is read again: now the second is the one used least lately.
    expect((await packs.read(first))?.length).toBe(100);
    const third = await upload(packs, 'c', 100);
    expect(await packs.size(first)).toBe(100);
    expect(await packs.size(second)).toBeUndefined();
    expect(await packs.size(third)).toBe(100);
    expect((await packs.read(third, { offset: 10, length: 5 }))?.toString()).toBe('ccccc');
  });

  it('keeps none with a limit of 0', () => {
    expect(new PackCopies(copies, 0).enabled).toBe(false);
  });
});
