import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalStorage } from '../storage/local/local-storage.js';
import { WrongPassphraseError } from './crypto/key-file.js';
import { DamagedObjectError, ObjectNotFoundError, Repository } from './repository.js';
import { UnsupportedFormatError } from './repository-config.js';
import type { Snapshot } from './snapshot/snapshot.js';

// Cheapest scrypt the code accepts: these tests are about the format, not the key derivation.
const COST = 10;
const PASSPHRASE = 'correct horse battery staple';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

let root: string;
let path: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mailvault-repository-'));
  path = join(root, 'repo');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const init = (passphrase = PASSPHRASE): Promise<Repository> =>
  Repository.init(new LocalStorage(path), passphrase, { scryptCost: COST });

const openFresh = async (passphrase = PASSPHRASE): Promise<Repository> => {
  const repository = await Repository.open(new LocalStorage(path), passphrase);
  await repository.loadIndex();
  return repository;
};

function snapshotOf(name: string, tree: string): Snapshot {
  return {
    version: 1,
    kind: 'account',
    source: 'mail1',
    name,
    time: '2026-03-01T02:00:00.000Z',
    run: '20260301T020000-0badcafe',
    tree,
    parent: null,
    hostname: 'backup-host',
    program: 'mailvault test',
    summary: { items: 3, bytes: 1234 },
  };
}

