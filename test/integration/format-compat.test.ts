// THE PROOF THAT OLD REPOSITORIES STAY READABLE. test/fixtures/repository-v1 is a repository in
// format version 1, written once by test/fixtures/make-repository-v1.ts and committed; it is never
// regenerated (it was, once, while version 1 was still unreleased and being finalised). This test reads it with today's code and checks every message, byte for byte,
// against EXPECTED.json (hashes taken from the bytes the generator stored, not read back), with
// its flags and dates, and runs `mailvault check --read-data` on a copy. If it fails, a change has
// broken repositories that users already have: fix the code (or add a reader for the old format),
// never the fixture. A future format version gets a fixture of its own beside this one.
//
// A second part reads the same fixture with nothing but node:crypto, zstd and
// docs/repository-format.md, to show the document is enough to write an independent reader.
import { createDecipheriv, createHash, createHmac, scryptSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decompress } from 'zstd-napi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAccountTree } from '../../src/mailbox/account-tree.js';
import { readListing, type MessageEntry } from '../../src/mailbox/folder-listing.js';
import {
  loadMessage,
  readBody,
  readManifest,
  type BodySegment,
} from '../../src/mailbox/message-store.js';
import { Repository } from '../../src/repository/repository.js';
import type { Snapshot } from '../../src/repository/snapshot/snapshot.js';
import { LocalStorage } from '../../src/storage/local/local-storage.js';
import { MAILVAULT_BIN, runNode } from '../support/workspace.js';

interface ExpectedMessage {
  folder: string;
  uid: number;
  flags: string[];
  date: string;
  size: number;
  sha256: string;
  subject: string;
}

interface ExpectedFolder {
  path: string;
  delimiter: string | null;
  specialUse: string | null;
  attributes: string[];
  subscribed: boolean;
  messages: ExpectedMessage[] | null;
}

interface ExpectedSnapshot {
  id: string;
  source: string;
  account: string;
  time: string;
  run: string;
  parent: string | null;
  folders: ExpectedFolder[];
  orphanSubscriptions: string[];
}

interface Expected {
  passphrase: string;
  formatVersion: number;
  snapshots: ExpectedSnapshot[];
}

const checkout = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURE = join(checkout, 'test', 'fixtures', 'repository-v1');

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

let expected: Expected;
let work: string;

/**
 * A run file (format section 9.1, added after 0.1.0) for repository-v1, made once by
 * test/fixtures/make-run-file-v1.ts: alice and bob found unchanged on 2026-03-06. The ids of the
 * snapshots it stands for were computed apart (Python's hashlib, from the formula of the format).
 */
const RUN_FILES = join(checkout, 'test', 'fixtures', 'run-files-v1');
const RUN_FILE = '0a4de681008173b9917658ab4c692c671d5a23bf4992efa10e3e5e5a861bf715';
const UNCHANGED = [
  {
    id: 'b73d125901ee362bab590ac9259ac36d4218316c1c8d7090fb9eda44e3cfb4fa',
    account: 'alice@example.com',
    time: '2026-03-06T01:00:00.000Z',
    same: '58b32ae97c1d99643d5fb18023eab8d42481c30113b40250dc55656f10f1d5de',
  },
  {
    id: '5e9ee3656a03b3093244fa3c8eeb257d430ded989eb3a27091a9b0431a65219c',
    account: 'bob@example.com',
    time: '2026-03-06T01:00:02.000Z',
    same: '686b964f46d0b25b555f4b9ebe6303bd3004f65a88169f99773b47cb9a1251bd',
  },
];

/**
 * A private copy of the fixture, so nothing a test does can touch the committed files; with
 * `runFile`, the run file goes in its runs/ folder.
 */
async function copyOfFixture(name: string, options: { runFile?: boolean } = {}): Promise<string> {
  const copy = join(work, name);
  await cp(FIXTURE, copy, { recursive: true });
  if (options.runFile) {
    await mkdir(join(copy, 'runs'), { recursive: true });
    await cp(join(RUN_FILES, RUN_FILE), join(copy, 'runs', RUN_FILE));
  }
  return copy;
}

