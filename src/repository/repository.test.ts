import { createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decompress } from 'zstd-napi';
import { LocalStorage } from '../storage/local/local-storage.js';
import { seal } from './crypto/aead.js';
import { WrongPassphraseError } from './crypto/key-file.js';
import { encodeIndex } from './index/index-file.js';
import { encodePayload } from './payload.js';
import { DamagedObjectError, ObjectNotFoundError, Repository } from './repository.js';
import { UnsupportedFormatError } from './repository-config.js';
import { sealFile } from './sealed-file.js';
import { encodeSnapshot, type Snapshot } from './snapshot/snapshot.js';

// Cheapest scrypt the code accepts: these tests are about the format, not the key derivation.
const COST = 10;
const PASSPHRASE = 'correct horse battery staple';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Opens a sealed item the way docs/repository-format.md says, with nothing but node:crypto and
 * zstd: nonce(24) | ciphertext | tag(16), message key HMAC-SHA-256(key, nonce[0..12]),
 * AES-256-GCM nonce nonce[12..24], the given associated data; then the payload's encoding byte.
 */
function openPayloadByHand(key: Buffer, sealed: Buffer, associated: Buffer): Buffer {
  const nonce = sealed.subarray(0, 24);
  const decipher = createDecipheriv(
    'aes-256-gcm',
    createHmac('sha256', key).update(nonce.subarray(0, 12)).digest(),
    nonce.subarray(12),
  );
  decipher.setAAD(associated);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  const plain = Buffer.concat([
    decipher.update(sealed.subarray(24, sealed.length - 16)),
    decipher.final(),
  ]);
  if (plain[0] === 0) return plain.subarray(1);
  if (plain[0] === 1) return decompress(plain.subarray(1));
  throw new Error(`unknown encoding ${String(plain[0])}`);
}

/** Rewrites a file with one byte flipped; returns the path. */
async function flipByte(file: string, at: number): Promise<string> {
  const bytes = await readFile(file);
  const where = at < 0 ? bytes.length + at : at;
  bytes[where] = (bytes[where] ?? 0) ^ 1;
  await writeFile(file, bytes);
  return file;
}

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