describe('Repository.init and open', () => {
  it('creates a repository that opens with its passphrase', async () => {
    const created = await init();
    const opened = await Repository.open(new LocalStorage(path), PASSPHRASE);
    expect(opened.config.id).toBe(created.config.id);
    expect(opened.keyName).toBe(created.keyName);
    expect(opened.key.encryption).toEqual(created.key.encryption);
  });

  it('writes a plain JSON config anyone can read without the passphrase', async () => {
    const created = await init();
    const config = JSON.parse(await readFile(join(path, 'config'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(config).toEqual({
      format: 'mailvault-repository',
      version: 1,
      id: created.config.id,
      created: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
      chunker: { minSize: 32768, avgSize: 131072, maxSize: 1048576 },
    });
    expect(created.config.id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('names its key file by the SHA-256 of the file', async () => {
    const created = await init();
    const keys = await readdir(join(path, 'keys'));
    expect(keys).toEqual([created.keyName]);
    const bytes = await readFile(join(path, 'keys', created.keyName));
    expect(created.keyName).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('refuses a wrong passphrase', async () => {
    await init();
    await expect(
      Repository.open(new LocalStorage(path), 'Correct horse battery staple'),
    ).rejects.toThrow(WrongPassphraseError);
  });

  it('says there is no repository, and how to make one, where there is none', async () => {
    await expect(Repository.open(new LocalStorage(path), PASSPHRASE)).rejects.toThrow(
      /no repository at .*run `mailvault init`/,
    );
  });

  it('refuses to init over an existing repository', async () => {
    await init();
    await expect(init('another')).rejects.toThrow(/already holds a repository/);
    await expect(Repository.open(new LocalStorage(path), PASSPHRASE)).resolves.toBeDefined();
  });

  it('opens with any of several passphrases, all reaching the same data', async () => {
    const first = await init('first passphrase');
    const writer = first.writer();
    const { id } = await writer.save('data', Buffer.from('a message body'));
    await writer.flush();
    const second = await first.addKey('second passphrase', COST);
    const third = await first.addKey('third passphrase', COST);
    expect(new Set([first.keyName, second, third]).size).toBe(3);
    expect((await readdir(join(path, 'keys'))).sort()).toEqual(
      [first.keyName, second, third].sort(),
    );
    for (const [passphrase, keyName] of [
      ['first passphrase', first.keyName],
      ['second passphrase', second],
      ['third passphrase', third],
    ] as const) {
      const opened = await openFresh(passphrase);
      expect(opened.keyName).toBe(keyName);
      expect((await opened.readObject(id)).toString()).toBe('a message body');
    }
    await expect(openFresh('fourth passphrase')).rejects.toThrow(WrongPassphraseError);
  });

  it('still opens with a good key file when another one is damaged', async () => {
    const created = await init('first');
    const second = await created.addKey('second', COST);
    const damaged = JSON.parse(await readFile(join(path, 'keys', second), 'utf8')) as {
      data: string;
    };
    const sealed = Buffer.from(damaged.data, 'base64');
    sealed[15] = (sealed[15] ?? 0) ^ 1;
    damaged.data = sealed.toString('base64');
    await writeFile(join(path, 'keys', second), JSON.stringify(damaged));
    await expect(Repository.open(new LocalStorage(path), 'first')).resolves.toBeDefined();
    // A damaged key file cannot be told from a wrong passphrase: both fail authentication.
    await expect(Repository.open(new LocalStorage(path), 'second')).rejects.toThrow(
      WrongPassphraseError,
    );
  });
});

describe('repository format version', () => {
  const rewriteConfig = async (change: (config: Record<string, unknown>) => void) => {
    const config = JSON.parse(await readFile(join(path, 'config'), 'utf8')) as Record<
      string,
      unknown
    >;
    change(config);
    await writeFile(join(path, 'config'), JSON.stringify(config));
  };

  it('refuses a newer format with a message telling to upgrade', async () => {
    await init();
    await rewriteConfig((config) => (config.version = 2));
    const error = await Repository.open(new LocalStorage(path), PASSPHRASE).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnsupportedFormatError);
    expect((error as Error).message).toMatch(
      /format version 2 is newer than this mailvault reads \(up to 1\); upgrade mailvault/,
    );
  });

  it('checks the version before asking anything of the passphrase', async () => {
    await init();
    await rewriteConfig((config) => (config.version = 3));
    await expect(
      Repository.open(new LocalStorage(path), 'not even the passphrase'),
    ).rejects.toThrow(UnsupportedFormatError);
  });

  it('refuses a config that is not a mailvault repository, or has a nonsense version', async () => {
    await init();
    await rewriteConfig((config) => (config.format = 'restic'));
    await expect(Repository.readConfig(new LocalStorage(path))).rejects.toThrow(
      /is not a mailvault repository/,
    );
    await rewriteConfig((config) => {
      config.format = 'mailvault-repository';
      config.version = 0;
    });
    await expect(Repository.readConfig(new LocalStorage(path))).rejects.toThrow(
      /invalid repository format version 0/,
    );
    await rewriteConfig((config) => (config.version = '1'));
    await expect(Repository.readConfig(new LocalStorage(path))).rejects.toThrow(
      /invalid repository format version 1/,
    );
    await writeFile(join(path, 'config'), 'version: 1\n');
    await expect(Repository.readConfig(new LocalStorage(path))).rejects.toThrow(/not JSON/);
  });
});

describe('objects', () => {
  it('are named by the HMAC-SHA-256 of their plaintext under the id key', async () => {
    const repository = await init();
    const plaintext = Buffer.from('Subject: hi\r\n\r\n');
    const expected = createHmac('sha256', repository.key.id).update(plaintext).digest();
    expect(repository.objectId(plaintext)).toEqual(expected);
    // Unlike a plain hash, the id says nothing to someone without the key.
    expect(expected).not.toEqual(createHash('sha256').update(plaintext).digest());
  });

  it('read back exactly, through a fresh open and loadIndex', async () => {
    const repository = await init();
    const writer = repository.writer();
    const small = Buffer.from('tiny');
    const text = Buffer.from('All work and no play makes Jack a dull boy.\n'.repeat(2000));
    const random = randomBytes(300_000);
    const tree = Buffer.from(JSON.stringify({ v: 1, names: ['a', 'b'] }));
    const ids = [
      (await writer.save('data', small)).id,
      (await writer.save('data', text)).id,
      (await writer.save('data', random)).id,
      (await writer.save('tree', tree)).id,
    ];
    await writer.flush();
    const fresh = await openFresh();
    expect(fresh.index.size).toBe(4);
    const read = await Promise.all(ids.map((id) => fresh.readObject(id)));
    // Compared through hashes: deep equality of large buffers is slow in the test runner.
    expect(read.map(sha256)).toEqual([small, text, random, tree].map(sha256));
    expect(await fresh.readTree(ids[3] as Buffer)).toEqual({ v: 1, names: ['a', 'b'] });
  });

  it('that are unknown are reported as not found', async () => {
    const repository = await init();
    await expect(repository.readObject(randomBytes(32))).rejects.toThrow(ObjectNotFoundError);
  });

  /** Saves two objects of equal sealed size in one pack; returns their ids and the pack path. */
  async function twoObjects() {
    const repository = await init();
    const writer = repository.writer();
    // Raw (too small to compress), so both seal to the same length.
    const a = await writer.save('data', Buffer.from('first object, 32 bytes long....'));
    const b = await writer.save('data', Buffer.from('other object, 32 bytes long....'));
    await writer.flush();
    const fresh = await openFresh();
    const where = fresh.locate(a.id);
    const whereB = fresh.locate(b.id);
    expect(whereB.pack).toBe(where.pack);
    expect(whereB.length).toBe(where.length);
    const packPath = join(path, 'data', where.pack.slice(0, 2), where.pack);
    return { a: a.id, b: b.id, where, whereB, packPath };
  }

  it('that were swapped inside a pack are reported damaged, not returned', async () => {
    const { a, b, where, whereB, packPath } = await twoObjects();
    const pack = await readFile(packPath);
    const sealedA = Buffer.from(pack.subarray(where.offset, where.offset + where.length));
    pack.copy(pack, where.offset, whereB.offset, whereB.offset + whereB.length);
    sealedA.copy(pack, whereB.offset);
    await writeFile(packPath, pack);
    const fresh = await openFresh();
    // Each still decrypts (it is a genuine object), but not to the content its id names.
    await expect(fresh.readObject(a)).rejects.toThrow(DamagedObjectError);
    await expect(fresh.readObject(b)).rejects.toThrow(/does not match its id/);
  });

  it('with a flipped byte are reported damaged, naming the object and its pack', async () => {
    const { a, b, where, packPath } = await twoObjects();
    const pack = await readFile(packPath);
    const at = where.offset + 15;
    pack[at] = (pack[at] ?? 0) ^ 0x10;
    await writeFile(packPath, pack);
    const fresh = await openFresh();
    const error = await fresh.readObject(a).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DamagedObjectError);
    expect(error).toMatchObject({ id: a.toString('hex'), pack: where.pack });
    expect((error as Error).message).toMatch(/failed authentication/);
    expect((await fresh.readObject(b)).toString()).toBe('other object, 32 bytes long....');
  });
});

describe('indexes', () => {
  it('are needed to find objects: a fresh open knows nothing until loadIndex', async () => {
    const repository = await init();
    const writer = repository.writer();
    const { id } = await writer.save('data', Buffer.from('x'));
    await writer.flush();
    const opened = await Repository.open(new LocalStorage(path), PASSPHRASE);
    expect(opened.index.has(id)).toBe(false);
    await opened.loadIndex();
    expect(opened.index.has(id)).toBe(true);
  });

  it('are stored sealed and named by the SHA-256 of their stored bytes', async () => {
    const repository = await init();
    const name = await repository.saveIndex({ superseded: [], packs: [] });
    const bytes = await readFile(join(path, 'index', name));
    expect(name).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(bytes.includes(Buffer.from('MVIX'))).toBe(false);
    expect(await repository.readIndexFile(name)).toEqual({ superseded: [], packs: [] });
  });

  it('that another index supersedes are ignored', async () => {
    const repository = await init();
    const entry = (label: string) => ({
      type: 'data' as const,
      id: createHash('sha256').update(label).digest(),
      offset: 0,
      length: 100,
      rawLength: 100,
    });
    const pack = createHash('sha256').update('pack').digest('hex');
    const old = await repository.saveIndex({
      superseded: [],
      packs: [{ id: pack, entries: [entry('kept'), entry('dropped')] }],
    });
    await repository.saveIndex({
      superseded: [old],
      packs: [{ id: pack, entries: [entry('kept')] }],
    });
    const fresh = await openFresh();
    expect(fresh.index.has(entry('kept').id)).toBe(true);
    expect(fresh.index.has(entry('dropped').id)).toBe(false);
  });

  it('that are damaged are refused, naming the file, rather than misread', async () => {
    const repository = await init();
    const name = await repository.saveIndex({ superseded: [], packs: [] });
    const file = join(path, 'index', name);
    const bytes = await readFile(file);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    await writeFile(file, bytes);
    await expect(repository.readIndexFile(name)).rejects.toThrow(
      new RegExp(`index ${name} failed authentication`),
    );
  });
});

describe('snapshots', () => {
  it('save, load and list, each standing alone', async () => {
    const repository = await init();
    const treeA = createHash('sha256').update('tree a').digest('hex');
    const treeB = createHash('sha256').update('tree b').digest('hex');
    const a = await repository.saveSnapshot(snapshotOf('alice@example.com', treeA));
    const b = await repository.saveSnapshot(snapshotOf('bob@example.com', treeB));
    expect(await repository.loadSnapshot(a)).toEqual(snapshotOf('alice@example.com', treeA));
    const fresh = await Repository.open(new LocalStorage(path), PASSPHRASE);
    const listed: Array<{ id: string; snapshot: Snapshot }> = [];
    for await (const item of fresh.snapshots()) listed.push(item);
    listed.sort((x, y) => x.snapshot.name.localeCompare(y.snapshot.name));
    expect(listed).toEqual([
      { id: a, snapshot: snapshotOf('alice@example.com', treeA) },
      { id: b, snapshot: snapshotOf('bob@example.com', treeB) },
    ]);
  });

  it('are encrypted and named by the SHA-256 of their stored bytes', async () => {
    const repository = await init();
    const id = await repository.saveSnapshot(snapshotOf('alice@example.com', 'ab'.repeat(32)));
    const bytes = await readFile(join(path, 'snapshots', id));
    expect(id).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(bytes.includes(Buffer.from('alice'))).toBe(false);
  });

  it('that are damaged or of a newer version are refused, naming them', async () => {
    const repository = await init();
    const id = await repository.saveSnapshot(snapshotOf('alice', 'ab'.repeat(32)));
    const file = join(path, 'snapshots', id);
    const bytes = await readFile(file);
    bytes[20] = (bytes[20] ?? 0) ^ 1;
    await writeFile(file, bytes);
    await expect(repository.loadSnapshot(id)).rejects.toThrow(
      new RegExp(`snapshot ${id} failed authentication`),
    );
    const newer = await repository.saveSnapshot({
      ...snapshotOf('alice', 'ab'.repeat(32)),
      version: 2 as 1,
    });
    await expect(repository.loadSnapshot(newer)).rejects.toThrow(/unsupported version 2/);
    const treeless: Partial<Snapshot> = snapshotOf('alice', 'ab'.repeat(32));
    delete treeless.tree;
    const broken = await repository.saveSnapshot(treeless as Snapshot);
    await expect(repository.loadSnapshot(broken)).rejects.toThrow(/lacks tree/);
  });
});
