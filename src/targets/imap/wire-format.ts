// How things are spelt on the IMAP wire (RFC 3501): dates, mailbox names, strings, atoms, codes.
import iconv from 'iconv-lite';
import { ImapError } from '../../imap/imap-error.js';
import { parseStatus, type ServerResponse } from './response-reader.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** INTERNALDATE as APPEND wants it: "dd-Mon-yyyy hh:mm:ss +0000". */
export function imapDate(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}-${MONTHS[date.getUTCMonth()]}-${date.getUTCFullYear()} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** A mailbox name on the wire: modified UTF-7 (RFC 3501), quoted. */
export function mailboxName(path: string): string {
  return quote(iconv.encode(path, 'utf7imap').toString('latin1'));
}

export function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** A flag or keyword that can be sent as an atom: no specials, spaces or controls (RFC 3501 atom). */
export function isAtom(flag: string): boolean {
  if (flag.length === 0) return false;
  for (let i = flag.startsWith('\\') ? 1 : 0; i < flag.length; i++) {
    const code = flag.charCodeAt(i);
    if (code <= 0x20 || code >= 0x7f || '(){%*"\\]'.includes(flag[i] ?? '')) return false;
  }
  return flag !== '\\';
}

export function checkOk(response: ServerResponse, where: string, what: string): ServerResponse {
  const { status, code, detail } = parseStatus(response.text);
  if (status === 'OK') return response;
  const reason = `${code ? `[${code}] ` : ''}${detail}`;
  throw new ImapError('refused', `${where}: ${what} refused: ${reason}`);
}

/** "APPENDUID 38505 3955:3957,3960" -> [3955, 3956, 3957, 3960]. */
export function parseAppendUid(code: string | null): number[] | null {
  const match = code ? /^APPENDUID \d+ ([\d:,]+)$/i.exec(code) : null;
  if (!match) return null;
  const uids: number[] = [];
  for (const range of (match[1] ?? '').split(',')) {
    const [from, to] = range.split(':').map(Number);
    if (from === undefined) continue;
    const last = to ?? from;
    for (let uid = Math.min(from, last); uid <= Math.max(from, last); uid++) uids.push(uid);
  }
  return uids;
}
