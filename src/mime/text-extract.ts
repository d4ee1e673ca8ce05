// The readable text of a message, for full-text search: text parts decoded from their transfer
// encoding and charset, HTML reduced to its words. Never throws: what cannot be read is skipped.
import iconv from 'iconv-lite';
import { decode as decodeQuotedPrintable } from 'libqp';
import { getParam, parseContentInfo, parseParams } from './content-type.js';
import { asBuffer, detectNewline, findHeaderEndIn } from './header-block.js';
import { headerField } from './header-block.js';

/** Enough text to find a message by, without letting a huge one bloat the index. */
export const TEXT_LIMIT = 16 * 1024;
const MAX_DEPTH = 10;

export function extractText(raw: Uint8Array, limit = TEXT_LIMIT): string {
  const buf = asBuffer(raw);
  const out: string[] = [];
  let length = 0;
  const add = (text: string): boolean => {
    const clean = text.replace(/\s+/g, ' ').trim();
    if (clean) {
      out.push(clean.slice(0, limit - length));
      length += clean.length + 1;
    }
    return length < limit;
  };
  try {
    walk(buf, 0, buf.length, 'text/plain', 0, add);
  } catch {
    // A malformed message gives what could be read before the problem.
  }
  return out.join('\n').slice(0, limit);
}

function walk(
  buf: Buffer,
  start: number,
  end: number,
  defaultType: string,
  depth: number,
  add: (text: string) => boolean,
): boolean {
  if (depth > MAX_DEPTH || start >= end) return true;
  const nl = detectNewline(buf.subarray(start, end));
  const headerEnd = findHeaderEndIn(buf, start, end, nl);
  const bodyStart = headerEnd < 0 ? end : headerEnd;
  const headerText = buf.toString('latin1', start, bodyStart);
  const info = parseContentInfo(headerText, defaultType);
  if (info.boundary !== null)
    return walkMultipart(buf, bodyStart, end, info.boundary, info.type, depth, add);
  if (info.type === 'message/rfc822' || info.type === 'message/global')
    return walk(buf, bodyStart, end, 'text/plain', depth + 1, add);
  if (!info.type.startsWith('text/')) return true;
  if (
    /^attachment/i.test(headerField(headerText, 'content-disposition')?.trim() ?? '') &&
    info.type !== 'text/plain'
  )
    return true;
  // Decoding more than the text limit can use is wasted: base64 and quoted-printable at most
  // double it, and a few multibyte characters may need more bytes still.
  const bytes = decodeTransfer(
    buf.subarray(bodyStart, Math.min(end, bodyStart + TEXT_LIMIT * 4)),
    info.encoding,
  );
  const charset = getParam(parseParams(headerField(headerText, 'content-type') ?? ''), 'charset');
  const text = decodeCharset(bytes, charset);
  return add(info.type === 'text/html' ? htmlText(text) : text);
}

function walkMultipart(
  buf: Buffer,
  start: number,
  end: number,
  boundary: string,
  type: string,
  depth: number,
  add: (text: string) => boolean,
): boolean {
  const marker = Buffer.from(`--${boundary}`, 'latin1');
  const parts: Array<[number, number]> = [];
  let at = buf.indexOf(marker, start);
  while (at >= 0 && at < end) {
    const lineEnd = buf.indexOf(0x0a, at);
    const next = buf.indexOf(marker, lineEnd < 0 ? end : lineEnd);
    if (buf.toString('latin1', at + marker.length, at + marker.length + 2) === '--' || lineEnd < 0)
      break;
    const partEnd = next < 0 || next > end ? end : next;
    parts.push([lineEnd + 1, partEnd]);
    at = next < 0 || next >= end ? -1 : next;
  }
  // Of alternatives, the first is plain text; the others say the same again.
  const chosen = type === 'multipart/alternative' ? parts.slice(0, 1) : parts;
  const child = type === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
  for (const [partStart, partEnd] of chosen)
    if (!walk(buf, partStart, partEnd, child, depth + 1, add)) return false;
  return true;
}

function decodeTransfer(body: Buffer, encoding: string): Buffer {
  if (encoding === 'base64')
    return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (encoding === 'quoted-printable')
    return asBuffer(decodeQuotedPrintable(body.toString('latin1')));
  return body;
}

function decodeCharset(bytes: Buffer, charset: string | null): string {
  const name = (charset ?? '').trim().toLowerCase();
  if (name && name !== 'us-ascii' && name !== 'utf-8' && iconv.encodingExists(name))
    return iconv.decode(bytes, name);
  const utf8 = bytes.toString('utf8');
  // Undeclared 8-bit text that is not UTF-8 is most often Latin-1.
  return utf8.includes('\uFFFD') && !name ? bytes.toString('latin1') : utf8;
}

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
};

function htmlText(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x?[0-9a-f]+|[a-z]+);/gi, (entity, code: string) => {
      if (code.startsWith('#')) {
        const n =
          code[1] === 'x' || code[1] === 'X'
            ? parseInt(code.slice(2), 16)
            : parseInt(code.slice(1), 10);
        return Number.isFinite(n) && n > 0 && n < 0x110000 ? String.fromCodePoint(n) : ' ';
      }
      return ENTITIES[code.toLowerCase()] ?? entity;
    });
}
