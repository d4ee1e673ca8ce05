/*
 * How a support bundle takes secrets out of configuration files, by rule:
 *
 * - files left out whole: private keys by name (*.key, id_rsa, ssh_host_*_key, *.p12...) and by
 *   content (any "-----BEGIN ... PRIVATE KEY-----" block, PuTTY key files), files holding nothing
 *   but a secret by name (*.pass, *.secret, *.token...), and binary files (they cannot be
 *   checked: a Postfix sasl_passwd.db holds passwords);
 * - in text files, values replaced by <redacted>: of keys that name a secret (password, passwd,
 *   pass, pwd, pw, secret, token, credential, psk, api/access/secret/private key, and a final
 *   key or auth), in `key = value`, `key: value`, `key=value`, `key value` (one token) and
 *   `"key": "value"` forms, commented out or not; `name=value` pairs inside a value (SQL connect
 *   strings, args); passwords in URLs (scheme://user:password@); password hashes in passwd-style
 *   lines (user:{SCHEME}..., user:$6$...); and user:password in files named like sasl_passwd.
 *
 * Not redacted, on purpose, because they are what a supporter needs and reveal no secret: keys
 * that describe how secrets are handled (password_scheme = SHA512-CRYPT, default_pass_scheme,
 * auth_mechanisms, *_file, *_path, *_maps, *_length...), and values that only point at secrets
 * (a path, </path, hash:/etc/postfix/sasl_passwd, %{variables}, yes/no). The private key files
 * such values point to are left out by the rules above.
 */
import { basename } from 'node:path';

export const REDACTED = '<redacted>';

/** Words that make a key a secret's wherever they are in it. */
const SECRET_WORDS = new Set([
  'password',
  'passwords',
  'passwd',
  'passphrase',
  'pass',
  'pwd',
  'pw',
  'secret',
  'secrets',
  'token',
  'tokens',
  'credential',
  'credentials',
  'psk',
  'apikey',
  'secretkey',
  'accesskey',
  'privatekey',
  'privkey',
  'authkey',
  'masterauth',
]);
/** Glued words ending like this are secrets too: requirepass, dnpass, bindpw, dbpwd, clientsecret. */
const SECRET_SUFFIX = /(password|passwd|passphrase|pass|pwd|pw|secret|token)$/;
const NOT_SECRET_GLUED = new Set(['bypass', 'compass', 'overpass', 'surpass', 'trespass']);
/** Words that name a secret only as the last word of a key: ssl_key, api_key, smtp_auth. */
const LAST_WORD_SECRETS = new Set(['key', 'auth', 'private']);
/** A key ending in one of these describes a secret's handling, not the secret. */
const DESCRIPTIVE = new Set(
  (
    'scheme schemes format file files path paths dir directory length len size bits min max ' +
    'minimum maximum maps map type types algorithm algorithms mechanisms mechanism mech realm ' +
    'realms enable enabled disable disabled verbose debug timeout ttl cache lifetime expire ' +
    'expires expiry tokenizer tokenizers filter filters socket port host hosts command program ' +
    'user username users login attribute attributes attrs attr field fields column query ' +
    'encoding prompt policy header version count attempts retries delay interval charset lookup ' +
    'required mode location id ids separator prefix suffix chars complexity history reuse age ' +
    'warn days rounds iterations cost source provider backend driver module helper plugin db ' +
    'env hint quality strength check checks store'
  ).split(' '),
);

function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** Whether a key names a secret; `strict` (for `key value` lines) leaves out the weak words. */
export function isSecretKey(key: string, strict = false): boolean {
  const parts = words(key);
  const last = parts.at(-1);
  if (last === undefined || DESCRIPTIVE.has(last)) return false;
  if (!strict && LAST_WORD_SECRETS.has(last)) return true;
  return parts.some(
    (word) => SECRET_WORDS.has(word) || (SECRET_SUFFIX.test(word) && !NOT_SECRET_GLUED.has(word)),
  );
}

/** Values that are not secrets whatever their key: references, switches, nothing. */
export function isHarmlessValue(value: string): boolean {
  const v = value.trim();
  return (
    v === '' ||
    v === REDACTED ||
    /^(yes|no|true|false|on|off|none|null|nil|empty|disabled|enabled|required|optional|\*)$/i.test(
      v,
    ) ||
    /^(\/|<|~\/|\.\.?\/)/.test(v) ||
    /^(\$\{\w+\}|\$[A-Z_][A-Z0-9_]*|%\{[^}]*\}|%[A-Za-z]{1,2})$/.test(v) ||
    /^([a-z][a-z0-9_+-]*:)+[/~.]/i.test(v)
  );
}

export interface Redaction {
  line: number;
  /** The key (or rule) whose value was replaced; never the value. */
  what: string;
}

