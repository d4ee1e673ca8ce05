// mboxrd entries (see mboxrd.ts) for large messages, written as their pieces come: the same
// bytes mboxEntry gives for the whole message, without holding it.
import { findHeaderEndIn } from '../mime/header-block.js';
import type { StreamedMessage } from './export-writer.js';
import type { MboxBase } from './mbox-status.js';
import { withStatusFields } from './mbox-status.js';
import { fromLine, quoteFromLines } from './mboxrd.js';

const LF = 0x0a;

/** A line's beginning that may still become `>*From ` once the next piece comes: `>*` and a start of `From`. */
const UNDECIDED = /^>*(?:F|Fr|Fro|From)?$/;

/**
 * mboxrd quoting (quoteFromLines) applied to a message given in pieces. A line start cut by a
 * piece boundary is held back until the next piece decides whether it is a `>*From ` line; the
 * first piece begins a line, as quoteFromLines takes the start of what it is given.
 */
export class FromQuoter {
  private held: Buffer = Buffer.alloc(0);
  /** Whether the next byte begins a line. */
  private startsLine = true;

  push(piece: Buffer): Buffer[] {
    const data = this.held.length > 0 ? Buffer.concat([this.held, piece]) : piece;
    const lastLf = data.lastIndexOf(LF);
    const tailStart = lastLf + 1;
    const tailAtLineStart = lastLf >= 0 || this.startsLine;
    const tail = data.subarray(tailStart);
    if (tailAtLineStart && tail.length > 0 && UNDECIDED.test(tail.toString('latin1'))) {
      const parts = quoteFromLines(data.subarray(0, tailStart), this.startsLine);
      this.held = Buffer.from(tail);
      this.startsLine = true;
      return parts.filter((part) => part.length > 0);
    }
    const parts = quoteFromLines(data, this.startsLine);
    this.held = Buffer.alloc(0);
    if (data.length > 0) this.startsLine = data[data.length - 1] === LF;
    return parts.filter((part) => part.length > 0);
  }

  end(): Buffer[] {
    const parts = quoteFromLines(this.held, this.startsLine);
    this.held = Buffer.alloc(0);
    return parts.filter((part) => part.length > 0);
  }
}

/**
 * What mboxEntry writes for a message, as pieces, when the message's first piece holds its
 * whole header block with LF line ends (the flag fields are placed from it, and the "From "
 * line's sender is read from it); null when it does not, and the message must be whole for that.
 */
export function mboxEntryPieces(
  message: StreamedMessage,
  date: Date,
  flags: readonly string[],
  base?: MboxBase,
): AsyncIterable<Buffer> | null {
  const header = message.header;
  // With an LF in the first piece, the whole message's line ends are LF too (detectNewline), and
  // a header end found inside the first piece is the one the whole message has.
  if (header.indexOf(LF) < 0 || findHeaderEndIn(header, 0, header.length, LF) < 0) return null;
  const { head, fields, rest } = withStatusFields(header, flags, base);
  // An empty head decides its line ending from the whole message: not worth streaming.
  if (head.length <= 1) return null;
  return (async function* () {
    yield fromLine(header, date);
    yield* quoteFromLines(head).filter((part) => part.length > 0);
    yield fields;
    const quoter = new FromQuoter();
    // The last byte of what follows the fields decides the end, as in mboxEntry.
    let last = fields[fields.length - 1] as number;
    let skip = header.length;
    const emit = function* (piece: Buffer): Generator<Buffer> {
      if (piece.length === 0) return;
      last = piece[piece.length - 1] as number;
      yield* quoter.push(piece);
    };
    yield* emit(rest);
    for await (const piece of message.pieces()) {
      // The first piece (the header) was given already as `header`.
      if (skip > 0) {
        const drop = Math.min(skip, piece.length);
        skip -= drop;
        yield* emit(piece.subarray(drop));
        continue;
      }
      yield* emit(piece);
    }
    yield* quoter.end();
    yield Buffer.from(last === LF ? '\n' : '\n\n', 'latin1');
  })();
}
