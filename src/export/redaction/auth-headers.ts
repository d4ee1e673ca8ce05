import { isHarmlessValue, isSecretKey } from './secret-keys.js';
import { valueAt, type Span } from './spans.js';

/*
 * HTTP credentials: `Authorization: Bearer x`, `Authorization: Basic x`, `proxy_set_header
 * Authorization "Basic x";`, `-H 'Authorization: Token x'`, `"Authorization": "Bearer x"`; and
 * headers or variables named for a secret as web servers set them (`proxy_set_header X-Api-Key
 * x;`, `fastcgi_param DB_PASSWORD x;`, Apache's `SetEnv DB_PASS x` and `RequestHeader set
 * Authorization "Basic x"`). Custom headers written `X-Auth-Token: x` are pairs.
 */
const AUTHORIZATION =
  /\b((?:Proxy-)?Authorization)\b(["']?[ \t]*[:=]?[ \t]*["']?|[ \t]+)[ \t]*(?:(Bearer|Basic|Token|Digest|Negotiate|NTLM|ApiKey|Key|OAuth|SharedKey|Hawk|SSWS|GoogleLogin|AWS4-HMAC-SHA256)[ \t]+)?([^"'\n;]*)/gi;
const SETTER =
  /\b(proxy_set_header|add_header|more_set_headers|more_set_input_headers|grpc_set_header|fastcgi_param|uwsgi_param|scgi_param|SetEnv|RequestHeader[ \t]+(?:set|append|add)|Header[ \t]+(?:always[ \t]+)?(?:set|append|add))[ \t]+["']?([\w.-]+)["']?[ \t]+/gi;

function authorizations(text: string): Span[] {
  const spans: Span[] = [];
  for (const match of text.matchAll(AUTHORIZATION)) {
    const [whole, name = '', separator = '', scheme, credentials = ''] = match;
    // Prose ("the Authorization header") names no credentials: a separator or a scheme must.
    if (!scheme && !/[:="']/.test(separator)) continue;
    const value = credentials.trim();
    if (value === '' || isHarmlessValue(value) || /^\$\w+$/.test(value)) continue;
    const start = (match.index ?? 0) + whole.length - credentials.length;
    spans.push({ start, end: start + value.length, what: `${name} header` });
  }
  return spans;
}

function setters(text: string): Span[] {
  const spans: Span[] = [];
  for (const match of text.matchAll(SETTER)) {
    const name = match[2] ?? '';
    if (/^(proxy-)?authorization$/i.test(name) || !isSecretKey(name)) continue;
    const value = valueAt(text, (match.index ?? 0) + match[0].length, `\\s;"'`);
    if (value && !isHarmlessValue(text.slice(value.start, value.end)))
      spans.push({ ...value, what: name });
  }
  return spans;
}

export function authHeaderSecrets(text: string): Span[] {
  return [...authorizations(text), ...setters(text)];
}
