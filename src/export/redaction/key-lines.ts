import { isHarmlessValue, isSecretKey } from './secret-keys.js';
import { linesOf, valueAt, type Span } from './spans.js';

/*
 * Lines that begin with a key: `key = value`, `key: value`, `key=value`, `key value`,
 * `"key": value`, `'key' => value`, `$config['key'] = value`, `key:: base64` (LDIF), commented out
 * or not, after `export`, `set` and the like. The key is the last name of a PHP or Perl
 * subscript (`$cfg['Servers'][$i]['password']`: password).
 */
const KEY_LINE =
  /^(\s*(?:(?:#|;|\/\/|!|--)+\s*)?(?:(?:export|set|declare|local|readonly|var|let|const|my|our)\s+(?:-\w+\s+)?)?)(["']?)([$@%]?[A-Za-z_][\w.-]*(?:\s*\[\s*(?:"[^"]*"|'[^']*'|\$?[\w.-]*)\s*\])*)\2(\s*(?:=>|:=|\?=|\+=|::?(?![/:])|=)\s*|[ \t]+)/;

/** The name a subscripted key ends with: $cfg['Servers'][$i]['password'] is password. */
function lastName(key: string): string {
  const subscripts = [...key.matchAll(/\[\s*(?:"([^"]*)"|'([^']*)'|(\$?[\w.-]*))\s*\]/g)];
  const last = subscripts.at(-1);
  if (!last) return key.replace(/^[$@%]/, '');
  return last[1] ?? last[2] ?? (last[3] ?? '').replace(/^\$/, '');
}

/** A PAM line (`password requisite pam_pwquality.so`) or a section (`passdb ldap {`): no value. */
const NOT_A_VALUE =
  /(^|\s)(required|requisite|sufficient|optional|include|substack|\[[^\]]*\])(\s|$)|\bpam_[\w-]+|\{\s*$/;
/** The start of a commented-out line. */
const COMMENT = /^\s*(#|;|\/\/|!|--)/;
/** A YAML block scalar (`|`, `>-`, tagged `!vault |`): the value is on the lines below. */
const BLOCK_SCALAR = /^(?:![^\s]+\s+)?[|>][+-]?\d*\s*(?:#.*)?$/;
/** A value that is a scheme-tagged hash or password, `{SSHA}...`, is no structure. */
const SCHEME_VALUE = /^\{[A-Za-z0-9._-]+\}/;

/** The lines after `from` indented deeper than `indent`: a block scalar's text. */
function blockBelow(text: string, from: number, indent: number): { start: number; end: number } {
  let end = from;
  let at = from;
  while (at < text.length) {
    const next = text.indexOf('\n', at);
    const line = text.slice(at, next === -1 ? text.length : next);
    const depth = (/^[ \t]*/.exec(line)?.[0] ?? '').length;
    if (line.trim() !== '' && depth <= indent) break;
    if (line.trim() !== '') end = at + line.length;
    if (next === -1) break;
    at = next + 1;
  }
  // The block's own indentation stays, so that the YAML still reads.
  const indentation = (/^[ \t]*/.exec(text.slice(from, end))?.[0] ?? '').length;
  return { start: Math.min(from + indentation, end), end };
}

export function keyLineSecrets(text: string): Span[] {
  const spans: Span[] = [];
  for (const { line, offset } of linesOf(text)) {
    const match = KEY_LINE.exec(line);
    if (!match) continue;
    const [head = '', , , rawKey = '', separator = ''] = match;
    const key = lastName(rawKey);
    const spaced = separator.trim() === '';
    if (!isSecretKey(key, spaced)) continue;
    const restAt = head.length;
    const rest = line.slice(restAt);
    const what = key;
    if (spaced) {
      if (NOT_A_VALUE.test(rest)) continue;
      const single = valueAt(line, restAt, `\\s;`);
      const whole = /^("[^"]*"|'[^']*'|\S+?);?\s*$/.test(rest);
      // In a comment, words after a key are prose (`# Password for the LDAP server`).
      if (!whole && COMMENT.test(head)) continue;
      const value =
        whole && single
          ? single
          : { start: restAt, end: restAt + rest.trimEnd().replace(/;$/, '').length };
      const shown = line.slice(value.start, value.end);
      if (!isHarmlessValue(shown))
        spans.push({ start: offset + value.start, end: offset + value.end, what });
      continue;
    }
    if (BLOCK_SCALAR.test(rest)) {
      const indent = (/^[ \t]*/.exec(line)?.[0] ?? '').length;
      const block = blockBelow(text, offset + line.length + 1, indent);
      if (block.end > block.start) spans.push({ ...block, what });
      continue;
    }
    if (/^["']/.test(rest)) {
      const quoted = valueAt(line, restAt);
      if (quoted && !isHarmlessValue(line.slice(quoted.start, quoted.end)))
        spans.push({ start: offset + quoted.start, end: offset + quoted.end, what });
      continue;
    }
    if (/^[{[(]/.test(rest) && !SCHEME_VALUE.test(rest)) continue;
    const bare = /^(.*?)(\s*[;,]?\s*)$/.exec(rest)?.[1] ?? '';
    if (!isHarmlessValue(bare))
      spans.push({ start: offset + restAt, end: offset + restAt + bare.length, what });
  }
  return spans;
}
