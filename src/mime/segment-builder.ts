// Collects body segments as ranges of the original buffer while the walker runs, so adjacent
// literals merge for free and nothing is copied until the end.
import type { Base64Match } from './base64-lines.js';
import type { Segment } from './message-layout.js';

type Piece =
  | { kind: 'literal' | 'content'; start: number; end: number }
  | { kind: 'base64'; start: number; end: number; match: Base64Match };

export interface BuiltSegments {
  segments: Segment[];
  /** For each base64 segment, its re-encoded lines (without trailer), to verify without re-encoding. */
  encoded: Map<Segment, Uint8Array>;
}

/** Preambles and epilogues are a line or two in well-formed mail. */
export const MAX_LOOSE_LITERAL = 8 * 1024;

export class SegmentBuilder {
  private readonly pieces: Piece[] = [];

  constructor(private readonly buf: Buffer) {}

  literal(start: number, end: number): void {
    if (end <= start) return;
    const last = this.pieces[this.pieces.length - 1];
    if (last?.kind === 'literal' && last.end === start) last.end = end;
    else this.pieces.push({ kind: 'literal', start, end });
  }

  /**
   * Bytes around the structure rather than part of it (preamble, epilogue, a part without a
   * header block): literal as usual, but content when large, as in broken mail where they hold
   * real data (a whole mbox after a close delimiter), so that literals stay small enough to
   * keep inline.
   */
  loose(start: number, end: number): void {
    if (end - start > MAX_LOOSE_LITERAL) this.content(start, end);
    else this.literal(start, end);
  }

  content(start: number, end: number): void {
    if (end > start) this.pieces.push({ kind: 'content', start, end });
  }

  base64(start: number, end: number, match: Base64Match): void {
    this.pieces.push({ kind: 'base64', start, end, match });
  }

  build(): BuiltSegments {
    const segments: Segment[] = [];
    const encoded = new Map<Segment, Uint8Array>();
    for (const piece of this.pieces) {
      if (piece.kind !== 'base64') {
        segments.push({ kind: piece.kind, bytes: this.buf.subarray(piece.start, piece.end) });
        continue;
      }
      const { decoded, lineLength, eol, dataEnd } = piece.match;
      const trailer = this.buf.subarray(dataEnd, piece.end);
      const segment: Segment = { kind: 'base64', decoded, lineLength, eol, trailer };
      segments.push(segment);
      encoded.set(segment, piece.match.encoded);
    }
    return { segments, encoded };
  }
}
