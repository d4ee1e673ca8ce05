import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import type * as FsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StorageError, type FileHandle, type FileInfo } from '../storage.js';
import { LocalStorage } from './local-storage.js';

// Lets a test look at the folder at the very moment save() gives a file its real name (a hard
// link, or a rename where links are unsupported), or make that step fail as a crash, a full disk
// or a filesystem without hard links would.
const hooks = vi.hoisted(() => ({
  beforeLink: undefined as undefined | ((from: string, to: string) => Promise<void>),
  beforeRename: undefined as undefined | ((from: string, to: string) => Promise<void>),
  calls: [] as string[],
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof FsPromises>();
  return {
    ...actual,
    link: async (from: string, to: string) => {
      hooks.calls.push('link');
      await hooks.beforeLink?.(from, to);
      return actual.link(from, to);
    },
    rename: async (from: string, to: string) => {
      hooks.calls.push('rename');
      await hooks.beforeRename?.(from, to);
      return actual.rename(from, to);
    },
  };
});

/** An error as node:fs reports it, with its errno code. */
const fsError = (code: string): Error => Object.assign(new Error(`${code}: simulated`), { code });

/** Resolves once `count` callers are waiting on it, so they go on together. */
function barrier(count: number): () => Promise<void> {
  let waiting = 0;
  let release: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (release = resolve));
  return () => {
    if (++waiting === count) release();
    return all;
  };
}

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

async function collect(list: AsyncIterable<FileInfo>): Promise<FileInfo[]> {
  const out: FileInfo[] = [];
  for await (const info of list) out.push(info);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(folder.length + 1))
    .sort();
}

let root: string;
let storage: LocalStorage;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mailvault-storage-'));
  storage = new LocalStorage(join(root, 'repo'));
  await storage.create();
});

afterEach(async () => {
  hooks.beforeLink = undefined;
  hooks.beforeRename = undefined;
  hooks.calls.length = 0;
  await rm(root, { recursive: true, force: true });
});

describe('LocalStorage layout', () => {
  it('creates the repository folders, with data spread over 256 sub-folders', async () => {
    const top = (await readdir(join(root, 'repo'))).sort();
    expect(top).toEqual(['condemned', 'data', 'index', 'keys', 'locks', 'runs', 'snapshots']);
    const sub = await readdir(join(root, 'repo', 'data'));
    expect(sub).toHaveLength(256);
    expect(sub).toContain('00');
    expect(sub).toContain('ff');
  });

  it('refuses to create a repository where one already is', async () => {
    await storage.save({ kind: 'config', name: 'config' }, Buffer.from('{}'));
    await expect(new LocalStorage(join(root, 'repo')).create()).rejects.toMatchObject({
      code: 'exists',
    });
  });

  it('puts each file where the format says', async () => {
    const data = Buffer.from('pack bytes');
    const name = sha(data);
    await storage.save({ kind: 'data', name }, data);
    await storage.save({ kind: 'index', name: sha(Buffer.from('i')) }, Buffer.from('i'));
    await storage.save({ kind: 'snapshots', name: sha(Buffer.from('s')) }, Buffer.from('s'));
    await storage.save({ kind: 'keys', name: sha(Buffer.from('k')) }, Buffer.from('k'));
    await storage.save({ kind: 'config', name: 'ignored' }, Buffer.from('c'));
    expect(await filesUnder(join(root, 'repo'))).toEqual(
      [
        'config',
        `data/${name.slice(0, 2)}/${name}`,
        `index/${sha(Buffer.from('i'))}`,
        `keys/${sha(Buffer.from('k'))}`,
        `snapshots/${sha(Buffer.from('s'))}`,
      ].sort(),
    );
    expect(await readFile(join(root, 'repo', 'data', name.slice(0, 2), name))).toEqual(data);
  });

  it('refuses names that could leave their folder', async () => {
    for (const name of ['../config', 'a/b', '', 'x y']) {
      await expect(storage.save({ kind: 'index', name }, Buffer.from('x'))).rejects.toThrow(
        /invalid file name/,
      );
    }
    expect(existsSync(join(root, 'repo', 'config'))).toBe(false);
  });
});

