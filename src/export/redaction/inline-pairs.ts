import { isHarmlessValue, isSecretKey } from './secret-keys.js';
import { lineStartFinder, linesOf, valueAt, type Span } from './spans.js';

/*
 * Pairs anywhere in a line: one-line and nested JSON (`{"db": {"pass": "x"}}`), YAML and JS
 * objects (`{password: x}`), PHP and Perl arrays (`'password' => 'x'`), XML attributes
 * (`password="x"`), `name=value` arguments and connect strings (`host=db password=x`),
 * environment prefixes (`PGPASSWORD=x pg_dump`), PHP's define('DB_PASSWORD', 'x'), and
 * semicolon connection strings (`Server=db;User Id=sa;Password=x y;`).
 */
const PAIR =
  /(?<=^|[\s{,;([>"'|&`])(["']?)([A-Za-z_$@][\w.$@-]*)\1([ \t]*)(=>|:=|\?=|\+=|=|:(?![:/=]))([ \t]*)/gm;
const DEFINE = /\bdefine\s*\(\s*(["'])([\w.-]+)\1\s*,\s*/g;
/** How far back a rule looks, within a line, for the context of a pair. */
const LOOK_BACK = 512;

/** Inside an XML start tag (`<add key="...`): there `key`, `name` and `id` name something. */
function inStartTag(text: string, at: number, lineStart: number): boolean {
  const before = text.slice(Math.max(lineStart, at - LOOK_BACK), at);
  return before.lastIndexOf('<') > before.lastIndexOf('>');
}

/**
 * A line setting a mapping of names (Dovecot's `pass_attrs = uid=user,userPassword=password`,
 * `*_fields`, `*_map`): its pairs name fields and attributes, not values.
 */
const MAPPING_LINE = /^[ \t]*[\w.-]*[_.-](attrs|attributes|fields|map|maps)[ \t]*[=:]/i;
const COMMENT_LINE = /^\s*(#|;|\/\/|\*|--)/;
const WORDS_AFTER = /[ \t]+[A-Za-z]/y;

/**
 * Words going on after `key: value` in a comment are prose (`// SMTP user and password: use the
 * IMAP login`); a commented-out setting (`# password: old`) ends with its value.
 */
function inProse(text: string, lineStart: number, valueEnd: number): boolean {
  if (!COMMENT_LINE.test(text.slice(lineStart, lineStart + 16))) return false;
  WORDS_AFTER.lastIndex = valueEnd;
  return WORDS_AFTER.test(text);
}

function pairs(text: string): Span[] {
  const spans: Span[] = [];
  const lineStartOf = lineStartFinder(text);
  for (const match of text.matchAll(PAIR)) {
    const [whole, quote = '', key = '', spaceBefore = '', separator = '', spaceAfter = ''] = match;
    const at = (match.index ?? 0) + whole.length;
    const quotedValue = text[at] === '"' || text[at] === "'";
    // A bare `name=value` (an argument, a connect string) reads keys strictly.
    const glued = separator === '=' && spaceBefore === '' && spaceAfter === '';
    const strict = quote === '' && glued && !quotedValue;
    if (!isSecretKey(key, strict)) continue;
    const lineStart = lineStartOf(match.index ?? 0);
    if (/^(key|name|id)$/i.test(key) && inStartTag(text, match.index ?? 0, lineStart)) continue;
    if (MAPPING_LINE.test(text.slice(lineStart, Math.min(at, lineStart + LOOK_BACK)))) continue;
    const value = valueAt(text, at);
    if (!value || isHarmlessValue(text.slice(value.start, value.end))) continue;
    if (separator === ':' && inProse(text, lineStart, value.end)) continue;
    // A YAML block scalar's indicator: the key line rule redacts the lines below.
    if (/^(?:![^\s]+\s+)?[|>][+-]?\d*$/.test(text.slice(value.start, value.end))) continue;
    spans.push({ ...value, what: key });
  }
  for (const match of text.matchAll(DEFINE)) {
    const key = match[2] ?? '';
    const value = valueAt(text, (match.index ?? 0) + match[0].length);
    if (value && isSecretKey(key) && !isHarmlessValue(text.slice(value.start, value.end)))
      spans.push({ ...value, what: key });
  }
  return spans;
}

/** The name right before a connection string's `=` (names may hold spaces: `User Id`). */
const CONNECTION_KEY = /[A-Za-z][\w .-]*$/;

/**
 * Connection strings: in a line with two or more `name=value;` pieces, the values of names that
 * name a secret, up to the `;` (spaces within kept: `Password=x y;`) or a quote. Read piece by
 * piece, as a pattern over the whole line backtracked at every position of long lines.
 */
function connectionStrings(text: string): Span[] {
  const spans: Span[] = [];
  for (const { line, offset } of linesOf(text)) {
    if (!line.includes(';') || !line.includes('=')) continue;
    const pieces = line.split(';');
    if (pieces.filter((piece) => piece.includes('=')).length < 2) continue;
    let at = offset;
    for (const piece of pieces) {
      const equals = piece.indexOf('=');
      const key = CONNECTION_KEY.exec(piece.slice(0, equals).trimEnd())?.[0].trim() ?? '';
      const value = /^[^"'=]*/.exec(piece.slice(equals + 1))?.[0] ?? '';
      const start = at + equals + 1 + (value.length - value.trimStart().length);
      const end = at + equals + 1 + value.trimEnd().length;
      if (equals > 0 && end > start && isSecretKey(key) && !isHarmlessValue(value))
        spans.push({ start, end, what: key });
      at += piece.length + 1;
    }
  }
  return spans;
}

export function inlinePairSecrets(text: string): Span[] {
  return [...pairs(text), ...connectionStrings(text)];
}
