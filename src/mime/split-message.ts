// Splits a raw message into header, structural literals and leaf contents (RFC 2045/2046),
// recursing into multipart and message/rfc822 parts. Whatever is not understood stays bytes.
// The walk reads the message through a ByteSource, so a message in memory and one in a spool
// file are laid out by the same code, and get the same layout.
import { matchBase64 } from './base64-lines.js';
import { BufferSource, type ByteSource } from './byte-source.js';
import { parseContentInfo } from './content-type.js';
import type { ContentInfo } from './content-type.js';
import { CR, LF, asBuffer, headerEndIn, newlineOf } from './header-block.js';
import type { NewlineByte } from './header-block.js';
import type { MessageLayout, Segment } from './message-layout.js';
import { SegmentBuilder, type Piece } from './segment-builder.js';

/** Nesting beyond this is stored as opaque content; real mail rarely goes past 5. */
export const MAX_MIME_DEPTH = 20;

/** A part "header" longer than this is data that happens to contain a blank line, not a header. */
const MAX_PART_HEADER = 64 * 1024;

interface Walk {
  source: ByteSource;
  nl: NewlineByte;
  out: SegmentBuilder;
}

/** The byte at `i` of a range ending at `end` (undefined past it), as a subarray would give it. */
function byteBefore(w: Walk, i: number, end: number): number | undefined {
  return i < end ? w.source.byteAt(i) : undefined;
}

function latin1(source: ByteSource, start: number, end: number): string {
  return source.bytes(start, end).toString('latin1');
}

const IDENTITY_ENCODINGS = new Set(['', '7bit', '8bit', 'binary']);

function isEncapsulatedMessage(type: string): boolean {
  return type === 'message/rfc822' || type === 'message/global';
}

