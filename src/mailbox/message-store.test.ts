import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { corpusMessages } from '../../test/support/corpus.js';
import { loadMessage, storeMessage } from './message-store.js';
import { temporaryRepository } from './test-repository.test-helper.js';

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
    const first = await storeMessage(
      writer,
      repository.chunker,
      withAttachment(attachment, 'from a by mx1; Mon, 2 Nov 2026 10:00:00 +0000', 76, '\r\n'),
    );
    expect(first.bytesAdded).toBeGreaterThan(attachment.length);
    for (const [width, eol, received] of [
      [72, '\r\n', 'by mx2'],
      [60, '\n', 'by mx3'],
      [76, '\n', 'by mx4; with a longer trace header'],
    ] as const) {
      const copy = await storeMessage(
        writer,
        repository.chunker,
        withAttachment(attachment, received, width, eol),
      );
      expect(copy.manifest).not.toBe(first.manifest);
      expect(copy.bytesAdded).toBeLessThan(2_000);
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
