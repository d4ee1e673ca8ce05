import type { Base64Eol } from '../../mime/base64-lines.js';

const CRLF = Buffer.from('\r\n', 'latin1');
const LF = Buffer.from('\n', 'latin1');

/**
 * encodeBase64Lines (mime/base64-lines.ts) fed piece by piece: the concatenation of what push()
 * and end() return is exactly encodeBase64Lines of the concatenated input, whatever the cuts.
 * Base64 works on groups of three bytes, so the 0–2 bytes left over from one piece wait for the
 * next; the line break is written before a line's first character, never after the last line,
 * so the column in use carries across pieces too.
 */
export class Base64LineEncoder {
  private carry: Buffer = Buffer.alloc(0);
  /** Characters already on the current line. */
  private column = 0;
  private readonly eol: Buffer;

  constructor(
    private readonly lineLength: number,
    eol: Base64Eol,
  ) {
    if (!Number.isInteger(lineLength) || lineLength < 1)
      throw new RangeError(`base64 line length must be a positive integer, got ${lineLength}`);
    this.eol = eol === 'crlf' ? CRLF : LF;
  }

  push(decoded: Uint8Array): Buffer {
    const piece = Buffer.from(decoded.buffer, decoded.byteOffset, decoded.byteLength);
    const data = this.carry.length > 0 ? Buffer.concat([this.carry, piece]) : piece;
    const whole = data.length - (data.length % 3);
    // A copy: the leftover must not keep the caller's (possibly large) buffer alive.
    this.carry = Buffer.from(data.subarray(whole));
    return this.wrap(Buffer.from(data.toString('base64', 0, whole), 'latin1'));
  }

  /** The last group, padded. */
  end(): Buffer {
    const last = this.wrap(Buffer.from(this.carry.toString('base64'), 'latin1'));
    this.carry = Buffer.alloc(0);
    return last;
  }

  private wrap(flat: Buffer): Buffer {
    const n = flat.length;
    const room = this.lineLength - this.column;
    if (n <= room) {
      this.column += n;
      return flat;
    }
    const breaks = Math.ceil((n - room) / this.lineLength);
    const out = Buffer.allocUnsafe(n + breaks * this.eol.length);
    let o = flat.copy(out, 0, 0, room);
    let i = room;
    while (i < n) {
      o += this.eol.copy(out, o);
      const take = Math.min(this.lineLength, n - i);
      o += flat.copy(out, o, i, i + take);
      i += take;
      this.column = take;
    }
    return out;
  }
}