describe('LocalStorage.save', () => {
  const file: FileHandle = { kind: 'index', name: sha(Buffer.from('content')) };

  it('gives a file its real name only once all its bytes are written', async () => {
    const data = Buffer.alloc(3 * 1024 * 1024, 7);
    const target = join(root, 'repo', 'index', file.name);
    let seen: { targetExisted: boolean; temporary: Buffer; from: string } | undefined;
    hooks.beforeLink = async (from, to) => {
      expect(to).toBe(target);
      seen = { targetExisted: existsSync(target), temporary: await readFile(from), from };
    };
    await storage.save(file, data);
    expect(seen?.targetExisted).toBe(false);
    expect(seen?.temporary.equals(data)).toBe(true);
    expect(seen?.from).toMatch(/[/\\]index[/\\]\.tmp-[0-9a-f]{16}$/);
    expect((await readFile(target)).equals(data)).toBe(true);
    // A hard link, then the temporary name removed: no rename anywhere.
    expect(hooks.calls).toEqual(['link']);
  });

  it('leaves neither the file nor a temporary file behind when it fails before the link', async () => {
    hooks.beforeLink = () => Promise.reject(new Error('disk full'));
    await expect(storage.save(file, Buffer.from('content'))).rejects.toThrow(/disk full/);
    expect(await filesUnder(join(root, 'repo'))).toEqual([]);
  });

  it('does not fall back to a rename when the link fails for another reason', async () => {
    hooks.beforeLink = () => Promise.reject(fsError('EIO'));
    const error = await storage.save(file, Buffer.from('content')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ code: 'io' });
    expect(hooks.calls).toEqual(['link']);
    expect(await filesUnder(join(root, 'repo'))).toEqual([]);
  });

  for (const code of ['EPERM', 'ENOTSUP', 'EOPNOTSUPP']) {
    it(`falls back to check and rename where hard links are unsupported (${code})`, async () => {
      hooks.beforeLink = () => Promise.reject(fsError(code));
      const target = join(root, 'repo', 'index', file.name);
      let targetExisted: boolean | undefined;
      hooks.beforeRename = (from, to) => {
        expect(to).toBe(target);
        targetExisted = existsSync(target);
        return Promise.resolve();
      };
      await storage.save(file, Buffer.from('first'));
      expect(hooks.calls).toEqual(['link', 'rename']);
      expect(targetExisted).toBe(false);
      expect((await storage.load(file)).toString()).toBe('first');
      // The existence check still refuses an overwrite, and cleans up.
      const error = await storage.save(file, Buffer.from('second')).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'exists' });
      expect((await storage.load(file)).toString()).toBe('first');
      expect(await filesUnder(join(root, 'repo'))).toEqual([`index/${file.name}`]);
    });
  }

  it('leaves no temporary file after a successful save', async () => {
    await storage.save(file, Buffer.from('content'));
    await storage.save({ kind: 'data', name: sha(Buffer.from('d')) }, Buffer.from('d'));
    const names = await filesUnder(join(root, 'repo'));
    expect(names.filter((name) => name.includes('.tmp-'))).toEqual([]);
    expect(names).toHaveLength(2);
  });

  it('refuses to overwrite a file, keeping the original and leaving no temporary file', async () => {
    await storage.save(file, Buffer.from('first'));
    const error = await storage.save(file, Buffer.from('second')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ code: 'exists' });
    expect((error as Error).message).toMatch(/already exists/);
    expect(storage.isPermanent(error)).toBe(true);
    expect(storage.isNotFound(error)).toBe(false);
    expect((await storage.load(file)).toString()).toBe('first');
    expect(await filesUnder(join(root, 'repo'))).toEqual([`index/${file.name}`]);
  });

  it('lets exactly one of two concurrent saves of one name succeed', async () => {
    // Both temporary files are complete before either takes the name: the race the check-then-
    // rename of old could lose, silently overwriting the first file with the second.
    hooks.beforeLink = barrier(2);
    const results = await Promise.allSettled([
      storage.save(file, Buffer.from('writer one')),
      storage.save(file, Buffer.from('writer two')),
    ]);
    const won = results.flatMap((result, i) => (result.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    const lost = results.find((result) => result.status === 'rejected');
    expect(lost?.reason).toBeInstanceOf(StorageError);
    expect(lost?.reason).toMatchObject({ code: 'exists' });
    const winner = won[0] === 0 ? 'writer one' : 'writer two';
    expect((await storage.load(file)).toString()).toBe(winner);
    expect(await filesUnder(join(root, 'repo'))).toEqual([`index/${file.name}`]);
  });

  it('lets exactly one of many concurrent saves of one name succeed', async () => {
    const name = sha(Buffer.from('contended'));
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        storage.save({ kind: 'data', name }, Buffer.from(`copy ${i}`)),
      ),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    for (const result of results)
      if (result.status === 'rejected') expect(result.reason).toMatchObject({ code: 'exists' });
    expect(await filesUnder(join(root, 'repo'))).toEqual([`data/${name.slice(0, 2)}/${name}`]);
  });

  it('writes files only their owner can read', async () => {
    await storage.save(file, Buffer.from('secret-ish'));
    const mode = (await stat(join(root, 'repo', 'index', file.name))).mode & 0o777;
    expect(mode & 0o077).toBe(0);
  });
});

