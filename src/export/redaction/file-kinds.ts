import { basename } from 'node:path';
import { isHarmlessValue } from './secret-keys.js';
import { linesOf, type Span } from './spans.js';

/*
 * Secrets known by where they stand in files of a kind: password hashes in passwd-style lines
 * (`user:{SHA512-CRYPT}...`, `user:$6$...`, Dovecot's `user:{PLAIN}...`, .htpasswd); in files
 * named like passwd, shadow or sasl_passwd, the second field (`user:secret:...`) and Postfix's
 * `[relay]:587 user:secret`; and fetchmail's `password "x"` in the middle of a poll line.
 */
const HASHED_PASSWORD =
  /^([^:\s#][^:\s]*):((?:\{[A-Za-z0-9._-]+\}|\$[0-9a-z]{1,6}\$)[^:\s]*)(?=:|\s*$)/;
const SECRET_FILE_NAME = /passwd|password|shadow|secret|credential/i;
const SASL_LINE = /^(\s*\S+\s+[^\s:]*:)(\S+)\s*$/;
const PASSWD_LINE = /^([^:\s#][^:\s]*):([^:]*)(:.*)?$/;
const FETCHMAIL_PASSWORD = /\b(?:password|passwd|pass)\s+("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s"']+)/g;
/** Second fields that hold no password: none set, locked, or kept elsewhere. */
const NO_PASSWORD = /^(|x|\*|!!?)$|^[!*]/;

function lineSecrets(
  line: string,
  secretFile: boolean,
): { start: number; end: number; what: string } | null {
  const hashed = HASHED_PASSWORD.exec(line);
  if (hashed) {
    const start = (hashed[1] ?? '').length + 1;
    return { start, end: start + (hashed[2] ?? '').length, what: `password hash of ${hashed[1]}` };
  }
  if (!secretFile || /^\s*#/.test(line)) return null;
  const sasl = SASL_LINE.exec(line);
  if (sasl && !isHarmlessValue(sasl[2] ?? '')) {
    const start = (sasl[1] ?? '').length;
    return { start, end: start + (sasl[2] ?? '').length, what: 'user:password' };
  }
  const passwd = PASSWD_LINE.exec(line);
  if (passwd && !NO_PASSWORD.test(passwd[2] ?? '')) {
    const start = (passwd[1] ?? '').length + 1;
    return { start, end: start + (passwd[2] ?? '').length, what: `password of ${passwd[1]}` };
  }
  return null;
}

export function fileKindSecrets(text: string, path: string): Span[] {
  const name = basename(path);
  const secretFile = SECRET_FILE_NAME.test(name);
  const spans: Span[] = [];
  for (const { line, offset } of linesOf(text)) {
    const found = lineSecrets(line, secretFile);
    if (found) spans.push({ ...found, start: offset + found.start, end: offset + found.end });
  }
  if (/fetchmailrc$/i.test(name))
    for (const match of text.matchAll(FETCHMAIL_PASSWORD)) {
      const value = match[1] ?? '';
      const quoted = /^["']/.test(value) ? 1 : 0;
      const start = (match.index ?? 0) + match[0].length - value.length + quoted;
      spans.push({ start, end: start + value.length - 2 * quoted, what: 'fetchmail password' });
    }
  return spans;
}
