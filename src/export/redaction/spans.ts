import { REDACTED } from './secret-keys.js';

/** Where a secret lies in a text (offsets of its first character and past its last). */
export interface Span {
  start: number;
  end: number;
  /** The key (or rule) that names it, for the manifest; never the value. */
  what: string;
}

export interface Redaction {
  line: number;
  /** The key (or rule) whose value was replaced; never the value. */
  what: string;
}

/** A rule finds the secrets of one text; `path` is the file's, for rules that go by file name. */
export type Rule = (text: string, path: string) => Span[];

/**
 * The value that starts at `at`: inside its quotes (backslash escapes kept within), or a bare
 * token up to white space or a stop character, without closing brackets it did not open. Null
 * for nothing there, or for a structure (`{`, `[`, `(`) whose own keys say what is secret.
 */
export function valueAt(
  text: string,
  at: number,
  stops = `\\s,;"'<>&`,
): { start: number; end: number } | null {
  const first = text[at];
  if (first === undefined || first === '\n' || '{[('.includes(first)) return null;
  if (first === '"' || first === "'") {
    let i = at + 1;
    while (i < text.length && text[i] !== first && text[i] !== '\n') i += text[i] === '\\' ? 2 : 1;
    if (text[i] !== first) return null;
    return { start: at + 1, end: i };
  }
  const bare = new RegExp(`[^${stops}]+`, 'y');
  bare.lastIndex = at;
  const match = bare.exec(text);
  if (!match) return null;
  let token = match[0];
  for (const [open, close] of [
    ['(', ')'],
    ['{', '}'],
    ['[', ']'],
  ] as const) {
    const count = (char: string): number => token.split(char).length - 1;
    while (token.endsWith(close) && count(close) > count(open)) token = token.slice(0, -1);
  }
  return token === '' ? null : { start: at, end: at + token.length };
}

/** The index (from 0) of the line holding each offset, by the offsets where lines start. */
function lineIndexer(text: string): { starts: number[]; indexOf: (offset: number) => number } {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  const indexOf = (offset: number): number => {
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if ((starts[middle] ?? 0) <= offset) low = middle;
      else high = middle - 1;
    }
    return low;
  };
  return { starts, indexOf };
}

/** Finds the line (from 1) of offsets in a text. */
export function lineFinder(text: string): (offset: number) => number {
  const { indexOf } = lineIndexer(text);
  return (offset) => indexOf(offset) + 1;
}

/**
 * Finds where the line of an offset starts, without scanning back (a rule that looked back to
 * the line's start at every match would take quadratic time on a long one-line file).
 */
export function lineStartFinder(text: string): (offset: number) => number {
  const { starts, indexOf } = lineIndexer(text);
  return (offset) => starts[indexOf(offset)] ?? 0;
}

/**
 * Replaces each span by REDACTED (overlapping spans as one, named by the first) and lists the
 * redactions by line.
 */
export function applySpans(
  text: string,
  spans: readonly Span[],
): { text: string; redactions: Redaction[] } {
  const sorted = spans.filter((span) => span.end > span.start).sort((a, b) => a.start - b.start);
  const merged: Span[] = [];
  for (const span of sorted) {
    const last = merged.at(-1);
    if (last && span.start < last.end) last.end = Math.max(last.end, span.end);
    else merged.push({ ...span });
  }
  let out = '';
  let at = 0;
  const redactions: Redaction[] = [];
  const lineAt = lineFinder(text);
  for (const span of merged) {
    if (text.slice(span.start, span.end) === REDACTED) continue;
    out += text.slice(at, span.start) + REDACTED;
    at = span.end;
    redactions.push({ line: lineAt(span.start), what: span.what });
  }
  return { text: out + text.slice(at), redactions };
}

/** Each line of a text with the offset it starts at. */
export function* linesOf(text: string): Generator<{ line: string; offset: number }> {
  let offset = 0;
  for (const line of text.split('\n')) {
    yield { line, offset };
    offset += line.length + 1;
  }
}
