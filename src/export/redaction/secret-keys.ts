/*
 * Which keys name a secret, and which values are no secret whatever their key. A key is split into
 * words (snake, kebab, dotted and camel case alike: smtpPassword, SMTP_PASSWORD, smtp.password).
 */

export const REDACTED = '<redacted>';

/** Words that make a key a secret's wherever they are in it. */
const SECRET_WORDS = new Set([
  'password',
  'passwords',
  'passwd',
  'passphrase',
  'passcode',
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
  'authtok',
  'masterauth',
]);
/** Glued words ending like this are secrets too: requirepass, dnpass, bindpw, dbpwd, clientsecret. */
const SECRET_SUFFIX = /(password|passwd|passphrase|pass|pwd|pw|secret|token)$/;
const NOT_SECRET_GLUED = new Set(['bypass', 'compass', 'overpass', 'surpass', 'trespass']);
/** Words that name a secret only as the last word of a key: ssl_key, api_key, smtp_auth. */
const LAST_WORD_SECRETS = new Set(['key', 'auth', 'private']);
/** A key ending in one of these describes a secret's handling, or points at it: not the secret. */
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
    'env hint quality strength check checks store name url uri endpoint label description'
  ).split(' '),
);

export function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/**
 * Whether a key names a secret. `strict` is for forms where a weak word would be read too often
 * where it means something else (a `key value` line, a bare `name=value` argument): there `auth`
 * and `private` never count, and `key` only as the end of a longer name (api_key, not key).
 */
export function isSecretKey(key: string, strict = false): boolean {
  const parts = keyWords(key);
  const last = parts.at(-1);
  if (last === undefined || DESCRIPTIVE.has(last)) return false;
  if (LAST_WORD_SECRETS.has(last) && (!strict || (last === 'key' && parts.length > 1))) return true;
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
    // A path, a Dovecot </path, a map or scheme pointing at a path (hash:/etc/..., file:///...).
    /^(\/|<|~\/|\.\.?\/)/.test(v) ||
    /^([a-z][a-z0-9_+-]*:)+[/~.]/i.test(v) ||
    // A variable or placeholder standing for the value: ${DB_PASSWORD}, $PASS, %{password}, %p,
    // {{ vault_password }}.
    /^(\$\{\w+\}|\$[A-Z_][A-Z0-9_]*|%\{[^}]*\}|%[A-Za-z]{1,2}|\{\{[^{}]*\}\})$/.test(v)
  );
}
