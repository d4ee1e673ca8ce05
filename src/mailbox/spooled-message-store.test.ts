// The spooled message store against storeMessage: the same manifest id (so the same objects) for
// every corpus message and for generated large ones, the message going through a real spool file
// and a paged reader with small pages (so every boundary search and base64 block crosses pages).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusMessages } from '../../test/support/corpus.js';
import { BufferSource, PagedSource } from '../mime/byte-source.js';
import type { Repository } from '../repository/repository.js';
import { SpoolFile } from '../spool/spool-file.js';
import {
  loadMessage,
  loadMessagePrefix,
  readBody,
  readManifest,
  storeMessage,
} from './message-store.js';
import { storeMessageFrom } from './spooled-message-store.js';
import { temporaryRepository } from './test-repository.test-helper.js';

let repository: Repository;
let remove: () => void;
let spoolDir: string;
beforeAll(async () => {
  ({ repository, remove } = await temporaryRepository());
  spoolDir = mkdtempSync(join(tmpdir(), 'mailvault-spool-test-'));
});
afterAll(() => {
  remove();
  rmSync(spoolDir, { recursive: true, force: true });
});

/** Stores `raw` through a spool file read in pages of `pageSize` bytes. */
async function storeSpooled(raw: Buffer, pageSize: number): Promise<string> {
  const spool = await SpoolFile.create(spoolDir);
  try {
    // Appended in uneven pieces, as ranges from a server would arrive.
    for (let at = 0; at < raw.length; at += 1_048_573)
      await spool.append(raw.subarray(at, at + 1_048_573));
    const writer = repository.writer();
    const stored = await storeMessageFrom(
      writer,
      repository.chunker,
      spool.source(pageSize),
      spool.sha256(),
    );
    await writer.flush();
    return stored.manifest;
  } finally {
    await spool.close();
  }
}

async function storeBuffered(raw: Buffer): Promise<string> {
  const writer = repository.writer();
  const stored = await storeMessage(writer, repository.chunker, raw);
  await writer.flush();
  return stored.manifest;
}

function wrap(data: Buffer, width: number, eol: string): string {
  return (data.toString('base64').match(new RegExp(`.{1,${width}}`, 'g')) ?? []).join(eol);
}

/** Large messages of the shapes that matter, with the given line ending. */
function generated(eol: string): Array<[string, Buffer]> {
  const lines = (...parts: string[]): Buffer => Buffer.from(parts.join(eol), 'latin1');
  const text = (bytes: number): string => {
    const line = 'Grüße aus dem Lager: Zeile mit acht Bit und Wörtern. ';
    return Buffer.from(line.repeat(Math.ceil(bytes / line.length)).slice(0, bytes), 'latin1')
      .toString('latin1')
      .replace(/(.{70})/g, `$1${eol}`);
  };
  const head = ['From: Alice <alice@example.com>', 'To: Bob <bob@example.com>', 'Subject: big'];
  const attachment = randomBytes(3 * 1024 * 1024 + 7);
  const multipart = lines(
    ...head,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="outer"',
    '',
    'preamble',
    '--outer',
    'Content-Type: text/plain; charset=iso-8859-1',
    'Content-Transfer-Encoding: 8bit',
    '',
    text(2_500_000),
    '--outer',
    'Content-Type: application/octet-stream',
    'Content-Transfer-Encoding: base64',
    '',
    wrap(attachment, 76, eol),
    '',
    '--outer',
    'Content-Type: application/pdf',
    'Content-Transfer-Encoding: base64',
    '',
    wrap(randomBytes(1_500_000), 64, eol),
    '--outer',
    'Content-Type: application/zip',
    'Content-Transfer-Encoding: base64',
    '',
    // An odd line length: blocks of whole lines are then four lines long at least.
    wrap(randomBytes(1_200_000), 73, eol),
    '--outer',
    'Content-Type: image/png',
    'Content-Transfer-Encoding: base64',
    '',
    wrap(randomBytes(1000), 76, eol),
    '--outer--',
    'epilogue',
    '',
  );
  // A character no encoder writes, deep in the third block: the part stays content.
  const damaged = wrap(randomBytes(3 * 1024 * 1024), 76, eol).split('');
  damaged[2_500_000] = '*';
  const badBase64 = lines(
    ...head,
    'Content-Type: application/octet-stream',
    'Content-Transfer-Encoding: base64',
    '',
    damaged.join(''),
    '',
  );
  const broken = lines(
    ...head,
    'Content-Type: multipart/mixed; boundary="never-closed"',
    '',
    '--never-closed',
    'Content-Type: application/zip',
    'Content-Transfer-Encoding: base64',
    '',
    wrap(randomBytes(2_000_000), 76, eol),
    '--never-closed',
    'Content-Type: text/plain',
    '',
    text(1_200_000),
  );
  const noBlankLine = lines(
    ...head,
    ...Array.from({ length: 30_000 }, (_, i) => `X-Trace-${i}: hop ${i} via relay${i}.example.net`),
  );
  const oneLine = lines(
    ...head,
    'Content-Transfer-Encoding: base64',
    '',
    randomBytes(1_400_000).toString('base64'),
    '',
  );
  return [
    ['multipart with large base64 and 8bit parts', multipart],
    ['base64 part with a bad character in a later block', badBase64],
    ['broken multipart', broken],
    ['no blank line', noBlankLine],
    ['single-line base64 body', oneLine],
  ];
}

