// The contract every storage backend keeps, as one suite that each backend's test file runs
// against the real thing (a local folder, an OpenSSH server, an S3 server). The repository code
// relies on nothing else: if a backend passes this, backups and restores work on it.
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, expect, it } from 'vitest';
import {
  StorageError,
  type FileHandle,
  type FileKind,
  type Storage,
} from '../../src/storage/storage.js';

export interface ContractSubject {
  storage: Storage;
  /**
   * Leaves a file at `path` below the repository's location by the backend's own means (not
   * through `storage`), as a save killed before it gave its file its real name leaves one.
   */
  leaveTemporary(path: string, data: Buffer): Promise<void>;
  /** Removes what the test made (the backend's location and anything around it). */
  cleanup(): Promise<void>;
}

/** A fresh, empty location for each test; `create()` is the suite's to call. */
export type MakeSubject = () => Promise<ContractSubject>;

const hexName = (seed: string): string => createHash('sha256').update(seed).digest('hex');

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the operation to fail');
}

/**
 * Defines the suite's tests in the calling `describe`. `options.largeBytes` is the size of the
 * large-file test (big enough to make an S3 backend use multipart).
 */
export function storageContract(make: MakeSubject, options: { largeBytes?: number } = {}): void {
  let subject: ContractSubject;
  let storage: Storage;

  beforeEach(async () => {
    subject = await make();
    storage = subject.storage;
    await storage.create();
  });
  afterEach(async () => {
    await storage.close();
    await subject.cleanup();
  });

  it('gives back exactly what was saved, whole and by byte range', async () => {
    const data = randomBytes(100_000);
    const file: FileHandle = { kind: 'data', name: hexName('pack') };
    await storage.save(file, data);
    expect((await storage.load(file)).equals(data)).toBe(true);
    expect((await storage.load(file, { offset: 0, length: 10 })).equals(data.subarray(0, 10))).toBe(
      true,
    );
    expect(
      (await storage.load(file, { offset: 54_321, length: 4096 })).equals(
        data.subarray(54_321, 54_321 + 4096),
      ),
    ).toBe(true);
    expect(
      (await storage.load(file, { offset: 99_990, length: 10 })).equals(data.subarray(99_990)),
    ).toBe(true);
    expect(await storage.stat(file)).toEqual({ name: file.name, size: data.length });
  });

  it('keeps an empty file and the config file', async () => {
    const empty: FileHandle = { kind: 'snapshots', name: hexName('empty') };
    await storage.save(empty, new Uint8Array());
    expect((await storage.load(empty)).length).toBe(0);
    expect((await storage.stat(empty)).size).toBe(0);
    const config: FileHandle = { kind: 'config', name: '' };
    await storage.save(config, Buffer.from('{"version":1}'));
    expect((await storage.load(config)).toString()).toBe('{"version":1}');
  });

  it('refuses to save over an existing key file or config, and keeps the first', async () => {
    const files: FileHandle[] = [
      { kind: 'keys', name: hexName('key') },
      { kind: 'config', name: '' },
    ];
    for (const file of files) {
      await storage.save(file, Buffer.from('first'));
      const error = await failure(storage.save(file, Buffer.from('second')));
      expect(error).toBeInstanceOf(StorageError);
      expect((error as StorageError).code).toBe('exists');
      expect(storage.isPermanent(error)).toBe(true);
      expect((await storage.load(file)).toString()).toBe('first');
    }
  });

  it('keeps a file named by its content when it is saved again (refused, or the same bytes written)', async () => {
    for (const kind of ['data', 'index', 'snapshots', 'runs'] as const) {
      const bytes = Buffer.from(`content of a ${kind} file`);
      const file: FileHandle = { kind, name: createHash('sha256').update(bytes).digest('hex') };
      await storage.save(file, bytes);
      const again = await storage.save(file, bytes).then(
        () => undefined,
        (error: unknown) => error,
      );
      if (again !== undefined) expect((again as StorageError).code).toBe('exists');
      expect((await storage.load(file)).equals(bytes)).toBe(true);
      expect(await all(storage.names(kind))).toEqual([file.name]);
    }
  });

  it('says a missing file is not found, and that retrying will not help', async () => {
    const missing: FileHandle = { kind: 'snapshots', name: hexName('missing') };
    // One at a time: each is started only when awaited, so no rejection waits unobserved.
    for (const attempt of [
      () => storage.load(missing),
      () => storage.load(missing, { offset: 0, length: 1 }),
      () => storage.stat(missing),
      () => storage.remove(missing),
    ]) {
      const error = await failure(attempt());
      expect(storage.isNotFound(error)).toBe(true);
      expect(storage.isPermanent(error)).toBe(true);
    }
  });

  it('lists each kind apart, names alone or with sizes, and forgets removed files', async () => {
    const saved = new Map<FileKind, string[]>();
    for (const kind of ['data', 'index', 'snapshots', 'keys'] as const) {
      const names = [0, 1, 2].map((i) => hexName(`${kind}${i}`));
      for (const [i, name] of names.entries())
        await storage.save({ kind, name }, Buffer.alloc(i + 1, 7));
      saved.set(kind, names.sort());
    }
    await storage.save({ kind: 'locks', name: 'host-1234' }, Buffer.from('lock'));
    for (const [kind, names] of saved) {
      expect((await all(storage.names(kind))).sort()).toEqual(names);
      const listed = (await all(storage.list(kind))).sort((a, b) => a.name.localeCompare(b.name));
      expect(listed.map((info) => info.name)).toEqual(names);
      for (const info of listed)
        expect(info.size).toBe([0, 1, 2].map((i) => hexName(`${kind}${i}`)).indexOf(info.name) + 1);
    }
    expect(await all(storage.names('locks'))).toEqual(['host-1234']);
    const gone = saved.get('data')?.[0] ?? '';
    await storage.remove({ kind: 'data', name: gone });
    expect(await all(storage.names('data'))).not.toContain(gone);
    await storage.remove({ kind: 'locks', name: 'host-1234' });
    expect(await all(storage.names('locks'))).toEqual([]);
  });

  it('lists more files than one listing page holds', async () => {
    const names = Array.from({ length: 1_050 }, (_, i) => hexName(`many${i}`));
    for (let i = 0; i < names.length; i += 50)
      await Promise.all(
        names
          .slice(i, i + 50)
          .map((name) => storage.save({ kind: 'index', name }, Buffer.from(name))),
      );
    expect((await all(storage.names('index'))).sort()).toEqual([...names].sort());
  }, 120_000);

  it('saves a large file and many files at once', async () => {
    const large = randomBytes(options.largeBytes ?? 24 * 1024 * 1024);
    const file: FileHandle = { kind: 'data', name: hexName('large') };
    const small = Array.from({ length: 32 }, (_, i) => ({
      file: { kind: 'data' as const, name: hexName(`small${i}`) },
      data: randomBytes(1000 + i),
    }));
    await Promise.all([
      storage.save(file, large),
      ...small.map((entry) => storage.save(entry.file, entry.data)),
    ]);
    expect((await storage.stat(file)).size).toBe(large.length);
    const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
    expect(sha(await storage.load(file))).toBe(sha(large));
    const tail = await storage.load(file, { offset: large.length - 5000, length: 5000 });
    expect(tail.equals(large.subarray(large.length - 5000))).toBe(true);
    for (const entry of small)
      expect((await storage.load(entry.file)).equals(entry.data)).toBe(true);
  }, 120_000);

  it('lists the files interrupted saves left under a temporary name, and removes them alone', async () => {
    const kept: FileHandle = { kind: 'index', name: hexName('kept') };
    await storage.save(kept, Buffer.from('a real file'));
    await storage.save({ kind: 'data', name: hexName('pack') }, Buffer.from('a pack'));
    const left = ['.tmp-0123abcd', 'index/.tmp-4567ef01', 'locks/.tmp-89abcdef'];
    const pack = `data/${hexName('pack').slice(0, 2)}/.tmp-fedcba98`;
    left.push(pack);
    const before = Date.now();
    for (const [i, path] of left.entries())
      await subject.leaveTemporary(path, Buffer.alloc(10 + i, 1));
    const listed = (await all(storage.temporaryFiles())).sort((a, b) =>
      a.path.localeCompare(b.path),
    );
    expect(listed.map((file) => [file.path, file.size])).toEqual(
      left
        .map((path, i) => [path, 10 + i])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    for (const file of listed) {
      // A backend's clock may stand a little apart from this one; seconds, at most.
      expect(Math.abs(file.modified.getTime() - before)).toBeLessThan(60_000);
    }
    // Readers pass over them; removing them touches nothing else.
    expect(await all(storage.names('index'))).toEqual([kept.name]);
    for (const path of left) await storage.removeTemporary(path);
    await storage.removeTemporary(pack); // gone already: no error
    expect(await all(storage.temporaryFiles())).toEqual([]);
    expect((await storage.load(kept)).toString()).toBe('a real file');
    // A real file, or anything outside the repository's folders, is never removed this way.
    for (const path of [`index/${kept.name}`, '../.tmp-0123abcd', 'elsewhere/.tmp-0123abcd']) {
      const error = await failure(storage.removeTemporary(path));
      expect(String(error)).toContain(`${path} is not a temporary file`);
      expect(storage.isPermanent(error)).toBe(true);
    }
    expect((await storage.load(kept)).toString()).toBe('a real file');
  });

  it('refuses to create a repository where one already is', async () => {
    await storage.save({ kind: 'config', name: '' }, Buffer.from('{}'));
    await expect(storage.create()).rejects.toThrow();
  });

  it('never shows a password in its location', () => {
    expect(storage.location).not.toMatch(/:[^/@:]+@/);
  });
}
