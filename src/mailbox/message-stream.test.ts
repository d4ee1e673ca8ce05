import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { corpusMessages } from '../../test/support/corpus.js';
import type { Repository } from '../repository/repository.js';
import { MessageIntegrityError, loadMessage, readManifest, storeMessage } from './message-store.js';
import { checkedPieces, messagePieces, verifyMessage } from './message-stream.js';
import { temporaryRepository } from './test-repository.test-helper.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

async function collect(pieces: AsyncIterable<Buffer>): Promise<Buffer> {
  const all: Buffer[] = [];
  for await (const piece of pieces) all.push(piece);
  return Buffer.concat(all);
}

/** A multipart message with base64 attachments wrapped at `widths`, each large enough to be chunked. */
function largeMessage(widths: readonly number[], eol: string, withNul = false): Buffer {
  const lines = [
    'From: Alice <alice@example.com>',
    'To: Bob <bob@example.com>',
    'Subject: the quarterly figures',
    'Message-ID: <figures@example.com>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain',
    '',
    withNul ? 'See attached.\0' : 'See attached.',
  ];
  for (const width of widths) {
    const content = randomBytes(1_500_000 + Math.floor(Math.random() * 3));
    lines.push(
      '--b1',
      'Content-Type: application/octet-stream',
      'Content-Transfer-Encoding: base64',
      '',
      content
        .toString('base64')
        .match(new RegExp(`.{1,${width}}`, 'g'))
        ?.join(eol) ?? '',
    );
  }
  // An 8-bit part, stored as content chunks; NUL bytes only where asked for.
  const eightBit = randomBytes(2_000_000).map((byte) => (byte === 0 && !withNul ? 1 : byte));
  lines.push(
    '--b1',
    'Content-Type: application/octet-stream',
    '',
    Buffer.from(eightBit).toString('latin1'),
  );
  lines.push('--b1--', '');
  return Buffer.from(lines.join(eol), 'latin1');
}

async function stored(
  raws: readonly Buffer[],
): Promise<{ repository: Repository; manifests: string[] }> {
  const { repository, reopen, remove } = await temporaryRepository();
  cleanup = remove;
  const writer = repository.writer();
  const manifests: string[] = [];
  for (const raw of raws)
    manifests.push((await storeMessage(writer, repository.chunker, raw)).manifest);
  await writer.flush();
  return { repository: await reopen(), manifests };
}

describe('message streams', () => {
  it('give back every corpus message byte for byte, as loadMessage does', async () => {
    const corpus = corpusMessages().slice(0, 600);
    const { repository, manifests } = await stored(corpus.map((message) => message.raw));
    for (const [i, manifest] of manifests.entries()) {
      const raw = corpus[i]?.raw as Buffer;
      const verified = await verifyMessage(repository, manifest);
      expect(verified.size).toBe(raw.length);
      expect(verified.holdsNul).toBe(raw.includes(0));
      expect((await collect(verified.pieces())).equals(raw)).toBe(true);
    }
  });

  it('give back large messages with chunked base64 parts of any wrapping, piece by piece', async () => {
    const raws = [largeMessage([76, 64, 1, 57], '\r\n'), largeMessage([72, 80, 3], '\n', true)];
    const { repository, manifests } = await stored(raws);
    for (const [i, manifest] of manifests.entries()) {
      const raw = raws[i] as Buffer;
      const verified = await verifyMessage(repository, manifest);
      expect(verified.holdsNul).toBe(i === 1);
      expect(raw.includes(0)).toBe(i === 1);
      let largest = 0;
      const pieces: Buffer[] = [];
      for await (const piece of verified.pieces()) {
        largest = Math.max(largest, piece.length);
        pieces.push(piece);
      }
      expect(Buffer.concat(pieces).equals(raw)).toBe(true);
      expect((await loadMessage(repository, manifest)).equals(raw)).toBe(true);
      // One object at a time: no piece is more than a chunk (1 MiB) re-encoded as base64 lines.
      expect(largest).toBeLessThan(1.5 * 1024 * 1024);
      expect(pieces.length).toBeGreaterThan(5);
    }
  });

  it('refuse a message whose bytes do not match its manifest, holding back the last piece', async () => {
    const raw = largeMessage([76], '\r\n');
    const { repository, manifests } = await stored([raw]);
    const manifest = await readManifest(repository, manifests[0] as string);
    const forged = { ...manifest, sha256: '0'.repeat(64) };
    let received = 0;
    const reading = (async () => {
      for await (const piece of checkedPieces(repository, forged)) received += piece.length;
    })();
    await expect(reading).rejects.toThrow(MessageIntegrityError);
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(raw.length);
    // A size that is too small fails as soon as it is passed, long before the end.
    received = 0;
    const short = { ...manifest, size: 1000 };
    await expect(
      (async () => {
        for await (const piece of checkedPieces(repository, short)) received += piece.length;
      })(),
    ).rejects.toThrow(MessageIntegrityError);
    expect(received).toBeLessThanOrEqual(1000);
    // The unchecked pieces are the message itself: the forged checksum alone is at fault.
    expect((await collect(messagePieces(repository, manifest))).equals(raw)).toBe(true);
  });

  it('refuse a damaged object in the verifying pass', async () => {
    const raw = largeMessage([76], '\r\n');
    const { repository, manifests } = await stored([raw]);
    const location = [...repository.index.entries()].find(
      ([, where]) => where.type === 'data' && where.rawLength > 50_000,
    )?.[1];
    if (!location) throw new Error('no large data object');
    const path = `${repository.storage.location}/data/${location.pack.slice(0, 2)}/${location.pack}`;
    const pack = readFileSync(path);
    pack[location.offset + 40] = (pack[location.offset + 40] ?? 0) ^ 1;
    writeFileSync(path, pack);
    const observed: number[] = [];
    await expect(
      verifyMessage(repository, manifests[0] as string, (piece) => observed.push(piece.length)),
    ).rejects.toThrow(/damaged|authenticat/i);
  });
});
