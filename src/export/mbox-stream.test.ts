import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FromQuoter, mboxEntryPieces } from './mbox-stream.js';
import { mboxEntry, quoteFromLines } from './mboxrd.js';

function quotedInPieces(data: Buffer, cuts: readonly number[]): Buffer {
  const quoter = new FromQuoter();
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, data.length]) {
    out.push(...quoter.push(data.subarray(from, cut)));
    from = cut;
  }
  out.push(...quoter.end());
  return Buffer.concat(out);
}

/** Text dense in what quoting looks at: line ends, '>' runs, "From " and its prefixes. */
function dense(length: number): Buffer {
  const words = ['From ', '>', '>>From ', '\n', '\r\n', 'Fro', 'From', 'x', 'From x\n', ' '];
  let text = '';
  while (text.length < length) text += words[Math.floor(Math.random() * words.length)];
  return Buffer.from(text.slice(0, length), 'latin1');
}

describe('FromQuoter', () => {
  it('quotes exactly as quoteFromLines does, cut at every offset and into pieces of every small size', () => {
    for (let round = 0; round < 20; round++) {
      const data = dense(300);
      const expected = Buffer.concat(quoteFromLines(data));
      for (let cut = 0; cut <= data.length; cut++)
        expect(quotedInPieces(data, [cut]).equals(expected)).toBe(true);
      for (let step = 1; step <= 9; step++) {
        const cuts: number[] = [];
        for (let at = step; at < data.length; at += step) cuts.push(at);
        expect(quotedInPieces(data, cuts).equals(expected)).toBe(true);
      }
    }
  });

  it('is exact on binary data cut at random places', () => {
    const data = Buffer.concat([randomBytes(50_000), dense(5_000), randomBytes(50_000)]);
    const cuts: number[] = [];
    for (let at = 0; ;) {
      at += 1 + Math.floor(Math.random() * 3_000);
      if (at >= data.length) break;
      cuts.push(at);
    }
    expect(quotedInPieces(data, cuts).equals(Buffer.concat(quoteFromLines(data)))).toBe(true);
  });
});

describe('mbox entries as pieces', () => {
  const date = new Date(Date.UTC(2021, 10, 4, 8, 5, 9));
  const entry = async (
    message: Buffer,
    headerLength: number,
    cuts: readonly number[],
    flags: string[],
  ): Promise<Buffer | null> => {
    const pieces = mboxEntryPieces(
      {
        size: message.length,
        header: message.subarray(0, headerLength),
        async *pieces() {
          let from = 0;
          for (const cut of [headerLength, ...cuts, message.length]) {
            yield message.subarray(from, cut);
            from = cut;
          }
        },
      },
      date,
      flags,
      { uidValidity: 1700000000, keywords: ['$Forwarded'] },
    );
    if (!pieces) return null;
    const out: Buffer[] = [];
    for await (const piece of pieces) out.push(piece);
    return Buffer.concat(out);
  };

  it('are what mboxEntry writes for the whole message', async () => {
    const headers = [
      'Return-Path: <a@example.com>\r\nFrom: A <a@example.com>\r\nStatus: RO\r\nX-Keywords: old\r\nSubject: s\r\n\r\n',
      'From: b@example.com\nSubject: lf\nX-UID: 4\n\n',
    ];
    for (const header of headers) {
      for (const ending of ['', '\n', 'From the end\r\n']) {
        const message = Buffer.concat([
          Buffer.from(header, 'latin1'),
          dense(5_000),
          Buffer.from(ending, 'latin1'),
        ]);
        for (const flags of [[], ['\\Seen', '$Forwarded', '\\Flagged']]) {
          const expected = Buffer.concat(
            mboxEntry(message, date, flags, { uidValidity: 1700000000, keywords: ['$Forwarded'] }),
          );
          const cuts = [header.length + 1, header.length + 700, header.length + 701, 4000];
          expect((await entry(message, header.length, cuts, flags))?.equals(expected)).toBe(true);
          // A first piece reaching into the body, as when the header object holds more.
          expect(
            (await entry(message, header.length + 37, cuts.slice(1), flags))?.equals(expected),
          ).toBe(true);
        }
      }
    }
  });

  it('are not offered when the first piece does not hold the whole header with LF line ends', async () => {
    const crOnly = Buffer.from('From: a@example.com\rSubject: mac\r\rbody\r', 'latin1');
    expect(await entry(crOnly, 20, [], [])).toBeNull();
    const cutHeader = Buffer.from('From: a@example.com\nSubject: long\n\nbody\n', 'latin1');
    expect(await entry(cutHeader, 25, [], [])).toBeNull();
  });
});