describe('LocalStorage reads', () => {
  const data = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 31) % 251));
  const file: FileHandle = { kind: 'data', name: sha(data) };

  beforeEach(async () => {
    await storage.save(file, data);
  });

  it('loads a whole file and byte ranges of it', async () => {
    expect((await storage.load(file)).equals(data)).toBe(true);
    expect((await storage.load(file, { offset: 0, length: 10 })).equals(data.subarray(0, 10))).toBe(
      true,
    );
    expect(
      (await storage.load(file, { offset: 54_321, length: 40_000 })).equals(
        data.subarray(54_321, 94_321),
      ),
    ).toBe(true);
    const tail = await storage.load(file, { offset: data.length - 4, length: 4 });
    expect(tail.equals(data.subarray(-4))).toBe(true);
    expect(await storage.load(file, { offset: 100, length: 0 })).toHaveLength(0);
  });

  it('fails a range that runs past the end instead of returning short data', async () => {
    await expect(storage.load(file, { offset: data.length - 10, length: 11 })).rejects.toThrow(
      /shorter than expected/,
    );
  });

  it('reports sizes with stat and list', async () => {
    expect(await storage.stat(file)).toEqual({ name: file.name, size: data.length });
    expect(await collect(storage.list('data'))).toEqual([{ name: file.name, size: data.length }]);
  });

  it('lists the files of a kind and skips temporary files left by a crash', async () => {
    const names = ['a', 'b', 'c'].map((label) => sha(Buffer.from(label)));
    for (const name of names) await storage.save({ kind: 'snapshots', name }, Buffer.from(name));
    await writeFile(join(root, 'repo', 'snapshots', '.tmp-0123456789abcdef'), 'half');
    await writeFile(join(root, 'repo', 'data', '00', '.tmp-0123456789abcdef'), 'half a pack');
    expect((await collect(storage.list('snapshots'))).map((info) => info.name)).toEqual(
      [...names].sort(),
    );
    expect((await collect(storage.list('data'))).map((info) => info.name)).toEqual([file.name]);
    expect(await collect(storage.list('locks'))).toEqual([]);
  });

  it('lists only names of the right form, passing over strays', async () => {
    const repo = join(root, 'repo');
    const snapshot = sha(Buffer.from('a snapshot'));
    await storage.save({ kind: 'snapshots', name: snapshot }, Buffer.from('a snapshot'));
    const index = sha(Buffer.from('an index'));
    await storage.save({ kind: 'index', name: index }, Buffer.from('an index'));
    // What Finder, Windows, editors and copies leave behind.
    for (const folder of [
      'data',
      'data/00',
      `data/${file.name.slice(0, 2)}`,
      'index',
      'snapshots',
      'keys',
    ])
      await writeFile(join(repo, folder, '.DS_Store'), 'Bud1');
    await writeFile(join(repo, 'index', 'Thumbs.db'), 'x');
    await writeFile(join(repo, 'index', `${index}.orig`), 'a copy');
    await writeFile(join(repo, 'index', index.toUpperCase().slice(0, 63) + 'A'), 'upper case');
    await writeFile(join(repo, 'snapshots', snapshot.slice(0, 63)), 'too short');
    await writeFile(join(repo, 'data', file.name.slice(0, 2), `${file.name}~`), 'backup');
    // A folder with a file's name is not a file.
    await mkdir(join(repo, 'index', sha(Buffer.from('a folder'))));
    expect((await collect(storage.list('index'))).map((info) => info.name)).toEqual([index]);
    expect((await collect(storage.list('snapshots'))).map((info) => info.name)).toEqual([snapshot]);
    expect(await collect(storage.list('keys'))).toEqual([]);
    expect(await collect(storage.list('data'))).toEqual([{ name: file.name, size: data.length }]);
  });

  it('descends only into the two-hex-digit folders of data/', async () => {
    const repo = join(root, 'repo');
    const stray = sha(Buffer.from('elsewhere'));
    // Well-named files in folders that are not data/XX, and a file named like a sub-folder.
    for (const folder of ['data/lost+found', 'data/AB', 'data/abc', 'data/.Trash'])
      await mkdir(join(repo, folder), { recursive: true });
    for (const folder of ['data/lost+found', 'data/AB', 'data/abc', 'data/.Trash'])
      await writeFile(join(repo, folder, stray), 'x');
    await writeFile(join(repo, 'data', stray), 'a pack outside any sub-folder');
    await rm(join(repo, 'data', 'fe'), { recursive: true });
    await writeFile(join(repo, 'data', 'fe'), 'a file where a folder should be');
    expect(await collect(storage.list('data'))).toEqual([{ name: file.name, size: data.length }]);
  });

  it('lists nothing, rather than failing, for a folder that is absent', async () => {
    // A repository copied with a tool that drops empty folders (git does) is still readable.
    await rm(join(root, 'repo', 'locks'), { recursive: true });
    expect(await collect(storage.list('locks'))).toEqual([]);
  });

  it('removes files', async () => {
    await storage.remove(file);
    expect(await collect(storage.list('data'))).toEqual([]);
  });
});

