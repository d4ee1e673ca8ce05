// Byte-level helpers for header blocks. Header blocks are read as latin1 strings so that every
// byte maps to exactly one char and offsets and raw 8-bit values survive unchanged.
import { BufferSource, type ByteSource } from './byte-source.js';

export const LF = 0x0a;
export const CR = 0x0d;

/** The byte that terminates lines: LF (with an optional CR before it), or CR for CR-only mail. */
export type NewlineByte = typeof LF | typeof CR;

export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/**
 * Old Mac mail uses bare CR as its only line ending. Such a message has no LF at all; a single
 * LF anywhere means CR is just a byte (mixed-ending mail is far more common than CR-only).
 */
export function detectNewline(buf: Buffer): NewlineByte {
  return buf.indexOf(LF) < 0 && buf.indexOf(CR) >= 0 ? CR : LF;
}

/** detectNewline() of any source. */
export function newlineOf(source: ByteSource): NewlineByte {
  const length = source.length;
  return source.indexOf(LF, 0, length) < 0 && source.indexOf(CR, 0, length) >= 0 ? CR : LF;
}

/**
 * Offset just past the blank line that ends the header block starting at `start`, or -1 when
 * there is none before `end`. A block starting with a blank line is an empty header.
 */
export function findHeaderEndIn(buf: Buffer, start: number, end: number, nl: NewlineByte): number {
  return headerEndIn(new BufferSource(buf), start, end, nl);
}

/** The byte at `i` of a range ending at `end` (undefined past it), as a subarray would give it. */
function byteIn(source: ByteSource, i: number, end: number): number | undefined {
  return i < end ? source.byteAt(i) : undefined;
}

/** findHeaderEndIn() of any source. */
export function headerEndIn(
  source: ByteSource,
  start: number,
  end: number,
  nl: NewlineByte,
): number {
  if (nl === CR) {
    if (byteIn(source, start, end) === CR) return start + 1;
    for (let i = source.indexOf(CR, start, end); i >= 0; i = source.indexOf(CR, i + 1, end)) {
      if (byteIn(source, i + 1, end) === CR) return i + 2;
    }
    return -1;
  }
  if (byteIn(source, start, end) === LF) return start + 1;
  if (byteIn(source, start, end) === CR && byteIn(source, start + 1, end) === LF) return start + 2;
  for (let i = source.indexOf(LF, start, end); i >= 0; i = source.indexOf(LF, i + 1, end)) {
    const next = byteIn(source, i + 1, end);
    if (next === LF) return i + 2;
    if (next === CR && byteIn(source, i + 2, end) === LF) return i + 3;
  }
  return -1;
}

/**
 * Length of the top-level header block of `raw`, including the blank line that ends it; the
 * whole length when there is no blank line.
 */
export function findHeaderEnd(raw: Uint8Array): number {
  const buf = asBuffer(raw);
  const end = findHeaderEndIn(buf, 0, buf.length, detectNewline(buf));
  return end < 0 ? buf.length : end;
}

const fieldPatterns = new Map<string, RegExp>();

function fieldPattern(name: string): RegExp {
  let pattern = fieldPatterns.get(name);
  if (!pattern) {
    // Obsolete syntax (RFC 5322 4.5) allows whitespace between the name and the colon.
    pattern = new RegExp(`^${name}[ \\t]*:`, 'gim');
    fieldPatterns.set(name, pattern);
  }
  return pattern;
}

const lineBreak = /\r\n?|\n/g;

/** End of the (possibly folded) field value starting at `from`: the first line break not followed by WSP. */
function valueEnd(text: string, from: number): number {
  lineBreak.lastIndex = from;
  for (let m = lineBreak.exec(text); m; m = lineBreak.exec(text)) {
    const c = text.charCodeAt(m.index + m[0].length);
    if (c !== 0x20 && c !== 0x09) return m.index;
  }
  return text.length;
}

/**
 * Raw values (still folded, not decoded) of the fields called `name` (a lowercase name with no
 * regex metacharacters), in order, at most `limit` of them.
 */
export function headerFieldValues(text: string, name: string, limit = Infinity): string[] {
  const pattern = fieldPattern(name);
  pattern.lastIndex = 0;
  const values: string[] = [];
  for (let m = pattern.exec(text); m && values.length < limit; m = pattern.exec(text)) {
    const from = m.index + m[0].length;
    const to = valueEnd(text, from);
    values.push(text.slice(from, to));
    pattern.lastIndex = Math.max(to, from + 1);
  }
  return values;
}

/** The first value of field `name`, or null. */
export function headerField(text: string, name: string): string | null {
  return headerFieldValues(text, name, 1)[0] ?? null;
}
