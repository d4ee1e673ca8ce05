import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { corpusMessages } from '../../test/support/corpus.js';
import type { Repository } from '../repository/repository.js';
import {
  loadMessage,
  messageObjects,
  readBody,
  readManifest,
  storeMessage,
  type BodyManifest,
} from './message-store.js';
import { temporaryRepository } from './test-repository.test-helper.js';

const HEADER_LIMIT = 256 * 1024;

/** A header block of at least `size` bytes: the trace of a mail loop, one Received line per hop. */
function loopHeader(size: number, eol = '\r\n'): string {
  const lines: string[] = [];
  let length = 0;
  for (let hop = 0; length < size; hop++) {
    const line = `Received: from relay${hop}.example.net by relay${hop + 1}.example.net with ESMTP id ${randomBytes(8).toString('hex')}; Thu, 05 Mar 2026 00:00:00 +0000${eol}`;
    lines.push(line);
    length += Buffer.byteLength(line);
  }
  return lines.join('');
}

/** The stored pieces of a message: its header object and its body manifest. */
async function storedParts(
  repository: Repository,
  manifestId: string,
): Promise<{ header: Buffer; body: BodyManifest | null }> {
  const manifest = await readManifest(repository, manifestId);
  return {
    header: await repository.readObject(Buffer.from(manifest.header, 'hex')),
    body: manifest.body ? await readBody(repository, manifest.body) : null,
  };
}

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

/** A message with one attachment, base64-wrapped at the given width and line ending. */
function withAttachment(attachment: Buffer, received: string, width: number, eol: string): Buffer {
  const base64 =
    attachment
      .toString('base64')
      .match(new RegExp(`.{1,${width}}`, 'g'))
      ?.join(eol) ?? '';
  return Buffer.from(
    [
      `Received: ${received}`,
      'From: Alice <alice@example.com>',
      'To: Bob <bob@example.com>',
      'Subject: the report',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain',
      '',
      'See attached.',
      '--b1',
      'Content-Type: application/octet-stream; name="report.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      base64,
      '--b1--',
      '',
    ].join(eol),
  );
}

describe('storing messages', () => {
  it('gives back every corpus message byte for byte from a freshly opened repository', async () => {
    const { repository, reopen, remove } = await temporaryRepository();
    cleanup = remove;
    const writer = repository.writer();
    const corpus = corpusMessages();
    expect(corpus.length).toBeGreaterThan(1000);
    const stored = [];
    for (const message of corpus)
      stored.push({
        raw: message.raw,
        manifest: (await storeMessage(writer, repository.chunker, message.raw)).manifest,
      });
    await writer.flush();
    const fresh = await reopen();
    for (const { raw, manifest } of stored)
      expect((await loadMessage(fresh, manifest)).equals(raw)).toBe(true);
  });

  it('stores an attachment once, however it was wrapped and whoever received it', async () => {
    const { repository, remove } = await temporaryRepository();
    cleanup = remove;
    const writer = repository.writer();
    const attachment = randomBytes(300_000);
    const firstAdded = { bytes: 0 };
    const first = await storeMessage(
      writer,
      repository.chunker,
      withAttachment(attachment, 'from a by mx1; Mon, 2 Nov 2026 10:00:00 +0000', 76, '\r\n'),
      firstAdded,
    );
    await writer.flush();
    expect(firstAdded.bytes).toBeGreaterThan(attachment.length);
    for (const [width, eol, received] of [
      [72, '\r\n', 'by mx2'],
      [60, '\n', 'by mx3'],
      [76, '\n', 'by mx4; with a longer trace header'],
    ] as const) {
      const added = { bytes: 0 };
      const copy = await storeMessage(
        writer,
        repository.chunker,
        withAttachment(attachment, received, width, eol),
        added,
      );
      await writer.flush();
      expect(copy.manifest).not.toBe(first.manifest);
      expect(added.bytes).toBeLessThan(2_000);
    }
  });

  it('does not let a damaged object pass for the message', async () => {
    const { repository, reopen, remove } = await temporaryRepository();
    cleanup = remove;
    const writer = repository.writer();
    const raw = withAttachment(randomBytes(100_000), 'by mx1', 76, '\r\n');
    const { manifest } = await storeMessage(writer, repository.chunker, raw);
    await writer.flush();
    const fresh = await reopen();
    const location = [...fresh.index.entries()].find(
      ([, where]) => where.type === 'data' && where.rawLength > 50_000,
    )?.[1];
    expect(location).toBeDefined();
    const { readFileSync, writeFileSync } = await import('node:fs');
    const path = `${fresh.storage.location}/data/${location?.pack.slice(0, 2)}/${location?.pack}`;
    const pack = readFileSync(path);
    const at = (location?.offset ?? 0) + 100;
    pack.writeUInt8(pack.readUInt8(at) ^ 0xff, at);
    writeFileSync(path, pack);
    await expect(loadMessage(fresh, manifest)).rejects.toThrow(/damaged/);
  });
});

