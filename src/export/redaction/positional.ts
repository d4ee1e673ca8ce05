import { isHarmlessValue, isSecretKey } from './secret-keys.js';
import { valueAt, type Span } from './spans.js';

/*
 * Secrets known by their place, with no key beside them: the password argument of database
 * connections (Perl's DBI->connect($dsn, $user, 'x') and Amavis's ['DBI:mysql:...', 'user', 'x'],
 * PHP's new PDO(...), mysqli_connect(...)), and the credentials of Postfix `static:` and `inline:`
 * tables given to a password setting (`smtp_sasl_password_maps = static:user:x`).
 */
const CONNECT_CALL =
  /(?:DBI\s*->\s*connect(?:_cached)?|new\s+PDO|new\s+mysqli|mysqli_connect|mysqli_real_connect|mysql_connect)\s*\(\s*/gi;
const DSN_LIST = /\[\s*(?=["']dbi:)/gi;
const INLINE_MAP = /^([ \t]*[\w.-]+)[ \t]*=[ \t]*(?:\n[ \t]+)?(static:|inline:)/gm;

/** The third argument of a call or list opened at `at`, when it is a string literal. */
function thirdArgument(text: string, at: number): { start: number; end: number } | null {
  let position = at;
  for (let index = 0; index < 2; index++) {
    const argument =
      /\s*(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|[$@]?[\w>-]+(?:\[[^\]\n]*\])?)\s*,\s*/y;
    argument.lastIndex = position;
    const match = argument.exec(text);
    if (!match) return null;
    position += match[0].length;
  }
  if (text[position] !== '"' && text[position] !== "'") return null;
  return valueAt(text, position);
}

const WORD = /\S*/y;

function wordEnd(text: string, at: number): number {
  WORD.lastIndex = at;
  return at + (WORD.exec(text)?.[0].length ?? 0);
}

export function positionalSecrets(text: string): Span[] {
  const spans: Span[] = [];
  for (const opener of [CONNECT_CALL, DSN_LIST])
    for (const match of text.matchAll(opener)) {
      const found = thirdArgument(text, (match.index ?? 0) + match[0].length);
      if (found && !isHarmlessValue(text.slice(found.start, found.end)))
        spans.push({ ...found, what: 'database password' });
    }
  for (const match of text.matchAll(INLINE_MAP)) {
    const key = (match[1] ?? '').trim();
    if (!/pass|secret|credential/i.test(key) && !isSecretKey(key)) continue;
    const start = (match.index ?? 0) + match[0].length;
    const kind = match[2];
    const end =
      kind === 'inline:' ? Math.max(start, text.indexOf('}', start)) : wordEnd(text, start);
    if (end > start) spans.push({ start, end, what: key });
  }
  return spans;
}