describe('storing a spooled message', () => {
  it('writes the manifest storeMessage writes, for every corpus message', async () => {
    const corpus = corpusMessages({ everything: true }).filter((m) => m.raw.length > 0);
    expect(corpus.length).toBeGreaterThan(1000);
    const differ: string[] = [];
    for (const [i, { name, raw }] of corpus.entries()) {
      // Small odd pages, so the walk crosses page edges in every message.
      const pageSize = [61, 512, 4093][i % 3] as number;
      if ((await storeSpooled(raw, pageSize)) !== (await storeBuffered(raw))) differ.push(name);
    }
    expect(differ).toEqual([]);
  }, 120_000);

  for (const eol of ['\r\n', '\n'])
    it(`writes the manifest storeMessage writes for large generated messages (${JSON.stringify(eol)})`, async () => {
      for (const [what, raw] of generated(eol)) {
        const manifest = await storeBuffered(raw);
        expect(await storeSpooled(raw, 65_536 + 17), what).toBe(manifest);
        expect((await loadMessage(repository, manifest)).equals(raw), what).toBe(true);
      }
    }, 120_000);

  it('stores base64 decoded and content chunked when the parts are large', async () => {
    const [, multipart] = generated('\r\n')[0] as [string, Buffer];
    const manifest = await readManifest(repository, await storeSpooled(multipart, 262_144));
    const body = await readBody(repository, manifest.body ?? '');
    const kinds = body.segments.map((segment) => segment.t);
    expect(kinds.filter((t) => t === 'b')).toHaveLength(3);
    expect(kinds.filter((t) => t === 'c')).toHaveLength(1);
    const large = body.segments.find((segment) => segment.t === 'b');
    expect(large?.t === 'b' && large.chunks.length).toBeGreaterThan(2);
  });

  it('refuses a source whose bytes are not those hashed as they arrived', async () => {
    const raw = generated('\n')[0]?.[1] as Buffer;
    const writer = repository.writer();
    const source = new BufferSource(raw);
    await expect(
      storeMessageFrom(writer, repository.chunker, source, '0'.repeat(64)),
    ).rejects.toThrow(/does not match/);
    // And a paged source that misreads one byte deep inside a part.
    const misread = Buffer.from(raw);
    misread[3_000_000] = (misread[3_000_000] ?? 0) ^ 1;
    const paged = new PagedSource(raw.length, (at, n) => Buffer.from(misread.subarray(at, at + n)));
    const { sha256 } = await readManifest(repository, await storeBuffered(raw));
    await expect(storeMessageFrom(writer, repository.chunker, paged, sha256)).rejects.toThrow(
      /does not match/,
    );
  });
});

describe('loadMessagePrefix', () => {
  it('gives the first bytes of a message, reading base64 parts re-encoded', async () => {
    for (const eol of ['\r\n', '\n']) {
      const [, raw] = generated(eol)[0] as [string, Buffer];
      const manifest = await storeBuffered(raw);
      for (const limit of [10, 300, 2_600_000, 2_600_001, 4 * 1024 * 1024, 9_000_000, 50_000_000])
        expect(
          (await loadMessagePrefix(repository, manifest, limit)).equals(raw.subarray(0, limit)),
          `limit ${limit}`,
        ).toBe(true);
    }
  });
});
