// Collects body pieces as ranges of the message while the walker runs, so adjacent literals merge
// for free and nothing is copied: a message in a spool file is laid out without reading it whole.
import type { Base64Shape } from './base64-lines.js';

/** A range of the message and what the splitter found it to be. */
export type Piece =
  | { kind: 'literal' | 'content'; start: number; end: number }
  | {
      kind: 'base64';
      start: number;
      end: number;
      shape: Base64Shape;
      /** What it decodes to, checked, when the message is in memory; null for a spooled one. */
      decoded: Buffer | null;
    };

/** Preambles and epilogues are a line or two in well-formed mail. */
export const MAX_LOOSE_LITERAL = 8 * 1024;

export class SegmentBuilder {
  readonly pieces: Piece[] = [];

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

  base64(start: number, end: number, shape: Base64Shape, decoded: Buffer | null): void {
    this.pieces.push({ kind: 'base64', start, end, shape, decoded });
  }
}
