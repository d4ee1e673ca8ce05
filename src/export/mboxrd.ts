// The mboxrd format (as in qmail's mbox(5) and Python's mailbox): each message follows a
// "From " separator line and ends with a blank line; inside a message, every line matching
// /^>*From / gets one more '>', so a reader can undo exactly that and get the message back.
import { findHeaderEnd, headerField } from '../mime/header-block.js';
import { splitAddressList } from '../mime/header-summary.js';
import { withStatusFields, type MboxBase } from './mbox-status.js';

const LF = 0x0a;
const GT = 0x3e;
const FROM = Buffer.from('From ', 'latin1');
const MORE = Buffer.from('>', 'latin1');

/**
 * Line starts (after each LF, and offset 0 unless `startsLine` is false: a piece cut from the
 * middle of a line) where the line is `>*From `.
 */
function quotedLineStarts(message: Uint8Array, startsLine = true): number[] {
  const buf = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  const starts: number[] = [];
  // Only LF ends a line for an mbox reader; a CR-only message is one long line to it.
  for (let at = buf.indexOf(FROM); at >= 0; at = buf.indexOf(FROM, at + 1)) {
    let start = at;
    while (start > 0 && buf[start - 1] === GT) start--;
    if (start === 0 ? startsLine : buf[start - 1] === LF) starts.push(start);
  }
  return starts;
}

/** The message with mboxrd quoting: one '>' more before each `>*From ` line. */
export function quoteFromLines(message: Uint8Array, startsLine = true): Buffer[] {
  const buf = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  const parts: Buffer[] = [];
  let from = 0;
  for (const start of quotedLineStarts(buf, startsLine)) {
    parts.push(buf.subarray(from, start), MORE);
    from = start;
  }
  parts.push(buf.subarray(from));
  return parts;
}

/** What an mboxrd reader does to a stored message: one '>' less before each `>+From ` line. */
export function unquoteFromLines(stored: Uint8Array): Buffer {
  const buf = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  const parts: Buffer[] = [];
  let from = 0;
  for (const start of quotedLineStarts(buf)) {
    if (buf[start] !== GT) continue;
    parts.push(buf.subarray(from, start));
    from = start + 1;
  }
  parts.push(buf.subarray(from));
  return Buffer.concat(parts);
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * C's asctime() of a moment in UTC, e.g. `Thu Nov  4 08:05:09 2021`: what "From " lines carry.
 * UTC because the line has no zone and Python's mailbox writes gmtime() there too.
 */
export function asctime(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${DAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${String(date.getUTCDate()).padStart(2, ' ')} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} ${date.getUTCFullYear()}`
  );
}

/** The address inside a field value: the `<...>` part, else the token with an @. */
function addressIn(value: string): string | null {
  const angle = /<([^<>]*)>/.exec(value);
  if (angle) return (angle[1] ?? '').trim();
  const bare = value.split(/[\s()]+/).find((token) => token.includes('@'));
  return bare ?? null;
}

/**
 * The envelope sender for the "From " line: Return-Path, else the first From address, else
 * MAILER-DAEMON (also for the null sender `<>`). Reduced to printable ASCII without spaces:
 * a reader splits the line at spaces.
 */
export function envelopeSender(message: Uint8Array): string {
  const header = Buffer.from(message.buffer, message.byteOffset, findHeaderEnd(message));
  const text = header.toString('latin1');
  const candidates: Array<string | null> = [];
  const returnPath = headerField(text, 'return-path');
  if (returnPath !== null) candidates.push(addressIn(returnPath.replace(/\r?\n/g, '')));
  const from = headerField(text, 'from');
  if (from !== null) {
    const first = splitAddressList(from.replace(/\r?\n/g, ''))[0];
    if (first) candidates.push(addressIn(first));
  }
  for (const candidate of candidates) {
    const clean = (candidate ?? '').replace(/[^\x21-\x7e]/g, '');
    if (clean) return clean;
    if (candidate !== null) break; // `<>`: the null sender is a bounce
  }
  return 'MAILER-DAEMON';
}

/** The separator line before a message, with its LF. */
export function fromLine(message: Uint8Array, date: Date): Buffer {
  return Buffer.from(`From ${envelopeSender(message)} ${asctime(date)}\n`, 'latin1');
}

/**
 * Everything written for one message: the separator, the quoted bytes with its flags as header
 * fields (see mbox-status.ts), a LF if the message does not end with one (a reader needs the
 * last line ended), and the blank line that ends it.
 */
export function mboxEntry(
  message: Uint8Array,
  date: Date,
  flags: readonly string[],
  base?: MboxBase,
): Buffer[] {
  const { head, fields, rest } = withStatusFields(message, flags, base);
  const parts = [fromLine(message, date), ...quoteFromLines(head), fields, ...quoteFromLines(rest)];
  const last = rest.length > 0 ? rest : fields;
  const ended = last[last.length - 1] === LF;
  parts.push(Buffer.from(ended ? '\n' : '\n\n', 'latin1'));
  return parts.filter((part) => part.length > 0);
}
