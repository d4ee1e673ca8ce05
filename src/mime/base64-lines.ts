// Base64 bodies are stored decoded, so the same attachment dedups however it was wrapped. That
// is only allowed when the wrapping can be reproduced exactly from (line length, line ending).
import { BufferSource, type ByteSource } from './byte-source.js';
import { CR, LF, asBuffer } from './header-block.js';

export type Base64Eol = 'crlf' | 'lf';

/** A single-line body could have been wrapped at any length at least its own; 76 is the norm. */
const DEFAULT_LINE_LENGTH = 76;

/**
 * Canonical base64 of `decoded` (with padding), broken into lines of `lineLength` chars joined
 * by `eol`, with no line ending after the last line.
 */
export function encodeBase64Lines(
  decoded: Uint8Array,
  lineLength: number,
  eol: Base64Eol,
): Uint8Array {
  if (!Number.isInteger(lineLength) || lineLength < 1) {
    throw new RangeError(`base64 line length must be a positive integer, got ${lineLength}`);
  }
  const flat = Buffer.from(asBuffer(decoded).toString('base64'), 'latin1');
  const n = flat.length;
  if (n <= lineLength) return flat;
  const crlf = eol === 'crlf';
  const lines = Math.ceil(n / lineLength);
  const out = Buffer.allocUnsafe(n + (lines - 1) * (crlf ? 2 : 1));
  // One native copy per line beats a byte loop and avoids per-line string slices.
  let o = flat.copy(out, 0, 0, lineLength);
  for (let i = lineLength; i < n; i += lineLength) {
    if (crlf) out[o++] = CR;
    out[o++] = LF;
    o += flat.copy(out, o, i, Math.min(i + lineLength, n));
  }
  return out;
}

export interface Base64Match {
  decoded: Buffer;
  lineLength: number;
  eol: Base64Eol;
  /** Offset where the trailer (trailing whitespace after the last base64 line) starts. */
  dataEnd: number;
}

/** How a base64 body is wrapped: what it takes, with the decoded bytes, to give it back exactly. */
export interface Base64Shape {
  lineLength: number;
  eol: Base64Eol;
  /** Offset where the trailer (trailing whitespace after the last base64 line) starts. */
  dataEnd: number;
  /** Bytes it decodes to. */
  decodedLength: number;
}

function isSpace(byte: number | undefined): boolean {
  return byte === LF || byte === CR || byte === 0x20 || byte === 0x09;
}

/**
 * Base64 characters decoded and checked at a time: a multiple of 4, so that blocks decode
 * independently and what a block decodes to is the same wherever the message is held.
 */
export const BASE64_BLOCK_CHARS = 64 * 1024;

/** Raised when base64 bytes do not re-encode exactly (a match must then not be used). */
export class Base64MismatchError extends Error {
  constructor() {
    super('base64 body does not re-encode to its own bytes');
    this.name = 'Base64MismatchError';
  }
}

/** The character count of base64 data laid out as `lineLength` chars every `stride` bytes. */
function charCount(start: number, dataEnd: number, lineLength: number, stride: number): number {
  const span = dataEnd - start;
  return Math.floor(span / stride) * lineLength + Math.min(span % stride, lineLength);
}

/**
 * What base64 data at [start, shape.dataEnd) decodes to, one block of BASE64_BLOCK_CHARS
 * characters at a time, each checked before it is given out: its canonical encoding, laid in
 * lines of the shape's length, is exactly the bytes it came from. Throws Base64MismatchError at
 * the first block that is not. Blocks before the last decode to whole groups of 3 bytes (padding
 * there would make the parts differ from the whole), so their concatenation is what the whole
 * data decodes to, and its encoding is the whole data. `into`, when given, receives the decoded
 * bytes (shape.decodedLength of them) and the blocks are views of it. Each block comes with the
 * raw bytes it was decoded from; together they are exactly [start, dataEnd).
 */
