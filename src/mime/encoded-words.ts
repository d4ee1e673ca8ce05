// Encoded words (RFC 2047): `=?charset?B|Q?text?=` in header fields, decoded for listings and
// search. Mail gets these wrong in every way, so decoding is lenient where meaning is clear and
// gives up, keeping the words as they were written, where it is not: bad base64, an unknown
// charset. It never throws.
import { charsetName, decodeCharset } from './charset.js';

/** One encoded word; the text may hold spaces (mailers that forgot to encode them). */
const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?]*)\?=/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BETWEEN_WORDS = /^[ \t\r\n]*$/;

interface Word {
  /** Where the word starts and ends in the value. */
  start: number;
  end: number;
  charset: string;
  encoding: 'b' | 'q';
  bytes: Buffer | null;
}

/** Decodes the encoded words of a header value (unfolded); the rest stays as it is. */
export function decodeEncodedWords(value: string): string {
  if (!value.includes('=?')) return value;
  const words: Word[] = [];
  for (const match of value.matchAll(ENCODED_WORD)) {
    const encoding = (match[2] ?? '').toLowerCase() === 'b' ? 'b' : 'q';
    const text = match[3] ?? '';
    words.push({
      start: match.index,
      end: match.index + match[0].length,
      charset: charsetName(match[1] ?? ''),
      encoding,
      bytes: encoding === 'b' ? decodeB(text) : decodeQ(text),
    });
  }
  let out = '';
  let at = 0;
  let previousDecoded = false;
  for (let i = 0; i < words.length;) {
    // Words next to each other in one charset and encoding are decoded as one: mailers split a
    // character's bytes (and UTF-7's shifted runs) across words.
    let last = i;
    while (last + 1 < words.length && sameRun(value, words[last] as Word, words[last + 1] as Word))
      last++;
    const first = words[i] as Word;
    const end = (words[last] as Word).end;
    const before = value.slice(at, first.start);
    const decoded = decodeRun(words.slice(i, last + 1));
    // White space between two encoded words is not part of the text (RFC 2047, section 6.2).
    if (!(previousDecoded && decoded !== null && BETWEEN_WORDS.test(before))) out += before;
    out += decoded ?? value.slice(first.start, end);
    previousDecoded = decoded !== null;
    at = end;
    i = last + 1;
  }
  return out + value.slice(at);
}

function sameRun(value: string, a: Word, b: Word): boolean {
  return (
    a.charset === b.charset &&
    a.encoding === b.encoding &&
    a.bytes !== null &&
    b.bytes !== null &&
    BETWEEN_WORDS.test(value.slice(a.end, b.start))
  );
}

function decodeRun(run: readonly Word[]): string | null {
  const parts: Buffer[] = [];
  for (const word of run) {
    if (word.bytes === null) return null;
    parts.push(word.bytes);
  }
  return decodeCharset(
    parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts),
    run[0]?.charset ?? '',
  );
}

/** Base64 text to bytes; null when it is not base64 (missing padding is forgiven). */
function decodeB(text: string): Buffer | null {
  if (!BASE64.test(text) || text.replace(/=+$/, '').length % 4 === 1) return null;
  return Buffer.from(text, 'base64');
}

/** The Q encoding: `_` is a space, `=XX` a byte; anything else stands for itself. */
function decodeQ(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5f) bytes.push(0x20);
    else if (c === 0x3d && isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) bytes.push(c);
    else bytes.push(...Buffer.from(text[i] ?? '', 'utf8'));
  }
  return Buffer.from(bytes);
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
