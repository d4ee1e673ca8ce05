// A display summary of a header block for catalogues and listings. It must cope with anything,
// so every step degrades to "less pretty" rather than failing.
import { decodeEncodedWords } from './encoded-words.js';
import { asBuffer, headerField, headerFieldValues } from './header-block.js';
import { parseHeaderDate } from './header-date.js';

export interface HeaderSummary {
  from: string;
  to: string;
  cc: string;
  subject: string;
  /** ISO 8601 UTC; null if the Date field is absent or unparseable. */
  date: string | null;
  messageId: string;
}

export const MAX_SUMMARY_FIELD_LENGTH = 1000;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Header text is latin1 (one char per byte); raw 8-bit values are most often UTF-8. */
function rawToText(value: string): string {
  if (!/[\x80-\xff]/.test(value)) return value;
  try {
    return utf8.decode(Buffer.from(value, 'latin1'));
  } catch {
    return value;
  }
}

function clean(value: string): string {
  let text = value
    // eslint-disable-next-line no-control-regex -- control chars (NUL, CR, ...) have no place in a listing
    .replace(/[\x00-\x1f\x7f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (text.length > MAX_SUMMARY_FIELD_LENGTH) {
    const cut = /[\ud800-\udbff]/.test(text[MAX_SUMMARY_FIELD_LENGTH - 1] ?? '') ? 1 : 0;
    text = text.slice(0, MAX_SUMMARY_FIELD_LENGTH - cut);
  }
  return text;
}

/** Far more raw text than any capped field can show; bounds the work on absurd headers. */
const MAX_RAW_VALUE = 64 * 1024;

function unfold(value: string): string {
  return rawToText(value.slice(0, MAX_RAW_VALUE).replace(/\r\n?|\n/g, ''));
}

/** Splits an address list at the commas that separate addresses, not those in names or comments. */
export function splitAddressList(value: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let angle = false;
  let comment = 0;
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && (quoted || comment > 0)) i++;
    else if (quoted) quoted = c !== '"';
    else if (c === '(') comment++;
    else if (comment > 0) comment -= c === ')' ? 1 : 0;
    else if (c === '"') quoted = true;
    else if (c === '<') angle = true;
    else if (c === '>') angle = false;
    else if (c === ',' && !angle) {
      parts.push(value.slice(from, i));
      from = i + 1;
    }
  }
  parts.push(value.slice(from));
  return parts.map((part) => part.trim()).filter((part) => part.length > 0);
}

/** `"Alice Smith" <a@x>` reads better as `Alice Smith <a@x>` in a listing. */
function displayAddress(address: string): string {
  const decoded = decodeEncodedWords(address);
  const m = /^"((?:[^"\\]|\\.)*)"\s*(<[^<>]*>)$/.exec(decoded.trim());
  if (!m) return decoded;
  return `${(m[1] ?? '').replace(/\\(.)/g, '$1')} ${m[2] ?? ''}`;
}

function addresses(values: string[]): string {
  const all = values.flatMap((value) => splitAddressList(unfold(value)));
  return clean(all.map(displayAddress).join(', '));
}

const EMPTY: HeaderSummary = { from: '', to: '', cc: '', subject: '', date: null, messageId: '' };

/** Summarizes a header block (as split off by splitMessage). Never throws. */
export function summarizeHeader(header: Uint8Array): HeaderSummary {
  try {
    const text = asBuffer(header).toString('latin1');
    const subject = headerField(text, 'subject');
    const date = headerField(text, 'date');
    const messageId = headerField(text, 'message-id');
    return {
      from: addresses(headerFieldValues(text, 'from')),
      to: addresses(headerFieldValues(text, 'to')),
      cc: addresses(headerFieldValues(text, 'cc')),
      subject: subject === null ? '' : clean(decodeEncodedWords(unfold(subject))),
      date: date === null ? null : parseHeaderDate(clean(unfold(date))),
      messageId: messageId === null ? '' : clean(unfold(messageId)),
    };
  } catch {
    return { ...EMPTY };
  }
}