export function* decodedBlocks(
  source: ByteSource,
  start: number,
  shape: Base64Shape,
  into?: Buffer,
): Generator<{ decoded: Buffer; raw: Buffer }> {
  const { lineLength, dataEnd } = shape;
  const stride = lineLength + (shape.eol === 'crlf' ? 2 : 1);
  const chars = charCount(start, dataEnd, lineLength, stride);
  /** Offset in the source of character `c`. */
  const at = (c: number): number => start + Math.floor(c / lineLength) * stride + (c % lineLength);
  // Blocks of whole lines where a line is short enough (76 characters: 862 lines), so that a
  // block is checked with one encode and one comparison, as a whole part always was.
  const unit =
    lineLength % 4 === 0 ? lineLength : lineLength % 2 === 0 ? lineLength * 2 : lineLength * 4;
  const aligned = unit <= BASE64_BLOCK_CHARS;
  const blockChars = aligned ? Math.floor(BASE64_BLOCK_CHARS / unit) * unit : BASE64_BLOCK_CHARS;
  let written = 0;
  for (let c0 = 0; c0 < chars; c0 += blockChars) {
    const c1 = Math.min(chars, c0 + blockChars);
    const rawStart = at(c0);
    // Up to the next block's first character (the line break between is skipped in decoding),
    // so that the blocks' raw bytes follow one another from start to dataEnd.
    const raw = source.bytes(rawStart, c1 < chars ? at(c1) : dataEnd);
    // Node's decoder skips the line breaks (and would skip junk: the comparison below catches it).
    const text = raw.toString('latin1');
    let block: Buffer;
    if (into) {
      const n = into.write(text, written, 'base64');
      block = into.subarray(written, written + n);
    } else block = Buffer.from(text, 'base64');
    written += block.length;
    if (c1 < chars && block.length !== ((c1 - c0) / 4) * 3) throw new Base64MismatchError();
    const dataLength = at(c1 - 1) + 1 - rawStart;
    if (aligned) {
      // The block starts a line: its lines are encodeBase64Lines of what it decodes to.
      const lines = encodeBase64Lines(block, lineLength, shape.eol);
      if (lines.length !== dataLength || raw.compare(lines, 0, lines.length, 0, dataLength) !== 0)
        throw new Base64MismatchError();
    } else {
      const flat = Buffer.from(block.toString('base64'), 'latin1');
      if (flat.length !== c1 - c0) throw new Base64MismatchError();
      // A line longer than a block: the characters of [c, lineEnd) sit at raw[at(c) - rawStart).
      for (let c = c0; c < c1;) {
        const lineEnd = Math.min(c1, (Math.floor(c / lineLength) + 1) * lineLength);
        const from = at(c) - rawStart;
        if (flat.compare(raw, from, from + (lineEnd - c), c - c0, lineEnd - c0) !== 0)
          throw new Base64MismatchError();
        c = lineEnd;
      }
    }
    yield { decoded: block, raw };
  }
  if (written !== shape.decodedLength) throw new Base64MismatchError();
}

/**
 * Decides whether source[start, end) is a base64 body that can be re-encoded exactly from what
 * it decodes to, its line length and line ending (lines of one length joined by one line ending,
 * the last no longer, canonical characters), and if so how it is wrapped. Node's decoder is
 * lenient (it skips junk, accepts base64url and missing padding), so every block is compared with
 * the encoding of what it decodes to (decodedBlocks); the line-structure checks before that only
 * avoid decoding bodies that cannot match. `into` as in decodedBlocks, for a caller that keeps
 * the decoded bytes (it must hold decodedLength(…) bytes).
 */
export function matchBase64(
  source: ByteSource,
  start: number,
  end: number,
  keep = false,
): { shape: Base64Shape; decoded: Buffer | null } | null {
  let dataEnd = end;
  while (dataEnd > start && isSpace(source.byteAt(dataEnd - 1))) dataEnd--;
  if (dataEnd === start) return null;
  const firstLf = source.indexOf(LF, start, dataEnd);
  let lineLength: number;
  let eol: Base64Eol;
  if (firstLf < 0) {
    const len = dataEnd - start;
    lineLength = Math.max(DEFAULT_LINE_LENGTH, len);
    // The byte after the data: the line ending more lines would have had.
    eol = source.byteAt(dataEnd) === CR ? 'crlf' : 'lf';
  } else {
    const crlf = source.byteAt(firstLf - 1) === CR;
    eol = crlf ? 'crlf' : 'lf';
    lineLength = firstLf - start - (crlf ? 1 : 0);
    if (lineLength < 1) return null;
    const stride = lineLength + (crlf ? 2 : 1);
    for (let p = firstLf + stride; p < dataEnd; p += stride) {
      if (source.byteAt(p) !== LF || (crlf && source.byteAt(p - 1) !== CR)) return null;
    }
    const last = (dataEnd - start) % stride;
    if (last > lineLength || last === 0) return null;
  }
  const stride = lineLength + (eol === 'crlf' ? 2 : 1);
  const chars = charCount(start, dataEnd, lineLength, stride);
  // Canonical base64 comes in whole groups of 4, padded with at most two '=' at the very end.
  if (chars % 4 !== 0) return null;
  const padding =
    (source.byteAt(dataEnd - 1) === 0x3d ? 1 : 0) + (source.byteAt(dataEnd - 2) === 0x3d ? 1 : 0);
  const decodedLength = (chars / 4) * 3 - padding;
  if (decodedLength <= 0) return null;
  const shape: Base64Shape = { lineLength, eol, dataEnd, decodedLength };
  const into = keep ? Buffer.allocUnsafe(decodedLength) : undefined;
  try {
    for (const block of decodedBlocks(source, start, shape, into)) void block;
  } catch (error) {
    if (error instanceof Base64MismatchError) return null;
    throw error;
  }
  return { shape, decoded: into ?? null };
}

/** matchBase64() of a buffer, with the decoded bytes. */
export function matchBase64Body(buf: Buffer, start: number, end: number): Base64Match | null {
  const match = matchBase64(new BufferSource(buf), start, end, true);
  if (!match?.decoded) return null;
  const { lineLength, eol, dataEnd } = match.shape;
  return { decoded: match.decoded, lineLength, eol, dataEnd };
}
