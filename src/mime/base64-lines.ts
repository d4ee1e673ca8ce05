// Base64 bodies are stored decoded, so the same attachment dedups however it was wrapped. That
// is only allowed when the wrapping can be reproduced exactly from (line length, line ending).
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
  /** The re-encoded lines, identical to buf[start, dataEnd); kept so callers can verify cheaply. */
  encoded: Uint8Array;
}

function isSpace(byte: number | undefined): boolean {
  return byte === LF || byte === CR || byte === 0x20 || byte === 0x09;
}

/**
 * Decodes buf[start, end) as base64 if, and only if, re-encoding the result reproduces the
 * bytes exactly. Node's decoder is lenient (it skips junk, accepts base64url and missing
 * padding), so the final byte comparison is what guarantees reversibility; the line-structure
 * checks before it only avoid decoding bodies that cannot match.
 */
export function matchBase64Body(buf: Buffer, start: number, end: number): Base64Match | null {
  let dataEnd = end;
  while (dataEnd > start && isSpace(buf[dataEnd - 1])) dataEnd--;
  if (dataEnd === start) return null;
  const view = buf.subarray(0, dataEnd);
  const firstLf = view.indexOf(LF, start);
  let lineLength: number;
  let eol: Base64Eol;
  if (firstLf < 0) {
    const len = dataEnd - start;
    lineLength = Math.max(DEFAULT_LINE_LENGTH, len);
    eol = buf[dataEnd] === CR ? 'crlf' : 'lf';
  } else {
    const crlf = buf[firstLf - 1] === CR;
    eol = crlf ? 'crlf' : 'lf';
    lineLength = firstLf - start - (crlf ? 1 : 0);
    if (lineLength < 1) return null;
    const stride = lineLength + (crlf ? 2 : 1);
    for (let p = firstLf + stride; p < dataEnd; p += stride) {
      if (view[p] !== LF || (crlf && view[p - 1] !== CR)) return null;
    }
    if ((dataEnd - start) % stride > lineLength) return null;
  }
  const decoded = Buffer.from(buf.toString('latin1', start, dataEnd), 'base64');
  if (decoded.length === 0) return null;
  const encoded = encodeBase64Lines(decoded, lineLength, eol);
  if (encoded.length !== dataEnd - start) return null;
  if (buf.compare(encoded, 0, encoded.length, start, dataEnd) !== 0) return null;
  return { decoded, lineLength, eol, dataEnd, encoded };
}