describe('oversized header blocks', () => {
  it('keep at most 256 KiB in the header object; the rest is the body’s first content', async () => {
    const { repository, reopen, remove } = await temporaryRepository();
    cleanup = remove;
    const writer = repository.writer();
    const header = Buffer.from(
      loopHeader(300 * 1024) + 'Subject: looped\r\nFrom: a@example.com\r\n\r\n',
    );
    const raw = Buffer.concat([header, Buffer.from('The body.\r\n')]);
    const { manifest } = await storeMessage(writer, repository.chunker, raw);
    await writer.flush();
    const fresh = await reopen();
    const { header: stored, body } = await storedParts(fresh, manifest);
    expect(stored.length).toBe(HEADER_LIMIT);
    expect(stored.equals(raw.subarray(0, HEADER_LIMIT))).toBe(true);
    const first = body?.segments[0];
    expect(first).toMatchObject({ t: 'c', size: header.length - HEADER_LIMIT });
    const rest = first?.t === 'c' ? first.chunks : [];
    const content = Buffer.concat(
      await Promise.all(rest.map((id) => fresh.readObject(Buffer.from(id, 'hex')))),
    );
    expect(content.equals(header.subarray(HEADER_LIMIT))).toBe(true);
    expect(body?.segments.slice(1)).toEqual([
      { t: 'l', b: Buffer.from('The body.\r\n').toString('base64') },
    ]);
    expect((await loadMessage(fresh, manifest)).equals(raw)).toBe(true);
    // Every object it needs is listed, the rest of the header's chunks included.
    const needed = await messageObjects(fresh, manifest);
    expect(rest.length).toBeGreaterThan(0);
    expect(rest.every((id) => needed.includes(id))).toBe(true);
  });

  it('cut a message that is all header (no blank line) the same way', async () => {
    const { repository, reopen, remove } = await temporaryRepository();
    cleanup = remove;
    const writer = repository.writer();
    const raw = Buffer.from(loopHeader(600 * 1024, '\n'));
    const { manifest, sha256 } = await storeMessage(writer, repository.chunker, raw);
    expect(sha256).toBe(createHash('sha256').update(raw).digest('hex'));
    await writer.flush();
    const fresh = await reopen();
    const { header, body } = await storedParts(fresh, manifest);
    expect(header.length).toBe(HEADER_LIMIT);
    expect(body?.segments).toHaveLength(1);
    expect(body?.segments[0]).toMatchObject({ t: 'c', size: raw.length - HEADER_LIMIT });
    expect((await loadMessage(fresh, manifest)).equals(raw)).toBe(true);
  });

  it('leave a header block of exactly 256 KiB whole', async () => {
    const { repository, reopen, remove } = await temporaryRepository();
    cleanup = remove;
    const writer = repository.writer();
    const raw = Buffer.alloc(HEADER_LIMIT, 'X');
    raw.write('Subject: x', 0, 'latin1');
    const { manifest } = await storeMessage(writer, repository.chunker, raw);
    await writer.flush();
    const fresh = await reopen();
    const { header, body } = await storedParts(fresh, manifest);
    expect(header.equals(raw)).toBe(true);
    expect(body).toBeNull();
    const one = Buffer.concat([raw, Buffer.from('Y')]);
    const cut = await storeMessage(writer, repository.chunker, one);
    await writer.flush();
    const parts = await storedParts(await reopen(), cut.manifest);
    expect(parts.header.length).toBe(HEADER_LIMIT);
    // A small rest stays inline, like any small part.
    expect(parts.body?.segments).toEqual([{ t: 'l', b: Buffer.from('Y').toString('base64') }]);
  });

  it('still store the body by its structure, attachments deduplicated', async () => {
    const { repository, reopen, remove } = await temporaryRepository();
    cleanup = remove;
    const writer = repository.writer();
    const attachment = randomBytes(100_000);
    const normal = withAttachment(attachment, 'by mx1', 76, '\r\n');
    const firstAdded = { bytes: 0 };
    const secondAdded = { bytes: 0 };
    await storeMessage(writer, repository.chunker, normal, firstAdded);
    const looped = Buffer.concat([Buffer.from(loopHeader(280 * 1024)), normal]);
    const second = await storeMessage(writer, repository.chunker, looped, secondAdded);
    await writer.flush();
    // The attachment was not stored again: only the header, its rest and the trees are new.
    expect(secondAdded.bytes).toBeLessThan(firstAdded.bytes);
    const fresh = await reopen();
    const { header, body } = await storedParts(fresh, second.manifest);
    expect(header.length).toBe(HEADER_LIMIT);
    expect(body?.segments[0]?.t).toBe('c');
    expect(body?.segments.some((segment) => segment.t === 'b')).toBe(true);
    expect((await loadMessage(fresh, second.manifest)).equals(looped)).toBe(true);
  });
});

