import { lstat, mkdtemp, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileChangedError, readFileContent } from './file-content.js';
import type { FileEntry } from './file-entry.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailvault-content-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function entryOf(path: string): Promise<FileEntry> {
  const stats = await lstat(path, { bigint: true });
  return {
    path,
    name: 'f',
    type: 'file',
    mode: 0o644,
    uid: 0,
    gid: 0,
    user: null,
    group: null,
    mtimeNs: stats.mtimeNs,
    ctimeNs: stats.ctimeNs,
    ino: stats.ino,
    size: Number(stats.size),
  };
}

async function readAll(entry: FileEntry): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of readFileContent(entry).chunks) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts).toString();
}

describe('reading a walked file', () => {
  it('reads what the walk saw', async () => {
    await writeFile(join(dir, 'f'), 'content');
    expect(await readAll(await entryOf(join(dir, 'f')))).toBe('content');
  });

  it('reports a file that disappeared, or became a link, instead of reading something else', async () => {
    await writeFile(join(dir, 'f'), 'content');
    await writeFile(join(dir, 'other'), 'other');
    const entry = await entryOf(join(dir, 'f'));
    await unlink(join(dir, 'f'));
    await expect(readAll(entry)).rejects.toThrow(/disappeared/);
    await symlink('other', join(dir, 'f'));
    await expect(readAll(entry)).rejects.toThrow(FileChangedError);
  });

  it('reports a file replaced by another between the walk and the read', async () => {
    await writeFile(join(dir, 'f'), 'content');
    const entry = await entryOf(join(dir, 'f'));
    await writeFile(join(dir, 'g'), 'replacement');
    await rm(join(dir, 'f'));
    await rename(join(dir, 'g'), join(dir, 'f'));
    await expect(readAll(entry)).rejects.toThrow(/replaced/);
  });
});
