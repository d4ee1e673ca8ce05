import { isHarmlessValue, isSecretKey } from './secret-keys.js';
import type { Span } from './spans.js';

/*
 * XML: the text of an element named for a secret (`<password>x</password>`, `<db:Password>`,
 * CDATA too), and the value of an element that names a secret in an attribute, as .NET, Java and
 * many others write settings: `<add key="SmtpPassword" value="x"/>`, `<property
 * name="db.password" value="x"/>`, `<entry key="api.key">x</entry>`, `<setting
 * name="ApiKey"><value>x</value></setting>`. Attributes named for a secret (`password="x"`) are
 * pairs (inline-pairs.ts).
 */
const ELEMENT_TEXT = /<((?:[\w.-]+:)?([\w.-]+))(\s[^<>]*)?>\s*(?:<!\[CDATA\[)?/g;
const START_TAG = /<([\w.:-]+)((?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/g;
const ATTRIBUTE = /([\w.:-]+)\s*=\s*("([^"]*)"|'([^']*)')/g;
const NAMING = /^(key|name|id|param|property|variable|setting|option|field)$/i;
const VALUE_ATTRIBUTE = /^(value|content|data)$/i;

/**
 * indexOf for closing tags, remembering the last answer for each: a file of many elements that
 * are never closed would otherwise be searched to its end once for each.
 */
function closings(text: string): (needle: string, from: number) => number {
  const last = new Map<string, number>();
  return (needle, from) => {
    const known = last.get(needle);
    if (known !== undefined && (known === -1 || known >= from)) return known;
    const found = text.indexOf(needle, from);
    last.set(needle, found);
    return found;
  };
}

/**
 * The text from `from` up to the closing tag of `tag`, trimmed, when it holds no element; with
 * `cdata`, up to the end of the CDATA section that begins at `from`.
 */
function textUntilClose(
  text: string,
  from: number,
  tag: string,
  cdata = false,
  found = closings(text),
): { start: number; end: number } | null {
  const close = found(cdata ? ']]>' : `</${tag}`, from);
  if (close === -1) return null;
  const inner = text.slice(from, close);
  if (!cdata && inner.includes('<')) return null;
  const start = from + (inner.length - inner.trimStart().length);
  const end = start + inner.trim().length;
  return end > start ? { start, end } : null;
}

function elementTexts(text: string): Span[] {
  const spans: Span[] = [];
  const found = closings(text);
  for (const match of text.matchAll(ELEMENT_TEXT)) {
    const [whole, tag = '', local = ''] = match;
    if (!isSecretKey(local) || whole.endsWith('/>')) continue;
    const cdata = whole.endsWith('<![CDATA[');
    const inner = textUntilClose(text, (match.index ?? 0) + whole.length, tag, cdata, found);
    if (inner && !isHarmlessValue(text.slice(inner.start, inner.end)))
      spans.push({ ...inner, what: local });
  }
  return spans;
}

const VALUE_CHILD = /\s*<value(?:\s[^<>]*)?>([^<]*)<\/value>/y;

function namedSettings(text: string): Span[] {
  const spans: Span[] = [];
  const found = closings(text);
  for (const match of text.matchAll(START_TAG)) {
    const [whole, tag = '', attributes = '', selfClosing = ''] = match;
    const attributesAt = (match.index ?? 0) + 1 + tag.length;
    let named: string | undefined;
    const values: Array<{ start: number; end: number }> = [];
    for (const attribute of attributes.matchAll(ATTRIBUTE)) {
      const [all, name = '', quoted = ''] = attribute;
      const value = attribute[3] ?? attribute[4] ?? '';
      if (NAMING.test(name) && isSecretKey(value)) named = value;
      if (VALUE_ATTRIBUTE.test(name) && !isHarmlessValue(value)) {
        const start = attributesAt + (attribute.index ?? 0) + all.length - quoted.length + 1;
        values.push({ start, end: start + value.length });
      }
    }
    if (named === undefined) continue;
    for (const value of values) spans.push({ ...value, what: named });
    if (selfClosing) continue;
    const after = (match.index ?? 0) + whole.length;
    const inner = textUntilClose(text, after, tag, false, found);
    if (inner && !isHarmlessValue(text.slice(inner.start, inner.end))) {
      spans.push({ ...inner, what: named });
      continue;
    }
    VALUE_CHILD.lastIndex = after;
    const child = VALUE_CHILD.exec(text);
    if (child && !isHarmlessValue(child[1] ?? '')) {
      const start = after + child[0].length - '</value>'.length - (child[1] ?? '').length;
      spans.push({ start, end: start + (child[1] ?? '').length, what: named });
    }
  }
  return spans;
}

export function xmlSecrets(text: string): Span[] {
  if (!text.includes('<')) return [];
  return [...elementTexts(text), ...namedSettings(text)];
}