/** A value as written: quoted (quotes kept, inside replaced) or bare (up to ; , or the end). */
function replaceValue(rest: string): { text: string; value: string } {
  const quote = rest[0];
  if (quote === '"' || quote === "'") {
    const end = rest.indexOf(quote, 1);
    if (end > 0)
      return {
        text: `${quote}${REDACTED}${quote}${rest.slice(end + 1)}`,
        value: rest.slice(1, end),
      };
  }
  const match = /^(.*?)(\s*[;,]?\s*)$/.exec(rest) as RegExpExecArray;
  return { text: `${REDACTED}${match[2] ?? ''}`, value: match[1] ?? '' };
}

const KEY_LINE =
  /^(\s*(?:(?:#|;|\/\/|!)+\s*)?(?:export\s+|set\s+)?)(["']?)([A-Za-z_][\w.-]*)\2(\s*=\s*|\s*:(?!\/\/)\s*|\s+)(.*)$/;
/** name=value inside a value (no spaces around "="): SQL connect strings, args. */
const INLINE_PAIR = /(?<=^|[\s,;({])([A-Za-z_][\w.-]*)=("[^"]*"|'[^']*'|[^\s,;)"']+)/g;
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*):([^\s/@]+)@/gi;
const HASHED_PASSWORD =
  /^([^:\s#][^:\s]*):((?:\{[A-Za-z0-9._-]+\}|\$[0-9a-z]{1,6}\$)[^:\s]*)(?=:|\s*$)/;
const SECRET_FILE_NAME = /passwd|password|shadow|secret|credential/i;
const SASL_LINE = /^(\s*\S+\s+[^\s:]*:)(\S+)(\s*)$/;
const PASSWD_LINE = /^([^:\s#][^:\s]*):([^:]*)(:.*)?$/;

/** Redacts the secrets of one text file (rules above); line numbers start at 1. */
export function redactText(path: string, text: string): { text: string; redactions: Redaction[] } {
  const redactions: Redaction[] = [];
  const secretFile = SECRET_FILE_NAME.test(basename(path));
  const lines = text.split('\n').map((original, index) => {
    const number = index + 1;
    let line = original;
    const hashed = HASHED_PASSWORD.exec(line);
    if (hashed) {
      line = `${hashed[1]}:${REDACTED}${line.slice((hashed[0] ?? '').length)}`;
      redactions.push({ line: number, what: `password hash of ${hashed[1]}` });
    } else if (secretFile && !/^\s*#/.test(line)) {
      const sasl = SASL_LINE.exec(line);
      const passwd = PASSWD_LINE.exec(line);
      if (sasl && !isHarmlessValue(sasl[2] ?? '')) {
        line = `${sasl[1]}${REDACTED}${sasl[3]}`;
        redactions.push({ line: number, what: 'user:password' });
      } else if (
        passwd &&
        !['', 'x', '*', '!', '!!'].includes(passwd[2] ?? '') &&
        !/^[!*]/.test(passwd[2] ?? '')
      ) {
        line = `${passwd[1]}:${REDACTED}${passwd[3] ?? ''}`;
        redactions.push({ line: number, what: `password of ${passwd[1]}` });
      }
    }
    const keyLine = KEY_LINE.exec(line);
    if (keyLine) {
      const [, prefix = '', quote = '', key = '', separator = '', rest = ''] = keyLine;
      const spaced = separator.trim() === '';
      const single = !spaced || /^("[^"]*"|'[^']*'|\S+)\s*;?$/.test(rest);
      if (isSecretKey(key, spaced) && single) {
        const replaced = replaceValue(rest);
        if (!isHarmlessValue(replaced.value)) {
          line = `${prefix}${quote}${key}${quote}${separator}${replaced.text}`;
          redactions.push({ line: number, what: key });
        }
      }
    }
    line = line.replace(INLINE_PAIR, (all, key: string, value: string) => {
      const quote = /^["']/.test(value) ? value.charAt(0) : '';
      const bare = quote ? value.slice(1, -1) : value;
      if (!isSecretKey(key, true) || isHarmlessValue(bare)) return all;
      redactions.push({ line: number, what: key });
      return `${key}=${quote}${REDACTED}${quote}`;
    });
    line = line.replace(URL_PASSWORD, (all, head: string) => {
      redactions.push({ line: number, what: 'password in a URL' });
      return `${head}:${REDACTED}@`;
    });
    return line;
  });
  return { text: lines.join('\n'), redactions };
}

const KEY_FILE_NAME =
  /(\.(key|p12|pfx|jks|keystore|kdbx|keytab|ppk|pass|password|secret|secrets|token|psk)$)|(^id_(rsa|dsa|ecdsa|ed25519)(_sk)?$)|(^ssh_host_.*_key$)|(^\.?(netrc|pgpass)$)/i;
const PRIVATE_KEY_BLOCK =
  /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|PuTTY-User-Key-File-/;

/** Why a file is left out of a bundle whole, or null when its (redacted) text goes in. */
export function leftOutReason(path: string, bytes: Buffer): string | null {
  if (KEY_FILE_NAME.test(basename(path))) return 'a key or secret file (by its name)';
  if (bytes.includes(0)) return 'binary (it cannot be checked for secrets)';
  if (PRIVATE_KEY_BLOCK.test(bytes.toString('latin1'))) return 'holds a private key';
  return null;
}
