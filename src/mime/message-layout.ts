// The stored shape of a message: a header block plus body segments that are each kept (and
// deduplicated) as separate objects, and that concatenate back to the original bytes.
import { encodeBase64Lines } from './base64-lines.js';
import type { Base64Eol } from './base64-lines.js';

export type Segment =
  /** Structural bytes kept as is: part headers, boundary lines, preamble, epilogue. */
  | { kind: 'literal'; bytes: Uint8Array }
  /** A leaf part's body, stored as its own object, verbatim. */
  | { kind: 'content'; bytes: Uint8Array }
  /** A leaf body equal to encodeBase64Lines(decoded, lineLength, eol) followed by trailer. */
  | {
      kind: 'base64';
      decoded: Uint8Array;
      lineLength: number;
      eol: Base64Eol;
      trailer: Uint8Array;
    };

export interface MessageLayout {
  /** The top-level header block including the blank line ending it; the whole message if none. */
  header: Uint8Array;
  /** The rest of the message; concatenated, exactly the bytes after the header. */
  body: Segment[];
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** The original bytes of one segment. */
export function segmentBytes(segment: Segment): Uint8Array {
  if (segment.kind !== 'base64') return segment.bytes;
  const lines = encodeBase64Lines(segment.decoded, segment.lineLength, segment.eol);
  if (segment.trailer.length === 0) return lines;
  return concat([lines, segment.trailer], lines.length + segment.trailer.length);
}

/** The original message: header followed by every body segment. */
export function assembleMessage(layout: MessageLayout): Uint8Array {
  const parts: Uint8Array[] = [layout.header];
  let total = layout.header.length;
  for (const segment of layout.body) {
    const bytes = segmentBytes(segment);
    parts.push(bytes);
    total += bytes.length;
  }
  return concat(parts, total);
}

// The whole round trip in one place for callers that store and restore messages.
export { splitMessage } from './split-message.js';
export { encodeBase64Lines } from './base64-lines.js';
