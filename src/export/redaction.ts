/*
 * How a support bundle takes secrets out of configuration files, by rule:
 *
 * - files left out whole: private keys by name (*.key, id_rsa, ssh_host_*_key, *.p12...) and by
 *   content (any "-----BEGIN ... PRIVATE KEY-----" block, PGP private key blocks, PuTTY key
 *   files), files holding nothing but a secret by name (*.pass, *.secret, *.token, .netrc,
 *   .pgpass...), and binary files (they cannot be checked: a Postfix sasl_passwd.db holds
 *   passwords);
 * - in text files, secrets replaced by <redacted>, found by the key that names them and by the
 *   shape of the value, in every form configuration files take (the rules are in redaction/):
 *   key lines (`key = value`, `key: value`, `key value`, `$cfg['key'] = value`, YAML block
 *   scalars), pairs anywhere in a line (one-line and nested JSON, PHP arrays, XML attributes,
 *   `name=value` arguments and connect strings, `Password=x;` connection strings), XML elements
 *   (`<password>x</password>`, `<add key="SmtpPassword" value="x"/>`), URLs (user:password@,
 *   `?token=`), command lines (`mysql -px`, `ldapsearch -w x`, `curl -u user:x`, `--password=x`),
 *   HTTP credentials (`Authorization: Bearer x`, nginx's `proxy_set_header`), database calls
 *   (`DBI->connect($dsn, $user, 'x')`), password hashes and the passwords of passwd- and
 *   sasl_passwd-style files, and tokens of published shapes (AWS, GitHub, Slack, JWT...).
 *
 * Not redacted, on purpose, because they are what a supporter needs and reveal no secret: keys
 * that describe how secrets are handled (password_scheme = SHA512-CRYPT, auth_mechanisms, *_file,
 * *_path, *_maps, *_length...), and values that only point at secrets (a path, </path,
 * hash:/etc/postfix/sasl_passwd, ${VARIABLE}, %{variables}, yes/no). The private key files such
 * values point to are left out by the rules above.
 */
import { basename } from 'node:path';

export { redactText } from './redaction/redact-text.js';
export { isHarmlessValue, isSecretKey, REDACTED } from './redaction/secret-keys.js';
export type { Redaction } from './redaction/spans.js';

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