describe('LocalStorage errors', () => {
  const missing: FileHandle = { kind: 'index', name: sha(Buffer.from('nothing')) };

  it('classifies a missing file as not found, permanent, and names it', async () => {
    // Started one at a time: a rejection must never wait unobserved for its turn.
    for (const attempt of [
      () => storage.load(missing),
      () => storage.load(missing, { offset: 0, length: 1 }),
      () => storage.stat(missing),
      () => storage.remove(missing),
    ]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(storage.isNotFound(error)).toBe(true);
      expect(storage.isPermanent(error)).toBe(true);
      expect((error as Error).message).toBe(`index/${missing.name} not found`);
    }
  });

  it('names a missing config plainly', async () => {
    const error = await storage.load({ kind: 'config', name: 'config' }).catch((e: unknown) => e);
    expect(storage.isNotFound(error)).toBe(true);
    expect((error as Error).message).toBe('config not found');
  });

  it('does not call other failures "not found"', () => {
    expect(storage.isNotFound(new Error('ENOENT'))).toBe(false);
    expect(storage.isNotFound(new StorageError('x', 'io'))).toBe(false);
    expect(storage.isPermanent(new StorageError('x', 'io'))).toBe(false);
    expect(storage.isPermanent(new StorageError('x', 'denied'))).toBe(true);
  });
});
