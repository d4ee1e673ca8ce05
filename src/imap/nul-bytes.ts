import { createHash } from 'node:crypto';

/**
 * NUL bytes and IMAP. A literal may not carry NUL (RFC 3501); only a server with BINARY (RFC 3516)
 * takes and gives them, in literal8 (`~{n}`). A server that holds a message with NUL bytes and is
 * asked for BODY[] must send something else: Dovecot sends 0x80 in their place (Cyrus answers in
 * literal8 anyway). BINARY[] is no way to read every message either: it decodes the
 * Content-Transfer-Encoding of every part (base64 attachments come back decoded, their headers
 * rewritten), so only a message whose BINARY[] answer is its BODY[] answer with NUL where BODY[]
 * had 0x80 is known to be the message as stored.
 */

/** The byte Dovecot sends in place of NUL in a BODY[] answer. */
export const NUL_STAND_IN = 0x80;

export function holdsNul(bytes: Uint8Array): boolean {
  return bytes.includes(0);
}

/**
 * Whether a message read with BODY[] may have NUL bytes the server replaced: it holds a 0x80 that
 * is not part of a well-formed UTF-8 sequence. 0x80 is common inside UTF-8 (’ is E2 80 99), where a
 * stand-in for NUL (after ASCII, or after a byte that starts no sequence) never is, so 8-bit UTF-8
 * mail is not asked for twice. A NUL that followed the lead bytes of an unfinished UTF-8 sequence
 * would pass unnoticed; that is malformed text twice over.
 */
export function mayHideNul(bytes: Uint8Array): boolean {
  return mayHideNulWithin(bytes, 0, bytes.length);
}

/**
 * mayHideNul() for the positions [from, to) of `bytes`, the bytes around them read as context: a
 * message read a window at a time is checked window by window, each with a few bytes of its
 * neighbours (a UTF-8 sequence reaches at most three bytes either way).
 */
export function mayHideNulWithin(bytes: Uint8Array, from: number, to: number): boolean {
  let at = bytes.indexOf(NUL_STAND_IN, from);
  while (at >= 0 && at < to) {
    if (!insideUtf8Sequence(bytes, at)) return true;
    at = bytes.indexOf(NUL_STAND_IN, at + 1);
  }
  return false;
}

/** Whether the continuation byte at `at` completes a well-formed UTF-8 sequence around it. */
function insideUtf8Sequence(bytes: Uint8Array, at: number): boolean {
  // Walk back over continuation bytes to the lead byte (at most three back).
  let lead = at - 1;
  while (lead >= 0 && at - lead <= 3 && ((bytes[lead] ?? 0) & 0xc0) === 0x80) lead--;
  if (lead < 0 || at - lead > 3) return false;
  const first = bytes[lead] ?? 0;
  const length =
    first >= 0xc2 && first <= 0xdf
      ? 2
      : first >= 0xe0 && first <= 0xef
        ? 3
        : first >= 0xf0 && first <= 0xf4
          ? 4
          : 0;
  if (length === 0 || at - lead >= length || lead + length > bytes.length) return false;
  for (let i = lead + 1; i < lead + length; i++)
    if (((bytes[i] ?? 0) & 0xc0) !== 0x80) return false;
  // The few lead/second-byte pairs UTF-8 forbids (overlong forms, surrogates, past U+10FFFF).
  const second = bytes[lead + 1] ?? 0;
  if (first === 0xe0 && second < 0xa0) return false;
  if (first === 0xed && second > 0x9f) return false;
  if (first === 0xf0 && second < 0x90) return false;
  if (first === 0xf4 && second > 0x8f) return false;
  return true;
}

/** SHA-256 of the bytes, each NUL counted as the stand-in a server without BINARY sends for it. */
function sha256AsServed(bytes: Uint8Array): string {
  const hash = createHash('sha256');
  let start = 0;
  for (let at = bytes.indexOf(0); at >= 0; at = bytes.indexOf(0, start)) {
    if (at > start) hash.update(bytes.subarray(start, at));
    hash.update(STAND_IN);
    start = at + 1;
  }
  if (start < bytes.length) hash.update(bytes.subarray(start));
  return hash.digest('hex');
}

const STAND_IN = Uint8Array.of(NUL_STAND_IN);

/**
 * The SHA-256 of a message holding NUL bytes as a server without them serves it (null for a
 * message without NUL): a restore recognises a copy it appended before by it.
 */
export function servedSha256(bytes: Uint8Array): string | null {
  return holdsNul(bytes) ? sha256AsServed(bytes) : null;
}

/**
 * Whether a BINARY[] answer is the message whose BODY[] answer hashed to `bodySha256`: the same
 * bytes, with NUL in some places where BODY[] had the stand-in. Then it is the message as stored.
 */
export function isBodyWithNul(binary: Uint8Array, bodySha256: string): boolean {
  return sha256AsServed(binary) === bodySha256;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Bytes of context a position's verdict needs on each side (a UTF-8 sequence reaches three). */
const REACH = 3;

/**
 * mayHideNul() of bytes that arrive in pieces (a large message read in ranges), with the answer
 * mayHideNul() gives on their concatenation, without joining them: each piece is checked where it
 * lies, and only the few bytes around each join are copied.
 */
export class NulScreen {
  /** The last 2 * REACH bytes seen (fewer at first). */
  private carry = Buffer.alloc(0);
  /** Bytes seen so far. */
  private total = 0;
  /** Positions before this one are decided. */
  private decided = 0;
  private found = false;

  feed(piece: Uint8Array): void {
    if (this.found || piece.length === 0) return;
    const base = this.total - this.carry.length;
    const after = this.total + piece.length;
    if (piece.length >= 4 * REACH) {
      // Around the join: the carry's undecided positions and the piece's first REACH, each with
      // REACH bytes either side; then the piece's inside, where it alone is context enough.
      const edge = Buffer.concat([this.carry, piece.subarray(0, 2 * REACH)]);
      this.found =
        mayHideNulWithin(edge, this.decided - base, this.carry.length + REACH) ||
        mayHideNulWithin(piece, REACH, piece.length - REACH);
      this.carry = Buffer.from(piece.subarray(piece.length - 2 * REACH));
    } else {
      const work = Buffer.concat([this.carry, piece]);
      this.found = mayHideNulWithin(work, this.decided - base, work.length - REACH);
      this.carry = Buffer.from(work.subarray(Math.max(0, work.length - 2 * REACH)));
    }
    this.total = after;
    this.decided = Math.max(this.decided, after - REACH);
  }

  /** The verdict once every piece is in: the last positions are judged with nothing after them. */
  end(): boolean {
    if (this.found) return true;
    const base = this.total - this.carry.length;
    return mayHideNulWithin(this.carry, Math.max(0, this.decided - base), this.carry.length);
  }
}
