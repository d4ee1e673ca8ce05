// Splits a raw message into header, structural literals and leaf contents (RFC 2045/2046),
// recursing into multipart and message/rfc822 parts. Whatever is not understood stays bytes.
import { matchBase64Body } from './base64-lines.js';
import { parseContentInfo } from './content-type.js';
import type { ContentInfo } from './content-type.js';
import { CR, LF, asBuffer, detectNewline, findHeaderEnd, findHeaderEndIn } from './header-block.js';
import type { NewlineByte } from './header-block.js';
import type { MessageLayout, Segment } from './message-layout.js';
import { SegmentBuilder } from './segment-builder.js';
import type { BuiltSegments } from './segment-builder.js';

/** Nesting beyond this is stored as opaque content; real mail rarely goes past 5. */
export const MAX_MIME_DEPTH = 20;

/** A part "header" longer than this is data that happens to contain a blank line, not a header. */
const MAX_PART_HEADER = 64 * 1024;

interface Walk {
  buf: Buffer;
  nl: NewlineByte;
  out: SegmentBuilder;
}

const IDENTITY_ENCODINGS = new Set(['', '7bit', '8bit', 'binary']);

function isEncapsulatedMessage(type: string): boolean {
  return type === 'message/rfc822' || type === 'message/global';
}

/** A part or enclosed message: its header block is literal, its body is walked by its type. */
function walkEntity(w: Walk, start: number, end: number, depth: number, defaultType: string) {
  if (start >= end) return;
  const headerEnd = findHeaderEndIn(w.buf, start, end, w.nl);
  if (headerEnd < 0 || headerEnd - start > MAX_PART_HEADER) {
    w.out.loose(start, end);
    return;
  }
  w.out.literal(start, headerEnd);
  const info = parseContentInfo(w.buf.toString('latin1', start, headerEnd), defaultType);
  walkBody(w, info, headerEnd, end, depth);
}

function walkBody(w: Walk, info: ContentInfo, start: number, end: number, depth: number): void {
  if (start >= end) return;
  if (depth >= MAX_MIME_DEPTH) {
    w.out.content(start, end);
  } else if (info.boundary !== null) {
    walkMultipart(w, info, start, end, depth);
  } else if (isEncapsulatedMessage(info.type) && IDENTITY_ENCODINGS.has(info.encoding)) {
    walkEntity(w, start, end, depth + 1, 'text/plain');
  } else {
    const match =
      info.encoding === 'base64' && w.nl === LF ? matchBase64Body(w.buf, start, end) : null;
    if (match) w.out.base64(start, end, match);
    else w.out.content(start, end);
  }
}

interface Delimiter {
  /** Start of the line break before the boundary line (RFC 2046: it belongs to the delimiter). */
  start: number;
  /** Just past the boundary line and its own line break. */
  end: number;
  close: boolean;
}

/** Transport padding (and, after a close delimiter, any junk) up to the end of the line. */
function delimiterLineEnd(w: Walk, view: Buffer, from: number, close: boolean): number {
  let j = from;
  if (close) {
    while (j < view.length && view[j] !== w.nl) j++;
    if (w.nl === LF && j > from && view[j - 1] === CR) j--;
  } else {
    while (view[j] === 0x20 || view[j] === 0x09) j++;
  }
  if (j === view.length) return j;
  if (view[j] === w.nl) return j + 1;
  if (w.nl === LF && view[j] === CR && view[j + 1] === LF) return j + 2;
  return -1;
}

function nextDelimiter(w: Walk, view: Buffer, key: Buffer, from: number, bodyStart: number) {
  for (let i = view.indexOf(key, from); i >= 0; i = view.indexOf(key, i + 1)) {
    if (i !== bodyStart && view[i - 1] !== w.nl) continue;
    let after = i + key.length;
    const close = view[after] === 0x2d && view[after + 1] === 0x2d;
    if (close) after += 2;
    const end = delimiterLineEnd(w, view, after, close);
    if (end < 0) continue;
    let start = i;
    if (i > from) start = w.nl === LF && i - 2 >= from && view[i - 2] === CR ? i - 2 : i - 1;
    const found: Delimiter = { start, end, close };
    return found;
  }
  return null;
}

