// The readable text of a message, for full-text search: text parts decoded from their transfer
// encoding and charset, HTML reduced to its words. Never throws: what cannot be read is skipped.
import { decode as decodeQuotedPrintable } from 'libqp';
import { charsetName, decodeCharset, isUtf8Like } from './charset.js';
import { getParam, parseContentInfo, parseParams } from './content-type.js';
import { asBuffer, detectNewline, findHeaderEndIn } from './header-block.js';
import { headerField } from './header-block.js';
import { addHtmlText } from './html-text.js';
import { TextCollector } from './text-collector.js';

/** Enough text to find a message by, without letting a huge one bloat the index. */
export const TEXT_LIMIT = 16 * 1024;
const MAX_DEPTH = 10;
/**
 * How much of a part is decoded. Base64 and quoted-printable at most double text, and a few
 * multibyte characters may need more bytes still; HTML is mostly markup (newsletters carry tens
 * of kilobytes of styles before the first word), and its reading stops once the text is full.
 */
const PART_BYTES = TEXT_LIMIT * 4;
const HTML_PART_BYTES = TEXT_LIMIT * 16;

export function extractText(raw: Uint8Array, limit = TEXT_LIMIT): string {
  const buf = asBuffer(raw);
  const collector = new TextCollector(limit);
  try {
    walk(buf, 0, buf.length, 'text/plain', 0, collector);
  } catch {
    // A malformed message gives what could be read before the problem.
  }
  return collector.text();
}

function walk(
  buf: Buffer,
  start: number,
  end: number,
  defaultType: string,
  depth: number,
  collector: TextCollector,
): void {
  if (depth > MAX_DEPTH || start >= end || collector.full) return;
  const nl = detectNewline(buf.subarray(start, end));
  const headerEnd = findHeaderEndIn(buf, start, end, nl);
  const bodyStart = headerEnd < 0 ? end : headerEnd;
  const headerText = buf.toString('latin1', start, bodyStart);
  const info = parseContentInfo(headerText, defaultType);
  if (info.boundary !== null)
    return walkMultipart(buf, bodyStart, end, info.boundary, info.type, depth, collector);
  if (info.type === 'message/rfc822' || info.type === 'message/global')
    return walk(buf, bodyStart, end, 'text/plain', depth + 1, collector);
  if (!info.type.startsWith('text/')) return;
  if (
    /^attachment/i.test(headerField(headerText, 'content-disposition')?.trim() ?? '') &&
    info.type !== 'text/plain'
  )
    return;
  const html = info.type === 'text/html';
  const bytes = decodeTransfer(
    buf.subarray(bodyStart, Math.min(end, bodyStart + (html ? HTML_PART_BYTES : PART_BYTES))),
    info.encoding,
  );
  const charset = getParam(parseParams(headerField(headerText, 'content-type') ?? ''), 'charset');
  const text = decodeBody(bytes, charset);
  if (html) addHtmlText(text, collector);
  else {
    collector.add(text);
    collector.endPart();
  }
}

function walkMultipart(
  buf: Buffer,
  start: number,
  end: number,
  boundary: string,
  type: string,
  depth: number,
  collector: TextCollector,
): void {
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
  for (const [partStart, partEnd] of chosen) {
    if (collector.full) return;
    walk(buf, partStart, partEnd, child, depth + 1, collector);
  }
}

function decodeTransfer(body: Buffer, encoding: string): Buffer {
  if (encoding === 'base64')
    return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (encoding === 'quoted-printable')
    return asBuffer(decodeQuotedPrintable(body.toString('latin1')));
  return body;
}

/** A part's text in its declared charset; undeclared or unknown, UTF-8 if it is, else Latin-1. */
function decodeBody(bytes: Buffer, declared: string | null): string {
  const name = charsetName(declared ?? '');
  if (name && !isUtf8Like(name)) {
    const text = decodeCharset(bytes, name);
    if (text !== null) return text;
  }
  const utf8 = bytes.toString('utf8');
  // Undeclared 8-bit text that is not UTF-8 is most often Latin-1.
  return utf8.includes('\uFFFD') && !isUtf8Like(name) ? bytes.toString('latin1') : utf8;
}
