// An mbox file has no place for flags outside the messages: readers take them from header fields
// that mail programs add to each message, as mutt, Thunderbird and Dovecot's mbox storage do:
//   Status: R (\Seen) and O ("old": not \Recent, always so for an export)
//   X-Status: A (\Answered), F (\Flagged), T (\Draft), D (\Deleted), in that order
//   X-Keywords: the keywords, separated by spaces
// Dovecot takes a keyword from X-Keywords only when the file declares it, in an X-IMAPbase field
// of its first message ("X-IMAPbase: UIDVALIDITY LAST-UID KEYWORD..."), so the first message of
// a folder with keywords carries one, as Dovecot writes it.
// The fields go at the end of the message's header block. A message that already holds such
// fields, or the other fields an mbox store keeps its bookkeeping in (X-IMAP, X-IMAPbase, X-UID:
// with Status, X-Status and X-Keywords, those Dovecot hides from IMAP clients), left by an
// earlier mbox store, loses them: a reader would take them for the message's state (mutt adds
// their letters to ours, Dovecot would take stale UIDs and keywords), and the flags the server
// had are the truth.
import { CR, LF, asBuffer, detectNewline, findHeaderEnd } from '../mime/header-block.js';

const X_STATUS_LETTERS: ReadonlyArray<[string, string]> = [
  ['\\answered', 'A'],
  ['\\flagged', 'F'],
  ['\\draft', 'T'],
  ['\\deleted', 'D'],
];

/** A header field a reader takes for the mailbox's state of the message, at a line start. */
const STATE_FIELD = /^(?:status|x-status|x-keywords|x-imap|x-imapbase|x-uid)[ \t]*:/i;

/** What the first message of a file declares for Dovecot: the keywords used in the file. */
export interface MboxBase {
  uidValidity: number;
  keywords: readonly string[];
}

/**
 * The Status, X-Status and X-Keywords lines for these flags (and X-IMAPbase for the first
 * message), each ended by `eol`.
 */
export function statusFields(flags: readonly string[], eol: string, base?: MboxBase): string {
  const lower = new Set(flags.map((flag) => flag.toLowerCase()));
  const status = `${lower.has('\\seen') ? 'R' : ''}O`;
  const xStatus = X_STATUS_LETTERS.filter(([flag]) => lower.has(flag))
    .map(([, letter]) => letter)
    .join('');
  // \Recent is a session's state, and other system flags have no letter in any reader.
  const keywords = flags.filter((flag) => !flag.startsWith('\\'));
  let text = `Status: ${status}${eol}`;
  if (base && base.keywords.length > 0)
    text += `X-IMAPbase: ${base.uidValidity} ${'0'.repeat(10)} ${base.keywords.join(' ')}${eol}`;
  if (xStatus) text += `X-Status: ${xStatus}${eol}`;
  if (keywords.length > 0) text += `X-Keywords: ${keywords.join(' ')}${eol}`;
  return text;
}

/** A message cut where the flag fields go, with fields of an earlier mbox store left out. */
export interface MessageWithStatus {
  /** The header fields kept, each whole with its line end. */
  head: Buffer;
  /** The new fields (after a line end when the head lacked one). */
  fields: Buffer;
  /** The blank line ending the header block and the body, as they were. */
  rest: Buffer;
}

export function withStatusFields(
  message: Uint8Array,
  flags: readonly string[],
  base?: MboxBase,
): MessageWithStatus {
  const buf = asBuffer(message);
  if (detectNewline(buf) === CR) {
    // An mbox reader splits lines at LF only, so a CR-only message is one line to it: the fields
    // go before it, on lines of their own.
    return {
      head: buf.subarray(0, 0),
      fields: Buffer.from(statusFields(flags, '\n', base)),
      rest: buf,
    };
  }
  const headerEnd = findHeaderEnd(buf);
  const fieldsEnd = headerEnd - blankLineLength(buf, headerEnd);
  const head = withoutStateFields(buf.subarray(0, fieldsEnd));
  const crlf = head.length > 1 ? head[head.length - 2] === CR : buf.indexOf('\r\n') >= 0;
  const eol = crlf ? '\r\n' : '\n';
  const unended = head.length > 0 && head[head.length - 1] !== LF;
  return {
    head,
    fields: Buffer.from(`${unended ? eol : ''}${statusFields(flags, eol, base)}`, 'latin1'),
    rest: buf.subarray(fieldsEnd),
  };
}

/** Length of the blank line at the end of a header block ending at `end` (0 when none). */
function blankLineLength(buf: Buffer, end: number): number {
  if (end === 0 || buf[end - 1] !== LF) return 0;
  // The block's last line is blank when a line end comes just before its own line end.
  if (end === 1 || buf[end - 2] === LF) return 1;
  if (buf[end - 2] === CR && (end === 2 || buf[end - 3] === LF)) return 2;
  return 0;
}

/** The header fields without those of an mbox store's bookkeeping (with their folded lines). */
function withoutStateFields(head: Buffer): Buffer {
  const text = head.toString('latin1');
  const kept: Buffer[] = [];
  let dropping = false;
  let changed = false;
  for (let start = 0; start < text.length;) {
    const next = text.indexOf('\n', start);
    const end = next < 0 ? text.length : next + 1;
    const folded = text[start] === ' ' || text[start] === '\t';
    if (!folded) dropping = STATE_FIELD.test(text.slice(start, end));
    if (dropping) changed = true;
    else kept.push(head.subarray(start, end));
    start = end;
  }
  return changed ? Buffer.concat(kept) : head;
}