function walkMultipart(w: Walk, info: ContentInfo, start: number, end: number, depth: number) {
  const view = w.buf.subarray(0, end);
  const key = Buffer.from(`--${info.boundary ?? ''}`, 'latin1');
  const partType = info.type === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
  let pos = start;
  let first = true;
  for (;;) {
    const delimiter = nextDelimiter(w, view, key, pos, start);
    if (!delimiter) break;
    if (first) w.out.loose(pos, delimiter.start);
    else walkEntity(w, pos, delimiter.start, depth + 1, partType);
    first = false;
    w.out.literal(delimiter.start, delimiter.end);
    pos = delimiter.end;
    if (delimiter.close) {
      w.out.loose(pos, end);
      return;
    }
  }
  // No boundary at all: not a multipart we understand. Unterminated: the last part runs to the end.
  if (first) w.out.content(start, end);
  else walkEntity(w, pos, end, depth + 1, partType);
}

/** True when header + segments reproduce `buf` exactly. */
function reassemblesTo(
  buf: Buffer,
  headerEnd: number,
  segments: Segment[],
  encoded: Map<Segment, Uint8Array>,
): boolean {
  let offset = headerEnd;
  const matches = (bytes: Uint8Array): boolean => {
    const to = offset + bytes.length;
    if (to > buf.length || buf.compare(bytes, 0, bytes.length, offset, to) !== 0) return false;
    offset = to;
    return true;
  };
  for (const segment of segments) {
    if (segment.kind !== 'base64') {
      if (!matches(segment.bytes)) return false;
      continue;
    }
    const lines = encoded.get(segment);
    if (!lines || !matches(lines) || !matches(segment.trailer)) return false;
  }
  return offset === buf.length;
}

interface Walked extends BuiltSegments {
  buf: Buffer;
  headerEnd: number;
}

function walkMessage(raw: Uint8Array): Walked {
  const buf = asBuffer(raw);
  const nl = detectNewline(buf);
  const found = findHeaderEndIn(buf, 0, buf.length, nl);
  const headerEnd = found < 0 ? buf.length : found;
  const out = new SegmentBuilder(buf);
  const info = parseContentInfo(buf.toString('latin1', 0, headerEnd), 'text/plain');
  walkBody({ buf, nl, out }, info, headerEnd, buf.length, 0);
  return { buf, headerEnd, ...out.build() };
}

/**
 * The parser's own result, without the verification and fallback of splitMessage(); may throw.
 * For tests that check the parser rather than the safety net.
 */
export function splitMessageUnchecked(raw: Uint8Array): MessageLayout {
  const { buf, headerEnd, segments } = walkMessage(raw);
  return { header: buf.subarray(0, headerEnd), body: segments };
}

/**
 * Splits `raw` into its header block and body segments. Never throws; assembleMessage() of the
 * result always equals `raw` (checked here, falling back to one content segment). Literal and
 * content bytes are views into `raw`, which must therefore not be modified afterwards.
 */
export function splitMessage(raw: Uint8Array): MessageLayout {
  const buf = asBuffer(raw);
  const headerEnd = findHeaderEnd(buf);
  const header = buf.subarray(0, headerEnd);
  try {
    const walked = walkMessage(buf);
    if (
      walked.headerEnd === headerEnd &&
      reassemblesTo(buf, headerEnd, walked.segments, walked.encoded)
    ) {
      return { header, body: walked.segments };
    }
  } catch {
    // A parser bug must not lose mail: fall through to the layout that cannot be wrong.
  }
  return {
    header,
    body: headerEnd < buf.length ? [{ kind: 'content', bytes: buf.subarray(headerEnd) }] : [],
  };
}
