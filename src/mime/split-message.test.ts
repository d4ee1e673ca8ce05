import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeBase64Lines } from './base64-lines.js';
import { assembleMessage, segmentBytes } from './message-layout.js';
import type { MessageLayout, Segment } from './message-layout.js';
import { MAX_MIME_DEPTH, splitMessage } from './split-message.js';

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

/** Deterministic bytes, so a failure can be reproduced. */
function pseudoRandom(length: number, seed: string): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0, block = 0; i < length; block++) {
    const digest = createHash('sha256').update(`${seed}/${block}`).digest();
    i += digest.copy(out, i);
  }
  return out;
}

function split(raw: string | Buffer): MessageLayout {
  const bytes = typeof raw === 'string' ? latin1(raw) : raw;
  const layout = splitMessage(bytes);
  expect(Buffer.from(assembleMessage(layout)).equals(bytes)).toBe(true);
  return layout;
}

function only<K extends Segment['kind']>(layout: MessageLayout, kind: K) {
  return layout.body.filter((s): s is Extract<Segment, { kind: K }> => s.kind === kind);
}

function withAttachment(attachment: Buffer, lineLength: number, eol: 'crlf' | 'lf'): Buffer {
  const nl = eol === 'crlf' ? '\r\n' : '\n';
  const head = [
    'From: a@example.com',
    'Subject: report',
    'Content-Type: multipart/mixed; boundary="=_x y"',
    '',
    'preamble',
    '--=_x y',
    'Content-Type: text/plain',
    '',
    'see attached',
    '--=_x y',
    'Content-Type: application/pdf',
    'Content-Transfer-Encoding: base64',
    '',
    '',
  ].join(nl);
  const body = encodeBase64Lines(attachment, lineLength, eol);
  return Buffer.concat([latin1(head), body, latin1(`${nl}--=_x y--${nl}`)]);
}