describe('Repository.open with key files it cannot read', () => {
  const keysFolder = () => join(path, 'keys');

  it('opens with the passphrase of a good key file past a garbage one', async () => {
    const created = await init();
    // Named to be listed before and after the good one: the order must not matter.
    await writeFile(join(keysFolder(), '0'.repeat(64)), 'this is not a key file\n');
    await writeFile(join(keysFolder(), 'f'.repeat(64)), randomBytes(200));
    const opened = await Repository.open(new LocalStorage(path), PASSPHRASE);
    expect(opened.keyName).toBe(created.keyName);
    expect(opened.key.encryption).toEqual(created.key.encryption);
  });

  it('passes over key files of a newer version or an unknown key derivation', async () => {
    const created = await init();
    const file = JSON.parse(await readFile(join(keysFolder(), created.keyName), 'utf8')) as Record<
      string,
      unknown
    >;
    await writeFile(join(keysFolder(), '1'.repeat(64)), JSON.stringify({ ...file, version: 2 }));
    await writeFile(
      join(keysFolder(), '2'.repeat(64)),
      JSON.stringify({ ...file, kdf: { name: 'argon2id' } }),
    );
    await expect(Repository.open(new LocalStorage(path), PASSPHRASE)).resolves.toMatchObject({
      keyName: created.keyName,
    });
  });

  it('names the unreadable key files when no key file opens', async () => {
    await init();
    await writeFile(join(keysFolder(), '0'.repeat(64)), '{"version": 1, "kd');
    const error = await Repository.open(new LocalStorage(path), 'wrong').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WrongPassphraseError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^wrong passphrase\\b.*no key file .*opens with it \\(and some could not be read: key file ${'0'.repeat(64)} is not valid JSON\\)$`,
      ),
    );
  });

  it('does not mention unreadable files when every key file was read', async () => {
    await init();
    const error = await Repository.open(new LocalStorage(path), 'wrong').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WrongPassphraseError);
    expect((error as Error).message).toMatch(/^wrong passphrase\b.*opens with it$/);
    expect((error as Error).message).not.toMatch(/could not be read/);
  });

  it('ignores files in keys/ whose name is not a SHA-256', async () => {
    await init();
    await writeFile(join(keysFolder(), '.DS_Store'), 'Bud1 garbage');
    await writeFile(join(keysFolder(), 'README'), 'not a key');
    await writeFile(join(keysFolder(), '.tmp-0123456789abcdef'), '{"version": 1');
    await expect(Repository.open(new LocalStorage(path), PASSPHRASE)).resolves.toBeDefined();
    const error = await Repository.open(new LocalStorage(path), 'wrong').catch((e: unknown) => e);
    expect((error as Error).message).not.toMatch(/could not be read/);
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

  it('are sealed with their id as associated data, as an independent reader checks', async () => {
    const repository = await init();
    const writer = repository.writer();
    const text = Buffer.from('Received: by mx1\r\n'.repeat(50));
    const { id } = await writer.save('data', text);
    await writer.flush();
    const fresh = await openFresh();
    const where = fresh.locate(id);
    const pack = await readFile(join(path, 'data', where.pack.slice(0, 2), where.pack));
    const sealed = pack.subarray(where.offset, where.offset + where.length);
    const plain = openPayloadByHand(repository.key.encryption, sealed, id);
    expect(plain).toEqual(text);
    expect(createHmac('sha256', repository.key.id).update(plain).digest()).toEqual(id);
    // Without the id as associated data it does not open.
    expect(() => openPayloadByHand(repository.key.encryption, sealed, Buffer.alloc(0))).toThrow();
  });

  it('that were swapped inside a pack fail authentication, not returned', async () => {
    const { a, b, where, whereB, packPath } = await twoObjects();
    const pack = await readFile(packPath);
    const sealedA = Buffer.from(pack.subarray(where.offset, where.offset + where.length));
    pack.copy(pack, where.offset, whereB.offset, whereB.offset + whereB.length);
    sealedA.copy(pack, whereB.offset);
    await writeFile(packPath, pack);
    const fresh = await openFresh();
    // Each is a genuine object, but sealed under the other's id: moved, it no longer opens.
    const error = await fresh.readObject(a).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DamagedObjectError);
    expect((error as Error).message).toMatch(/failed authentication/);
    await expect(fresh.readObject(b)).rejects.toThrow(/failed authentication/);
  });

  it('whose sealed bytes are opened under another id fail authentication', async () => {
    const { a, b, where, packPath } = await twoObjects();
    const fresh = await openFresh();
    const pack = await readFile(packPath);
    const sealedA = pack.subarray(where.offset, where.offset + where.length);
    expect(fresh.openObject(a, where, sealedA).toString()).toBe('first object, 32 bytes long....');
    expect(() => fresh.openObject(b, where, sealedA)).toThrow(/failed authentication/);
  });

  it('that authenticate but hold other content are refused when the id is recomputed (check)', async () => {
    const { a, where } = await twoObjects();
    const fresh = await openFresh();
    // Only a key holder can make this: content sealed under an id that is not its own.
    const forged = seal(fresh.key.encryption, encodePayload(Buffer.from('forged')), a);
    const error = (() => {
      try {
        return fresh.openObject(a, where, forged, true);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(DamagedObjectError);
    expect((error as Error).message).toMatch(/does not match its id/);
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

  it('open by hand with the label "mailvault index" as associated data', async () => {
    const repository = await init();
    const content = {
      superseded: [],
      packs: [
        {
          id: sha256(Buffer.from('a pack')),
          entries: [
            {
              type: 'data' as const,
              id: createHash('sha256').update('o').digest(),
              offset: 0,
              length: 60,
              rawLength: 20,
            },
          ],
        },
      ],
    };
    const name = await repository.saveIndex(content);
    const bytes = await readFile(join(path, 'index', name));
    const plain = openPayloadByHand(
      repository.key.encryption,
      bytes,
      Buffer.from('mailvault index', 'ascii'),
    );
    expect(plain).toEqual(encodeIndex(content));
    expect(() =>
      openPayloadByHand(repository.key.encryption, bytes, Buffer.from('mailvault snapshot')),
    ).toThrow();
  });

  it('that were renamed fail their name check, before any decryption', async () => {
    const repository = await init();
    const name = await repository.saveIndex({ superseded: [], packs: [] });
    const other = sha256(Buffer.from('another name'));
    await rename(join(path, 'index', name), join(path, 'index', other));
    await expect(repository.readIndexFile(other)).rejects.toThrow(
      `index ${other}: its content does not match its name (damaged)`,
    );
  });

  it('holding a snapshot are refused, even under their right name', async () => {
    const repository = await init();
    const id = await repository.saveSnapshot(snapshotOf('alice', 'ab'.repeat(32)));
    await copyFile(join(path, 'snapshots', id), join(path, 'index', id));
    await expect(repository.readIndexFile(id)).rejects.toThrow(
      new RegExp(`index ${id} failed authentication`),
    );
    // Sealed as an index from the start, the same plaintext is one.
    const sealed = sealFile(
      repository.key.encryption,
      'index',
      encodeIndex({ superseded: [], packs: [] }),
    );
    await writeFile(join(path, 'index', sha256(sealed)), sealed);
    await expect(repository.readIndexFile(sha256(sealed))).resolves.toEqual({
      superseded: [],
      packs: [],
    });
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
    await flipByte(file, -1);
    await expect(repository.readIndexFile(name)).rejects.toThrow(
      `index ${name}: its content does not match its name (damaged)`,
    );
    // Damaged and renamed to match: the name check passes, authentication does not.
    const bytes = await readFile(file);
    await writeFile(join(path, 'index', sha256(bytes)), bytes);
    await expect(repository.readIndexFile(sha256(bytes))).rejects.toThrow(
      new RegExp(`index ${sha256(bytes)} failed authentication`),
    );
  });
});

describe('loadIndex', () => {
  /** No pack needed reading from its header: every index file was readable. */
  const NONE = { packs: [], objects: 0, unreadable: [] };

  /** Two flushes, so two index files; returns an object of each and the index file names. */
  async function twoIndexes() {
    const repository = await init();
    const writer = repository.writer();
    const first = await writer.save('data', Buffer.from('Monday'));
    await writer.flush();
    const before = new Set(await readdir(join(path, 'index')));
    const second = await writer.save('data', Buffer.from('Tuesday'));
    await writer.flush();
    const after = await readdir(join(path, 'index'));
    const [firstIndex] = [...before];
    const [secondIndex] = after.filter((name) => !before.has(name));
    if (!firstIndex || !secondIndex) throw new Error('expected two index files');
    return { first: first.id, second: second.id, firstIndex, secondIndex };
  }

  it('reports nothing damaged in a sound repository', async () => {
    await twoIndexes();
    const opened = await Repository.open(new LocalStorage(path), PASSPHRASE);
    expect(await opened.loadIndex()).toEqual({ damaged: [], files: 2, fromHeaders: NONE });
    expect(opened.index.size).toBe(2);
  });

  it('passes over a damaged index file, reports it, and loads the others', async () => {
    const { first, second, firstIndex } = await twoIndexes();
    await flipByte(join(path, 'index', firstIndex), 30);
    const opened = await Repository.open(new LocalStorage(path), PASSPHRASE);
    const { damaged } = await opened.loadIndex();
    expect(damaged).toEqual([
      {
        kind: 'index',
        name: firstIndex,
        error: `index ${firstIndex}: its content does not match its name (damaged)`,
        damaged: true,
      },
    ]);
    expect(opened.index.has(second)).toBe(true);
    expect((await opened.readObject(second)).toString()).toBe('Tuesday');
    // The pack only the damaged file listed is read by its own header: readable, but no writer
    // takes its objects for stored until an index file lists them again.
    expect((await opened.readObject(first)).toString()).toBe('Monday');
    expect(opened.isStored(first)).toBe(false);
    expect(opened.isStored(second)).toBe(true);
  });

  it('takes a damaged index file that a readable one supersedes for replaced, not damaged', async () => {
    const { first, firstIndex } = await twoIndexes();
    const opened = await Repository.open(new LocalStorage(path), PASSPHRASE);
    await opened.loadIndex();
    // A rewrite that ended before removing the file it replaced (a crash, a failed removal).
    const replacing = await opened.saveIndex({
      superseded: [firstIndex],
      packs: [(await opened.readIndexFile(firstIndex)).packs[0] ?? { id: '', entries: [] }],
    });
    await flipByte(join(path, 'index', firstIndex), 30);
    const again = await Repository.open(new LocalStorage(path), PASSPHRASE);
    const loaded = await again.loadIndex();
    expect(loaded.damaged).toEqual([]);
    expect(loaded.fromHeaders.packs).toEqual([]);
    expect(again.indexFiles.live).toContain(replacing);
    expect(again.isStored(first)).toBe(true);
  });

  it('passes over index files that fail authentication or are not index files', async () => {
    const { second, firstIndex } = await twoIndexes();
    const repository = await Repository.open(new LocalStorage(path), PASSPHRASE);
    // Garbage, and a snapshot, each under the SHA-256 of its bytes.
    const garbage = randomBytes(100);
    await writeFile(join(path, 'index', sha256(garbage)), garbage);
    const snapshot = await repository.saveSnapshot(snapshotOf('alice', 'ab'.repeat(32)));
    await copyFile(join(path, 'snapshots', snapshot), join(path, 'index', snapshot));
    // Shorter than a seal can be.
    const stub = Buffer.from('tiny');
    await writeFile(join(path, 'index', sha256(stub)), stub);
    const { damaged } = await repository.loadIndex();
    expect(damaged.map((file) => file.name).sort()).toEqual(
      [sha256(garbage), snapshot, sha256(stub)].sort(),
    );
    for (const file of damaged)
      expect(file.error).toBe(
        `index ${file.name} failed authentication: it is damaged, or the key is wrong`,
      );
    expect(damaged.some((file) => file.name === firstIndex)).toBe(false);
    expect(repository.index.has(second)).toBe(true);
  });

  it('ignores stray files in index/ without calling them damaged', async () => {
    const { first, second } = await twoIndexes();
    await writeFile(join(path, 'index', '.DS_Store'), 'Bud1');
    await writeFile(join(path, 'index', 'Thumbs.db'), 'x');
    await writeFile(join(path, 'index', '.tmp-0123456789abcdef'), 'half an index');
    await writeFile(join(path, 'index', 'AB'.repeat(32)), 'upper case is not a name');
    const opened = await Repository.open(new LocalStorage(path), PASSPHRASE);
    expect(await opened.loadIndex()).toEqual({ damaged: [], files: 2, fromHeaders: NONE });
    expect(opened.index.has(first)).toBe(true);
    expect(opened.index.has(second)).toBe(true);
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

  it('open by hand with the label "mailvault snapshot" as associated data', async () => {
    const repository = await init();
    const snapshot = snapshotOf('alice@example.com', 'ab'.repeat(32));
    const id = await repository.saveSnapshot(snapshot);
    const bytes = await readFile(join(path, 'snapshots', id));
    const plain = openPayloadByHand(
      repository.key.encryption,
      bytes,
      Buffer.from('mailvault snapshot', 'ascii'),
    );
    expect(JSON.parse(plain.toString('utf8'))).toEqual(snapshot);
  });

  it('that were renamed fail their name check', async () => {
    const repository = await init();
    const id = await repository.saveSnapshot(snapshotOf('alice', 'ab'.repeat(32)));
    const other = sha256(Buffer.from('elsewhere'));
    await rename(join(path, 'snapshots', id), join(path, 'snapshots', other));
    await expect(repository.loadSnapshot(other)).rejects.toThrow(
      `snapshot ${other}: its content does not match its name (damaged)`,
    );
  });

  it('sealed as an index are refused, even under their right name', async () => {
    const repository = await init();
    const sealed = sealFile(
      repository.key.encryption,
      'index',
      encodeSnapshot(snapshotOf('alice', 'ab'.repeat(32))),
    );
    const id = sha256(sealed);
    await writeFile(join(path, 'snapshots', id), sealed);
    await expect(repository.loadSnapshot(id)).rejects.toThrow(
      new RegExp(`snapshot ${id} failed authentication`),
    );
    // An index file copied into snapshots/ is refused the same way.
    const index = await repository.saveIndex({ superseded: [], packs: [] });
    await copyFile(join(path, 'index', index), join(path, 'snapshots', index));
    await expect(repository.loadSnapshot(index)).rejects.toThrow(/failed authentication/);
  });

  it('are listed without the stray files of snapshots/', async () => {
    const repository = await init();
    const id = await repository.saveSnapshot(snapshotOf('alice', 'ab'.repeat(32)));
    await writeFile(join(path, 'snapshots', '.DS_Store'), 'Bud1');
    await writeFile(join(path, 'snapshots', `${id}.bak`), 'a copy');
    const listed: string[] = [];
    for await (const item of repository.snapshots()) listed.push(item.id);
    expect(listed).toEqual([id]);
  });

  it('that are damaged or of a newer version are refused, naming them', async () => {
    const repository = await init();
    const id = await repository.saveSnapshot(snapshotOf('alice', 'ab'.repeat(32)));
    const file = join(path, 'snapshots', id);
    await flipByte(file, 30);
    await expect(repository.loadSnapshot(id)).rejects.toThrow(
      `snapshot ${id}: its content does not match its name (damaged)`,
    );
    const bytes = await readFile(file);
    await writeFile(join(path, 'snapshots', sha256(bytes)), bytes);
    await expect(repository.loadSnapshot(sha256(bytes))).rejects.toThrow(
      new RegExp(`snapshot ${sha256(bytes)} failed authentication`),
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