/** A part or enclosed message: its header block is literal, its body is walked by its type. */
function walkEntity(w: Walk, start: number, end: number, depth: number, defaultType: string) {
  if (start >= end) return;
  const headerEnd = headerEndIn(w.source, start, end, w.nl);
  if (headerEnd < 0 || headerEnd - start > MAX_PART_HEADER) {
    w.out.loose(start, end);
    return;
  }
  w.out.literal(start, headerEnd);
  const info = parseContentInfo(latin1(w.source, start, headerEnd), defaultType);
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
      info.encoding === 'base64' && w.nl === LF
        ? matchBase64(w.source, start, end, w.source.inMemory)
        : null;
    if (match) w.out.base64(start, end, match.shape, match.decoded);
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
function delimiterLineEnd(w: Walk, end: number, from: number, close: boolean): number {
  let j = from;
  if (close) {
    const lineEnd = w.source.indexOf(w.nl, from, end);
    j = lineEnd < 0 ? Math.max(from, end) : lineEnd;
    if (w.nl === LF && j > from && byteBefore(w, j - 1, end) === CR) j--;
  } else {
    while (byteBefore(w, j, end) === 0x20 || byteBefore(w, j, end) === 0x09) j++;
  }
  if (j === end) return j;
  if (byteBefore(w, j, end) === w.nl) return j + 1;
  if (w.nl === LF && byteBefore(w, j, end) === CR && byteBefore(w, j + 1, end) === LF) return j + 2;
  return -1;
}

function nextDelimiter(w: Walk, end: number, key: Buffer, from: number, bodyStart: number) {
  for (let i = w.source.indexOf(key, from, end); i >= 0; i = w.source.indexOf(key, i + 1, end)) {
    if (i !== bodyStart && byteBefore(w, i - 1, end) !== w.nl) continue;
    let after = i + key.length;
    const close = byteBefore(w, after, end) === 0x2d && byteBefore(w, after + 1, end) === 0x2d;
    if (close) after += 2;
    const lineEnd = delimiterLineEnd(w, end, after, close);
    if (lineEnd < 0) continue;
    let start = i;
    if (i > from)
      start = w.nl === LF && i - 2 >= from && byteBefore(w, i - 2, end) === CR ? i - 2 : i - 1;
    const found: Delimiter = { start, end: lineEnd, close };
    return found;
  }
  return null;
}

function walkMultipart(w: Walk, info: ContentInfo, start: number, end: number, depth: number) {
  const key = Buffer.from(`--${info.boundary ?? ''}`, 'latin1');
  const partType = info.type === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
  let pos = start;
  let first = true;
  for (;;) {
    const delimiter = nextDelimiter(w, end, key, pos, start);
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

/** What the splitter makes of a message: where its header ends, and the pieces of its body. */
export interface LayoutPlan {
  headerEnd: number;
  /** Ranges that follow one another from headerEnd to the end of the message. */
  body: Piece[];
}

/** Where the top-level header ends (the whole message when no blank line ends it). */
function topHeaderEnd(source: ByteSource, nl: NewlineByte): number {
  const found = headerEndIn(source, 0, source.length, nl);
  return found < 0 ? source.length : found;
}

function walkMessage(source: ByteSource): LayoutPlan {
  const nl = newlineOf(source);
  const headerEnd = topHeaderEnd(source, nl);
  const out = new SegmentBuilder();
  const info = parseContentInfo(latin1(source, 0, headerEnd), 'text/plain');
  walkBody({ source, nl, out }, info, headerEnd, source.length, 0);
  return { headerEnd, body: out.pieces };
}

/**
 * True when the plan gives back the message exactly: its pieces follow one another from the
 * header's end to the message's end, none empty; literal and content pieces are the message's own
 * bytes, and every base64 piece was accepted by matchBase64, which compared each block of its
 * characters with the encoding of what the block decodes to (the bytes stored are those blocks:
 * kept here for a message in memory, decoded and compared again when a spooled one is stored).
 */
function givesBack(plan: LayoutPlan, length: number, inMemory: boolean): boolean {
  let offset = plan.headerEnd;
  for (const piece of plan.body) {
    if (piece.start !== offset || piece.end <= piece.start) return false;
    if (piece.kind === 'base64') {
      const { dataEnd, decodedLength } = piece.shape;
      if (!(dataEnd > piece.start && dataEnd <= piece.end)) return false;
      if (inMemory && piece.decoded?.length !== decodedLength) return false;
    }
    offset = piece.end;
  }
  return offset === length;
}

/**
 * Lays out a message: where its header block ends and the pieces of its body. Never throws: a
 * parser bug must not lose mail, so a plan that does not give the message back exactly falls
 * back to the body as one content piece.
 */
export function planMessage(source: ByteSource): LayoutPlan {
  try {
    const plan = walkMessage(source);
    if (givesBack(plan, source.length, source.inMemory)) return plan;
  } catch {
    // A parser bug must not lose mail: fall through to the layout that cannot be wrong.
  }
  const headerEnd = topHeaderEnd(source, newlineOf(source));
  return {
    headerEnd,
    body:
      headerEnd < source.length ? [{ kind: 'content', start: headerEnd, end: source.length }] : [],
  };
}

/** The segments of a plan over the buffer it was made from. */
function segmentsOf(buf: Buffer, pieces: readonly Piece[]): Segment[] {
  return pieces.map((piece): Segment => {
    if (piece.kind !== 'base64')
      return { kind: piece.kind, bytes: buf.subarray(piece.start, piece.end) };
    const { lineLength, eol, dataEnd } = piece.shape;
    return {
      kind: 'base64',
      decoded: piece.decoded ?? Buffer.alloc(0),
      lineLength,
      eol,
      trailer: buf.subarray(dataEnd, piece.end),
    };
  });
}

/**
 * The parser's own result, without the verification and fallback of splitMessage(); may throw.
 * For tests that check the parser rather than the safety net.
 */
export function splitMessageUnchecked(raw: Uint8Array): MessageLayout {
  const buf = asBuffer(raw);
  const { headerEnd, body } = walkMessage(new BufferSource(buf));
  return { header: buf.subarray(0, headerEnd), body: segmentsOf(buf, body) };
}

/**
 * Splits `raw` into its header block and body segments. Never throws; assembleMessage() of the
 * result always equals `raw` (see planMessage). Literal and content bytes are views into `raw`,
 * which must therefore not be modified afterwards.
 */
export function splitMessage(raw: Uint8Array): MessageLayout {
  const buf = asBuffer(raw);
  const { headerEnd, body } = planMessage(new BufferSource(buf));
  return { header: buf.subarray(0, headerEnd), body: segmentsOf(buf, body) };
}
