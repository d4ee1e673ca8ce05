// Names and text from servers (folder names, subjects, senders, calendar names, file names,
// account names from an account-list command, a server's error text) may hold control
// characters: an ESC or CSI sequence in a folder name, printed raw, would rewrite the
// administrator's terminal (move the cursor, recolour, retitle the window, hide the lines above).
// Everything the CLI prints for a person goes through printable(), which writes such characters
// as visible escapes. JSON output needs none: JSON.stringify escapes them itself.

/**
 * C0 controls and DEL, C1 controls (0x9b is CSI on its own), the line and paragraph separators,
 * and the bidirectional controls that reorder what is shown (a name that looks like another).
 */
/* eslint-disable no-control-regex -- matching control characters is the point here */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
/** The same, a line end excepted. */
const UNPRINTABLE_IN_LINES =
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
/* eslint-enable no-control-regex */
/** What JSON.stringify leaves raw of those: DEL, C1, the separators and bidirectional controls. */
const UNESCAPED_BY_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escape(char: string): string {
  const named = NAMED[char];
  if (named) return named;
  const code = char.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * A name or a one-line text as it may be shown on a terminal: every control character written
 * as an escape (`\x1b`, `\n`, `\u202e`), everything else as it is. Backslashes are left alone,
 * so ordinary names print unchanged; --json gives the exact value.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escape);
}

/**
 * A line of JSON (a log record) with the controls JSON leaves raw written as \\u escapes: the
 * same JSON value, harmless on a terminal. They can only stand inside its strings.
 */
export function terminalSafeJson(line: string): string {
  return line.replace(
    UNESCAPED_BY_JSON,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The same for a text of several lines: its line ends are kept, every other control escaped. */
export function printableLines(text: string): string {
  return text.replace(UNPRINTABLE_IN_LINES, escape);
}