beforeAll(async () => {
  expected = JSON.parse(await readFile(join(FIXTURE, 'EXPECTED.json'), 'utf8')) as Expected;
  work = await mkdtemp(join(tmpdir(), 'mailvault-format-v1-'));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('format version 1 fixture, read with today’s code', () => {
  let repository: Repository;

  beforeAll(async () => {
    repository = await Repository.open(
      new LocalStorage(await copyOfFixture('api')),
      expected.passphrase,
    );
    await repository.loadIndex();
  });

  it('is a version 1 repository', () => {
    expect(expected.formatVersion).toBe(1);
    expect(repository.config.version).toBe(1);
    expect(repository.config.format).toBe('mailvault-repository');
  });

  it('lists exactly the snapshots that were written', async () => {
    const listed: Array<{ id: string; snapshot: Snapshot }> = [];
    for await (const item of repository.snapshots()) listed.push(item);
    const summary = (id: string, s: Pick<Snapshot, 'source' | 'name' | 'time' | 'parent'>) => ({
      id,
      source: s.source,
      account: s.name,
      time: s.time,
      parent: s.parent,
    });
    expect(listed.map(({ id, snapshot }) => summary(id, snapshot)).sort(byId)).toEqual(
      expected.snapshots
        .map((s) =>
          summary(s.id, { source: s.source, name: s.account, time: s.time, parent: s.parent }),
        )
        .sort(byId),
    );
  });

  it('reads the run file added after 0.1.0 as the snapshots it records', async () => {
    const withRuns = await Repository.open(
      new LocalStorage(await copyOfFixture('api-runs', { runFile: true })),
      expected.passphrase,
    );
    const listed: Array<{ id: string; snapshot: Snapshot; runFile?: string }> = [];
    for await (const item of withRuns.snapshots()) listed.push(item);
    expect(listed).toHaveLength(expected.snapshots.length + UNCHANGED.length);
    for (const unchanged of UNCHANGED) {
      const entry = listed.find((item) => item.id === unchanged.id);
      const same = listed.find((item) => item.id === unchanged.same);
      expect(entry?.runFile).toBe(RUN_FILE);
      expect(entry?.snapshot).toMatchObject({
        kind: 'account',
        source: 'mail1',
        name: unchanged.account,
        time: unchanged.time,
        run: '20260306T010000-f1x7a003',
        parent: unchanged.same,
        tree: same?.snapshot.tree,
      });
    }
    await withRuns.storage.close();
  });

  it('gives back every message byte for byte, with its folder, UID, flags and date', async () => {
    let messages = 0;
    for (const want of expected.snapshots) {
      const snapshot = await repository.loadSnapshot(want.id);
      expect(snapshot).toMatchObject({ kind: 'account', run: want.run, name: want.account });
      const tree = await readAccountTree(repository, snapshot.tree);
      expect(tree.orphanSubscriptions).toEqual(want.orphanSubscriptions);
      expect(tree.folders.map((folder) => folder.path)).toEqual(want.folders.map((f) => f.path));
      for (const [i, folder] of tree.folders.entries()) {
        const wantFolder = want.folders[i] as ExpectedFolder;
        expect({
          delimiter: folder.delimiter,
          specialUse: folder.specialUse,
          attributes: folder.attributes,
          subscribed: folder.subscribed,
        }).toEqual({
          delimiter: wantFolder.delimiter,
          specialUse: wantFolder.specialUse,
          attributes: wantFolder.attributes,
          subscribed: wantFolder.subscribed,
        });
        if (wantFolder.messages === null) {
          expect(folder.listing).toBeNull();
          continue;
        }
        expect(folder.listing).not.toBeNull();
        const entries: MessageEntry[] = [];
        for await (const entry of readListing(repository, folder.listing ?? ''))
          entries.push(entry);
        expect(folder.count).toBe(wantFolder.messages.length);
        expect(
          entries.map(({ uid, flags, date, size, sha256: hash }) => ({
            uid,
            flags,
            date,
            size,
            sha256: hash,
          })),
        ).toEqual(
          wantFolder.messages.map(({ uid, flags, date, size, sha256: hash }) => ({
            uid,
            flags,
            date,
            size,
            sha256: hash,
          })),
        );
        for (const [j, entry] of entries.entries()) {
          const wantMessage = wantFolder.messages[j] as ExpectedMessage;
          const bytes = await loadMessage(repository, entry.manifest);
          expect(bytes.length).toBe(wantMessage.size);
          expect(sha256(bytes)).toBe(wantMessage.sha256);
          const manifest = await readManifest(repository, entry.manifest);
          expect(manifest.summary.subject).toBe(wantMessage.subject);
          messages++;
        }
      }
    }
    expect(messages).toBe(
      expected.snapshots.flatMap((s) => s.folders.flatMap((f) => f.messages ?? [])).length,
    );
  });

  it('still holds the stored shapes this test exists to cover', async () => {
    // Guards against a fixture that no longer exercises inline, chunked and base64 bodies.
    const kinds = new Set<string>();
    let withoutBody = 0;
    const cutHeaders: string[] = [];
    const attachmentChunks: string[][] = [];
    for (const want of expected.snapshots) {
      const snapshot = await repository.loadSnapshot(want.id);
      for (const folder of (await readAccountTree(repository, snapshot.tree)).folders) {
        if (!folder.listing) continue;
        for await (const entry of readListing(repository, folder.listing)) {
          const manifest = await readManifest(repository, entry.manifest);
          if (!manifest.body) {
            withoutBody++;
            continue;
          }
          const body = await readBody(repository, manifest.body);
          const header = await repository.readObject(Buffer.from(manifest.header, 'hex'));
          expect(header.length).toBeLessThanOrEqual(256 * 1024);
          // A header block over 256 KiB: the object holds 256 KiB, the body starts with the rest.
          if (header.length === 256 * 1024 && body.segments[0]?.t === 'c')
            cutHeaders.push(manifest.summary.subject);
          for (const segment of body.segments) {
            if (segment.t === 'l') kinds.add('l');
            if (segment.t === 'c' && segment.chunks.length >= 2) kinds.add('c, several chunks');
            if (segment.t === 'b') kinds.add(`b ${segment.eol}`);
            if (segment.t === 'b' && segment.eol === 'crlf') attachmentChunks.push(segment.chunks);
          }
        }
      }
    }
    expect([...kinds].sort()).toEqual(['b crlf', 'b lf', 'c, several chunks', 'l']);
    expect(withoutBody).toBeGreaterThan(0);
    expect(cutHeaders).toEqual(['Building closed on Friday']);
    // Alice's and Bob's copies of the report differ in their headers only: one attachment object.
    expect(new Set(attachmentChunks.map((chunks) => chunks.join())).size).toBe(1);
  });
});

describe('mailvault check --read-data on the fixture', () => {
  beforeAll(() => {
    // `npm test` builds first; a bare `vitest run` on a fresh checkout may not have.
    if (!existsSync(join(checkout, 'dist', 'bundle', 'main.js'))) {
      execFileSync(
        process.execPath,
        [join(checkout, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
        { cwd: checkout, stdio: 'inherit' },
      );
      execFileSync(process.execPath, [join(checkout, 'scripts', 'bundle.mjs')], {
        cwd: checkout,
        stdio: 'inherit',
      });
    }
  });

  async function check(repositoryPath: string, json: boolean, command = ['check', '--read-data']) {
    const dir = dirname(repositoryPath);
    const config = join(dir, `${json ? 'json' : 'text'}.yml`);
    await writeFile(join(dir, 'pass'), `${expected.passphrase}\n`);
    await writeFile(
      config,
      `repository:\n  url: ${repositoryPath}\n  passwordFile: ${join(dir, 'pass')}\ncatalog:\n  url: ${join(dir, 'catalog.sqlite')}\n`,
    );
    return runNode(
      [MAILVAULT_BIN, '--config', config, '--no-progress', ...(json ? ['--json'] : []), ...command],
      {},
      60_000,
    );
  }

  interface Report {
    ok: boolean;
    errors: string[];
    warnings: string[];
    damagedItems: Array<{ account: string; folder: string; uid: number; subject: string | null }>;
    stats: { keys: number; indexes: number; packs: number; snapshots: number; packsRead: number };
  }

  it('reports no errors', async () => {
    const copy = await copyOfFixture('check-ok/repo');
    const result = await check(copy, true);
    expect(result.code, result.stderr).toBe(0);
    const report = result.json<Report>();
    expect(report.errors).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(report.damagedItems).toEqual([]);
    expect(report.ok).toBe(true);
    const packs = (await readdir(join(FIXTURE, 'data'), { recursive: true })).filter((name) =>
      /^[0-9a-f]{2}\/[0-9a-f]{64}$/.test(name),
    );
    expect(report.stats).toMatchObject({
      keys: 1,
      indexes: 2,
      snapshots: expected.snapshots.length,
      packs: packs.length,
      packsRead: packs.length,
    });
    const text = await check(copy, false);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^no errors: 3 snapshots/m);
  });

  it('reports no errors with the run file added after 0.1.0, and lists what it records', async () => {
    const copy = await copyOfFixture('check-runs/repo', { runFile: true });
    const result = await check(copy, true);
    expect(result.code, result.stderr).toBe(0);
    const report = result.json<Report>();
    expect(report.errors).toEqual([]);
    expect(report.stats.snapshots).toBe(expected.snapshots.length + UNCHANGED.length);
    const listed = await check(copy, true, ['snapshots']);
    expect(listed.code, listed.stderr).toBe(0);
    const rows = listed.json<Array<{ id: string; account: string; time: string }>>();
    for (const unchanged of UNCHANGED)
      expect(rows).toContainEqual(
        expect.objectContaining({
          id: unchanged.id,
          account: unchanged.account,
          time: unchanged.time,
        }),
      );
  });

  it('names the damaged messages when a pack of the fixture is damaged', async () => {
    // Without this, "no errors" above could come from a check that reads nothing.
    const copy = await copyOfFixture('check-damaged/repo');
    const repository = await Repository.open(new LocalStorage(copy), expected.passphrase);
    await repository.loadIndex();
    const newsletter = expected.snapshots[2]?.folders[0]?.messages?.[1];
    expect(newsletter?.subject).toBe('Mail Weekly, issue 12');
    // Damage the middle of the newsletter's largest chunk, found through Bob's listing.
    const bob = await repository.loadSnapshot(expected.snapshots[2]?.id ?? '');
    const inbox = (await readAccountTree(repository, bob.tree)).folders[0]?.listing ?? '';
    let chunks: string[] = [];
    for await (const entry of readListing(repository, inbox)) {
      if (entry.uid !== newsletter?.uid) continue;
      const manifest = await readManifest(repository, entry.manifest);
      const body = await readBody(repository, manifest.body ?? '');
      chunks = body.segments.flatMap((segment) => (segment.t === 'c' ? segment.chunks : []));
    }
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    const largest = chunks
      .map((id) => repository.locate(Buffer.from(id, 'hex')))
      .reduce((a, b) => (b.length > a.length ? b : a));
    const packPath = join(copy, 'data', largest.pack.slice(0, 2), largest.pack);
    const pack = await readFile(packPath);
    const at = largest.offset + Math.floor(largest.length / 2);
    pack[at] = (pack[at] ?? 0) ^ 0xff;
    await writeFile(packPath, pack);

    const result = await check(copy, true);
    expect(result.code).toBe(1);
    const report = result.json<Report>();
    expect(report.ok).toBe(false);
    expect(report.errors.some((error) => error.includes(largest.pack))).toBe(true);
    expect(
      report.damagedItems
        .map((item) => `${item.account} ${item.folder} ${item.uid} ${item.subject ?? ''}`)
        .sort(),
    ).toEqual([
      'alice@example.com INBOX 5 Mail Weekly, issue 12',
      'bob@example.com INBOX 11 Mail Weekly, issue 12',
    ]);
  });
});

describe('an independent reader following docs/repository-format.md', () => {
  /**
   * Opens nonce(24) | ciphertext | tag(16): the message key is HMAC-SHA-256(key, nonce[0..12]),
   * the AES-256-GCM nonce is nonce[12..24], and `associated` is the associated data.
   */
  function unseal(key: Buffer, sealed: Buffer, associated: Buffer): Buffer {
    const nonce = sealed.subarray(0, 24);
    const messageKey = createHmac('sha256', key).update(nonce.subarray(0, 12)).digest();
    const decipher = createDecipheriv('aes-256-gcm', messageKey, nonce.subarray(12));
    decipher.setAAD(associated);
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    return Buffer.concat([
      decipher.update(sealed.subarray(24, sealed.length - 16)),
      decipher.final(),
    ]);
  }

  /** The associated data of a file or pack header: "mailvault " and its kind, in ASCII. */
  const label = (kind: string): Buffer => Buffer.from(`mailvault ${kind}`, 'ascii');

  /** The payload: encoding byte 0 (raw) or 1 (a zstd frame), then the data. */
  function payload(plain: Buffer): Buffer {
    if (plain[0] === 0) return plain.subarray(1);
    if (plain[0] === 1) return decompress(plain.subarray(1));
    throw new Error(`unknown encoding ${String(plain[0])}`);
  }

  function base64Lines(decoded: Buffer, width: number, eol: 'crlf' | 'lf'): Buffer {
    const flat = decoded.toString('base64');
    const lines: string[] = [];
    for (let i = 0; i < flat.length; i += width) lines.push(flat.slice(i, i + width));
    return Buffer.from(lines.join(eol === 'crlf' ? '\r\n' : '\n'), 'latin1');
  }

  /** The master key, from the first key file the passphrase opens. */
  async function unlock(root: string): Promise<{ encryption: Buffer; id: Buffer }> {
    const files = async (folder: string): Promise<string[]> =>
      (await readdir(join(root, folder)).catch(() => [])).filter((name) =>
        /^[0-9a-f]{64}$/.test(name),
      );
    // Keys: scrypt(passphrase NFC, salt, N, r, p) -> 32 bytes, which opens `data`.
    let master: { encryption: Buffer; id: Buffer } | undefined;
    for (const name of await files('keys')) {
      let file: {
        version: number;
        kdf: { N: number; r: number; p: number; salt: string };
        data: string;
      };
      try {
        file = JSON.parse(await readFile(join(root, 'keys', name), 'utf8')) as typeof file;
      } catch {
        continue; // An unreadable key file is passed over; another may open.
      }
      if (file.version !== 1) continue;
      const derived = scryptSync(
        expected.passphrase.normalize('NFC'),
        Buffer.from(file.kdf.salt, 'base64'),
        32,
        {
          N: file.kdf.N,
          r: file.kdf.r,
          p: file.kdf.p,
        },
      );
      const inner = JSON.parse(
        unseal(derived, Buffer.from(file.data, 'base64'), label('key')).toString(),
      ) as Record<string, string>;
      master = {
        encryption: Buffer.from(inner.encryption ?? '', 'base64'),
        id: Buffer.from(inner.id ?? '', 'base64'),
      };
    }
    if (!master) throw new Error('no key file');
    return master;
  }

  it('finds every message with the same bytes, flags and dates', async () => {
    const root = FIXTURE;
    // Only names of 64 lowercase hex characters are repository files; anything else is a stray.
    const files = async (folder: string): Promise<string[]> =>
      (await readdir(join(root, folder)).catch(() => [])).filter((name) =>
        /^[0-9a-f]{64}$/.test(name),
      );

    const config = JSON.parse(await readFile(join(root, 'config'), 'utf8')) as { version: number };
    expect(config.version).toBe(1);

    const key = await unlock(root);

    // Files named by their SHA-256: a file whose bytes do not hash to its name is damaged.
    const namedFile = async (folder: string, name: string): Promise<Buffer> => {
      const bytes = await readFile(join(root, folder, name));
      expect(sha256(bytes)).toBe(name);
      return bytes;
    };

    // Index files: "MVIX", version, superseded ids, then packs and their entries.
    const where = new Map<
      string,
      { pack: string; type: number; offset: number; length: number; rawLength: number }
    >();
    const packs = new Map<string, string[]>();
    for (const name of await files('index')) {
      const bytes = payload(unseal(key.encryption, await namedFile('index', name), label('index')));
      expect(bytes.subarray(0, 4).toString('latin1')).toBe('MVIX');
      expect(bytes[4]).toBe(1);
      let at = 5;
      const superseded = bytes.readUInt32LE(at);
      at += 4 + 32 * superseded;
      const packCount = bytes.readUInt32LE(at);
      at += 4;
      for (let p = 0; p < packCount; p++) {
        const pack = bytes.toString('hex', at, at + 32);
        const count = bytes.readUInt32LE(at + 32);
        at += 36;
        for (let e = 0; e < count; e++, at += 45) {
          const id = bytes.toString('hex', at + 13, at + 45);
          where.set(id, {
            pack,
            type: bytes[at] ?? 255,
            offset: bytes.readUInt32LE(at + 1),
            length: bytes.readUInt32LE(at + 5),
            rawLength: bytes.readUInt32LE(at + 9),
          });
          packs.set(pack, [...(packs.get(pack) ?? []), id]);
        }
      }
      expect(at).toBe(bytes.length);
    }

    // Pack headers: the last 4 bytes give the sealed header's length; "MVPK", version, count,
    // then type, length, raw length and id per object, back to back from offset 0.
    for (const [name, ids] of packs) {
      const pack = await readFile(join(root, 'data', name.slice(0, 2), name));
      expect(sha256(pack)).toBe(name);
      const headerLength = pack.readUInt32LE(pack.length - 4);
      const header = unseal(
        key.encryption,
        pack.subarray(pack.length - 4 - headerLength, pack.length - 4),
        label('pack header'),
      );
      expect(header.subarray(0, 5)).toEqual(Buffer.from('MVPK\x01', 'latin1'));
      const count = header.readUInt32LE(5);
      expect(header.length).toBe(9 + 41 * count);
      let offset = 0;
      for (let e = 0, at = 9; e < count; e++, at += 41) {
        const id = header.toString('hex', at + 9, at + 41);
        expect(where.get(id)).toEqual({
          pack: name,
          type: header[at],
          offset,
          length: header.readUInt32LE(at + 1),
          rawLength: header.readUInt32LE(at + 5),
        });
        offset += header.readUInt32LE(at + 1);
      }
      expect(offset + headerLength + 4).toBe(pack.length);
      expect(count).toBe(ids.length);
    }

    // Objects: a range of data/XX/<pack>, sealed with the 32-byte id as associated data;
    // id = HMAC-SHA-256(id key, plaintext).
    const object = async (id: string): Promise<Buffer> => {
      const place = where.get(id);
      if (!place) throw new Error(`object ${id} is in no index`);
      const pack = await readFile(join(root, 'data', place.pack.slice(0, 2), place.pack));
      const plain = payload(
        unseal(
          key.encryption,
          pack.subarray(place.offset, place.offset + place.length),
          Buffer.from(id, 'hex'),
        ),
      );
      expect(createHmac('sha256', key.id).update(plain).digest('hex')).toBe(id);
      expect(plain.length).toBe(place.rawLength);
      return plain;
    };
    const tree = async <T>(id: string): Promise<T> =>
      JSON.parse((await object(id)).toString('utf8')) as T;

    const found: string[] = [];
    for (const name of await files('snapshots')) {
      const snapshot = JSON.parse(
        payload(
          unseal(key.encryption, await namedFile('snapshots', name), label('snapshot')),
        ).toString('utf8'),
      ) as { name: string; time: string; tree: string };
      const account = await tree<{ folders: Array<{ path: string; listing: string | null }> }>(
        snapshot.tree,
      );
      for (const folder of account.folders) {
        if (!folder.listing) continue;
        const listing = await tree<{ pages: Array<{ id: string }> }>(folder.listing);
        for (const page of listing.pages) {
          const { entries } = await tree<{
            entries: Array<[number, string[], string, number, string, string]>;
          }>(page.id);
          for (const [uid, flags, date, size, hash, manifestId] of entries) {
            const manifest = await tree<{ v: number; header: string; body: string | null }>(
              manifestId,
            );
            expect(manifest.v).toBe(1);
            const parts = [await object(manifest.header)];
            // The header object holds at most 256 KiB; whatever follows is in the segments.
            expect(parts[0]?.length).toBeLessThanOrEqual(256 * 1024);
            if (manifest.body) {
              const body = await tree<{ v: number; segments: BodySegment[] }>(manifest.body);
              expect(body.v).toBe(1);
              for (const segment of body.segments) {
                if (segment.t === 'l') {
                  parts.push(Buffer.from(segment.b, 'base64'));
                  continue;
                }
                const content = Buffer.concat(await Promise.all(segment.chunks.map(object)));
                expect(content.length).toBe(segment.size);
                if (segment.t === 'c') parts.push(content);
                else
                  parts.push(
                    base64Lines(content, segment.line, segment.eol),
                    Buffer.from(segment.trailer, 'base64'),
                  );
              }
            }
            const bytes = Buffer.concat(parts);
            expect(bytes.length).toBe(size);
            expect(sha256(bytes)).toBe(hash);
            found.push(
              JSON.stringify([
                snapshot.name,
                snapshot.time,
                folder.path,
                uid,
                flags,
                date,
                sha256(bytes),
              ]),
            );
          }
        }
      }
    }
    const wanted = expected.snapshots.flatMap((s) =>
      s.folders.flatMap((f) =>
        (f.messages ?? []).map((m) =>
          JSON.stringify([s.account, s.time, f.path, m.uid, m.flags, m.date, m.sha256]),
        ),
      ),
    );
    expect(found.sort()).toEqual(wanted.sort());
  });

  it('reads the run file and finds the ids the format gives its snapshots', async () => {
    const key = await unlock(FIXTURE);
    const sealed = await readFile(join(RUN_FILES, RUN_FILE));
    expect(sha256(sealed)).toBe(RUN_FILE);
    const file = JSON.parse(
      payload(unseal(key.encryption, sealed, label('run'))).toString('utf8'),
    ) as {
      version: number;
      run: string;
      unchanged: Array<{ kind: string; source: string; name: string; time: string; tree: string }>;
    };
    expect(file.version).toBe(1);
    const ids = file.unchanged.map((entry) =>
      sha256(
        Buffer.from(
          'mailvault unchanged\n' +
            JSON.stringify([entry.kind, entry.source, entry.name, entry.time, entry.tree]),
          'utf8',
        ),
      ),
    );
    expect(ids).toEqual(UNCHANGED.map((unchanged) => unchanged.id));
  });
});

function byId(a: { id: string }, b: { id: string }): number {
  return a.id.localeCompare(b.id);
}