describe('splitMessage', () => {
  const attachment = pseudoRandom(10_000, 'attachment');

  it('decodes one attachment wrapped six ways to identical bytes', () => {
    const seen: string[] = [];
    for (const lineLength of [76, 72, 60]) {
      for (const eol of ['crlf', 'lf'] as const) {
        const [segment, ...rest] = only(
          split(withAttachment(attachment, lineLength, eol)),
          'base64',
        );
        expect(rest).toEqual([]);
        expect(segment).toMatchObject({ lineLength, eol });
        expect(Buffer.from(segment?.decoded ?? []).equals(attachment)).toBe(true);
        expect(segment?.trailer.length).toBe(0);
        seen.push(
          createHash('sha256')
            .update(segment?.decoded ?? new Uint8Array())
            .digest('hex'),
        );
      }
    }
    expect(new Set(seen).size).toBe(1);
  });

  it('gives the line break before a boundary to the delimiter, not to the content', () => {
    const layout = split(withAttachment(attachment, 76, 'crlf'));
    const [content] = only(layout, 'content');
    expect(text(content?.bytes ?? new Uint8Array())).toBe('see attached');
    const literals = only(layout, 'literal').map((s) => text(s.bytes));
    expect(literals[0]).toBe('preamble\r\n--=_x y\r\nContent-Type: text/plain\r\n\r\n');
    expect(literals[2]).toBe('\r\n--=_x y--\r\n');
  });

  it('keeps the trailer after the last base64 line', () => {
    const raw = 'Content-Transfer-Encoding: base64\n\nQUJD\nREVG\nRw==\n\n \n';
    const [segment] = only(split(raw), 'base64');
    expect(segment).toMatchObject({ lineLength: 4, eol: 'lf' });
    expect(text(segment?.trailer ?? new Uint8Array())).toBe('\n\n \n');
    expect(text(segmentBytes(segment as Segment))).toBe('QUJD\nREVG\nRw==\n\n \n');
  });

  it('takes a single line as wrapped at 76, or at its own length when longer', () => {
    const short = only(split('Content-Transfer-Encoding: BASE64\r\n\r\nQUJDREVG\r\n'), 'base64');
    expect(short[0]).toMatchObject({ lineLength: 76, eol: 'crlf' });
    const long = Buffer.from(pseudoRandom(75, 'long')).toString('base64');
    const wide = only(split(`Content-Transfer-Encoding: base64\n\n${long}`), 'base64');
    expect(wide[0]).toMatchObject({ lineLength: 100 });
  });

  it.each([
    ['an irregular line', 'QUJD\nREVGRw==\nQUJD\n'],
    ['a short line in the middle', 'QUJDREVG\nQUJD\nQUJDREVG\n'],
    ['mixed line endings', 'QUJD\r\nQUJD\nQUJD\n'],
    ['non-canonical padding bits', 'QR==\n'],
    ['missing padding', 'QUJDRA\n'],
    ['base64url characters', 'ab-_\n'],
    ['junk characters', 'QU*D\n'],
    ['a leading blank line', '\nQUJD\n'],
    ['text after the data', 'QUJD\n-- \nsig\n'],
  ])('keeps a base64 body with %s as content', (_name, body) => {
    const layout = split(`Content-Transfer-Encoding: base64\n\n${body}`);
    expect(layout.body.map((s) => s.kind)).toEqual(['content']);
  });

  it('recurses into message/rfc822 and finds its base64 attachment', () => {
    const inner = withAttachment(attachment, 64, 'crlf');
    const raw = Buffer.concat([
      latin1('Subject: Fwd\r\nContent-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\n'),
      latin1('Content-Type: message/rfc822\r\n\r\n'),
      inner,
      latin1('\r\n--outer--\r\n'),
    ]);
    const layout = split(raw);
    const [segment] = only(layout, 'base64');
    expect(Buffer.from(segment?.decoded ?? []).equals(attachment)).toBe(true);
    expect(segment?.lineLength).toBe(64);
    // The enclosed message's header block is structure, kept literally.
    expect(text(only(layout, 'literal')[0]?.bytes ?? new Uint8Array())).toContain(
      'Subject: report\r\n',
    );
  });

  it('reads parts of a multipart/digest as messages', () => {
    const raw =
      'Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: one\n' +
      'Content-Transfer-Encoding: base64\n\nQUJD\n--d--\n';
    expect(split(raw).body.map((s) => s.kind)).toEqual(['literal', 'base64', 'literal']);
  });

  it('finds boundaries given in odd forms', () => {
    const body = '\n--a:b=c?\nContent-Type: text/plain\n\nhi\n--a:b=c?--\n';
    for (const field of [
      'Content-Type: multipart/mixed; boundary=a:b=c?',
      'content-type:Multipart/Mixed;\n\tBOUNDARY = "a:b=c?" ; x=y',
      'Content-Type: multipart/mixed; boundary*0="a:b"; boundary*1="=c?"',
      "Content-Type: multipart/mixed; boundary*=us-ascii'en'a%3Ab%3Dc%3F",
    ]) {
      expect(split(`${field}\n${body}`).body.map((s) => s.kind)).toEqual([
        'literal',
        'content',
        'literal',
      ]);
    }
  });

  it('splits identical parts identically whatever surrounds them', () => {
    const part = 'Content-Type: text/plain\r\n\r\nsame text\r\nover lines';
    const a = split(`Content-Type: multipart/mixed; boundary=A\r\n\r\n--A\r\n${part}\r\n--A--`);
    const b = split(
      `Content-Type: multipart/alternative; boundary=BB\n\nx\n--BB\r\n${part}\n--BB--\n`,
    );
    expect(only(a, 'content').map((s) => text(s.bytes))).toEqual(['same text\r\nover lines']);
    expect(only(b, 'content').map((s) => text(s.bytes))).toEqual(['same text\r\nover lines']);
  });

  it.each([
    ['empty input', ''],
    ['a header without a blank line', 'Subject: x\r\nFrom: y'],
    ['NUL bytes', 'Subject: \0x\n\n\0\0body\0'],
    ['CR-only line endings', 'Content-Type: multipart/mixed; boundary=b\r\r--b\r\rx\r--b--\r'],
    ['a missing boundary parameter', 'Content-Type: multipart/mixed\n\n--b\n\nx\n--b--\n'],
    ['an unterminated multipart', 'Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b\nQ'],
    ['a boundary that never occurs', 'Content-Type: multipart/mixed; boundary=b\n\nplain text\n'],
    [
      'two delimiters in a row',
      'Content-Type: multipart/mixed; boundary=b\n\n--b\n--b\n\nx\n--b--',
    ],
    [
      'a nested multipart reusing the boundary',
      'Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b--\n--b--\n',
    ],
    [
      'a truncated base64 part',
      'Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Transfer-Encoding: base64\n\nQUJDREVG\nQUJ',
    ],
  ])('handles %s', (_name, raw) => {
    const layout = split(raw);
    for (const segment of layout.body) expect(segmentBytes(segment).length).toBeGreaterThan(0);
  });

  it('splits CR-only mail on CR, but keeps its base64 as content', () => {
    const raw =
      'Content-Type: multipart/mixed; boundary=b\r\r--b\r\rtext\r--b\r' +
      'Content-Transfer-Encoding: base64\r\rQUJD\r--b--\r';
    expect(split(raw).body.map((s) => s.kind)).toEqual([
      'literal',
      'content',
      'literal',
      'content',
      'literal',
    ]);
  });

  it('stores a large epilogue or headerless part as content, a small one as literal', () => {
    const big = 'junk line\n'.repeat(2000);
    const raw = `Content-Type: multipart/mixed; boundary=b\n\n--b\n${big}--b\n\nx\n--b--\n${big}`;
    expect(split(raw).body.map((s) => s.kind)).toEqual([
      'literal',
      'content',
      'literal',
      'content',
      'literal',
      'content',
    ]);
  });

  it('stops recursing at the depth limit and still reproduces the message', () => {
    let raw = 'Content-Transfer-Encoding: base64\n\nQUJD\n';
    for (let depth = 0; depth < MAX_MIME_DEPTH + 5; depth++) {
      raw = `Content-Type: multipart/mixed; boundary=b${depth}\n\n--b${depth}\n${raw}\n--b${depth}--\n`;
    }
    const layout = split(raw);
    expect(only(layout, 'base64')).toEqual([]);
    expect(only(layout, 'content')).toHaveLength(1);
  });

  it('survives random corruption of a multipart message', () => {
    const template = withAttachment(pseudoRandom(2000, 'small'), 76, 'crlf');
    const noise = pseudoRandom(4000, 'noise');
    for (let round = 0; round < 500; round++) {
      const raw = Buffer.from(template);
      for (let k = 0; k < 4; k++) {
        const at =
          ((noise[round * 8 + k * 2] ?? 0) * 256 + (noise[round * 8 + k * 2 + 1] ?? 0)) %
          raw.length;
        raw[at] = [0x0a, 0x0d, 0x2d, 0x00, 0x3d][k % 5] ?? 0;
      }
      split(raw.subarray(0, raw.length - (round % 7)));
    }
  });

  it('leaves literal and content bytes as views of the input', () => {
    const raw = latin1('Subject: x\n\nbody');
    const [segment] = splitMessage(raw).body;
    expect(segment?.kind === 'content' && segment.bytes.buffer).toBe(raw.buffer);
  });
});
