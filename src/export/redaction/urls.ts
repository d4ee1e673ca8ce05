import { isHarmlessValue, isSecretKey } from './secret-keys.js';
import type { Span } from './spans.js';

/*
 * URLs: the password of `scheme://user:password@host` (up to the last `@` before the host, so a
 * password holding `@` goes whole), and query parameters named for a secret
 * (`?api_key=...&token=...`, JDBC's `?user=x&password=y`).
 */
const USER_PASSWORD = /\b[a-z][a-z0-9+.-]*:\/\/[^\s/?#@:"'<>]*:([^\s/?#"'<>]+)@[^\s/?#@"'<>]*/gi;
const QUERY_PARAMETER = /[?&]([A-Za-z_][\w.-]*)=([^&#\s"'<>]*)/g;

export function urlSecrets(text: string): Span[] {
  const spans: Span[] = [];
  for (const match of text.matchAll(USER_PASSWORD)) {
    const password = match[1] ?? '';
    if (isHarmlessValue(password)) continue;
    const start = (match.index ?? 0) + match[0].indexOf(`:${password}@`) + 1;
    spans.push({ start, end: start + password.length, what: 'password in a URL' });
  }
  for (const match of text.matchAll(QUERY_PARAMETER)) {
    const [whole, key = '', value = ''] = match;
    if (!isSecretKey(key) || isHarmlessValue(value)) continue;
    const start = (match.index ?? 0) + whole.length - value.length;
    spans.push({ start, end: start + value.length, what: key });
  }
  return spans;
}