describe('tree versions', () => {
  it('refuse a message manifest or body manifest of another version instead of misreading it', async () => {
    const { repository, remove } = await temporaryRepository();
    cleanup = remove;
    const writer = repository.writer();
    const raw = withAttachment(randomBytes(10_000), 'by mx1', 76, '\r\n');
    const { manifest } = await storeMessage(writer, repository.chunker, raw);
    await writer.flush();
    const good = await readManifest(repository, manifest);
    const save = async (tree: object): Promise<string> =>
      (await writer.save('tree', Buffer.from(JSON.stringify(tree)))).id.toString('hex');
    const newer = await save({ ...good, v: 2 });
    const body = await readBody(repository, good.body ?? '');
    const newerBody = await save({ ...body, v: 2 });
    const withNewerBody = await save({ ...good, body: newerBody });
    await writer.flush();
    await expect(readManifest(repository, newer)).rejects.toThrow(
      `message manifest ${newer}: unsupported version 2 (upgrade mailvault)`,
    );
    await expect(loadMessage(repository, newer)).rejects.toThrow(/unsupported version 2/);
    await expect(readBody(repository, newerBody)).rejects.toThrow(
      `body manifest ${newerBody}: unsupported version 2 (upgrade mailvault)`,
    );
    await expect(loadMessage(repository, withNewerBody)).rejects.toThrow(
      /body manifest .*unsupported version 2/,
    );
    await expect(messageObjects(repository, withNewerBody)).rejects.toThrow(
      /unsupported version 2/,
    );
    // A tree without a version is refused too.
    const unversioned: Partial<typeof good> = { ...good };
    delete unversioned.v;
    const bare = await save(unversioned);
    await writer.flush();
    await expect(readManifest(repository, bare)).rejects.toThrow(/unsupported version undefined/);
    expect((await loadMessage(repository, manifest)).equals(raw)).toBe(true);
  });
});
