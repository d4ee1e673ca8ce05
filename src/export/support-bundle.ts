import { basename } from 'node:path';
import type { FileRecord, FilesRoot, TreeEntry } from '../filesets/file-tree.js';
import { walkStoredTree } from '../filesets/stored-tree.js';
import type { Repository } from '../repository/repository.js';
import { readStreamBytes } from '../repository/stream-store.js';
import {
  beginOutput,
  checkOutput,
  commitOutput,
  discardOutput,
  OutputError,
} from './output-place.js';
import { ZipSink } from './zip-sink.js';

/*
 * A support bundle: the configuration files of file sets at a date, as a .zip to attach to a bug
 * report, with secrets taken out by rule:
 *
 * - files left out whole: private keys by name (*.key, id_rsa, ssh_host_*_key, *.p12...) and by
 *   content (any "-----BEGIN ... PRIVATE KEY-----" block, PuTTY key files), files holding nothing
 *   but a secret by name (*.pass, *.secret, *.token...), binary files (they cannot be checked:
 *   a Postfix sasl_passwd.db holds passwords), and files over 8 MiB;
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

export const REDACTED = '<redacted>';
const MAX_TEXT_BYTES = 8 * 1024 * 1024;

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

/** Text as it was encoded: UTF-8 when valid, else Latin-1 (every byte kept). */
function decode(bytes: Buffer): { text: string; encoding: 'utf8' | 'latin1' } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'utf8' };
  } catch {
    return { text: bytes.toString('latin1'), encoding: 'latin1' };
  }
}

export interface BundleSet {
  name: string;
  snapshot: string;
  time: Date;
  root: FilesRoot;
}

export interface SupportBundleOutcome {
  output: string;
  sets: Array<{ name: string; snapshot: string; time: string }>;
  /** Files in the bundle (redacted or not). */
  files: number;
  redacted: Array<{ path: string; redactions: Redaction[] }>;
  leftOut: Array<{ path: string; reason: string }>;
}

/** Checks the output before anything is read: a .zip name, and no existing file unless `force`. */
export async function checkBundleOutput(output: string, force: boolean): Promise<void> {
  if (!/\.zip$/i.test(output)) throw new OutputError(`--output ${output}: name a .zip file`);
  await checkOutput(output, 'file', force);
}

const mtimeOf = (entry: TreeEntry): Date => new Date(Number(BigInt(entry.mtime) / 1_000_000n));

function modeString(entry: TreeEntry): string {
  const type = entry.type === 'dir' ? 'd' : entry.type === 'symlink' ? 'l' : '-';
  const bit = (mask: number, char: string): string => (entry.mode & mask ? char : '-');
  const exec = (x: number, special: number, set: string, unset: string): string =>
    entry.mode & special ? (entry.mode & x ? set : unset) : bit(x, 'x');
  return (
    type +
    bit(0o400, 'r') +
    bit(0o200, 'w') +
    exec(0o100, 0o4000, 's', 'S') +
    bit(0o040, 'r') +
    bit(0o020, 'w') +
    exec(0o010, 0o2000, 's', 'S') +
    bit(0o004, 'r') +
    bit(0o002, 'w') +
    exec(0o001, 0o1000, 't', 'T')
  );
}

/** A path as the manifest shows it: quoted when it holds control characters or spaces at its ends. */
const shown = (path: string): string =>
  /\p{Cc}|^\s|\s$/u.test(path) ? JSON.stringify(path) : path;

/**
 * Writes the bundle: each set's files below a folder named for the set, keeping their absolute
 * paths, redacted; MANIFEST.txt with every entry (mode, owner, size, mtime, link target), what was
 * redacted where and what was left out and why. Written under a temporary name and renamed once
 * complete: never half a bundle.
 */
export async function writeSupportBundle(options: {
  repository: Repository;
  sets: readonly BundleSet[];
  output: string;
  force: boolean;
  program: string;
}): Promise<SupportBundleOutcome> {
  await checkBundleOutput(options.output, options.force);
  const place = await beginOutput(options.output, 'file');
  const outcome: SupportBundleOutcome = {
    output: place.final,
    sets: options.sets.map((set) => ({
      name: set.name,
      snapshot: set.snapshot,
      time: set.time.toISOString(),
    })),
    files: 0,
    redacted: [],
    leftOut: [],
  };
  const listing: string[] = [];
  const zip = new ZipSink(place.temporary);
  try {
    for (const set of options.sets) {
      listing.push(
        '',
        `${set.name} (snapshot ${set.snapshot.slice(0, 12)} of ${set.time.toISOString()})`,
      );
      for await (const event of walkStoredTree(options.repository, set.root)) {
        if (event.type === 'leave') continue;
        if (event.type === 'unreadable') {
          outcome.leftOut.push({
            path: `${set.name}${event.path}`,
            reason: `its stored listing cannot be read: ${event.error.message}`,
          });
          continue;
        }
        const { entry, path } = event;
        if (event.type === 'enter' && event.entry.partial) continue;
        const owner = `${entry.user ?? entry.uid}:${entry.group ?? entry.gid}`;
        const size = entry.type === 'file' ? String(entry.size) : '-';
        const link = entry.type === 'symlink' ? ` -> ${shown(entry.target)}` : '';
        listing.push(
          `  ${modeString(entry)} ${owner} ${size} ${mtimeOf(entry).toISOString()} ${shown(path)}${link}`,
        );
        if (entry.type === 'file') await addFile(set.name, path, entry);
      }
    }
    await zip.add('MANIFEST.txt', Buffer.from(manifest(options, outcome, listing)), new Date());
    await zip.close();
    await commitOutput(place);
    return outcome;
  } catch (error) {
    await zip.abort();
    await discardOutput(place);
    throw error;
  }

  async function addFile(set: string, path: string, entry: FileRecord): Promise<void> {
    const name = `${set}${path}`;
    const leave = (reason: string): void => {
      outcome.leftOut.push({ path: name, reason });
    };
    if (path.includes('\\'))
      return leave('its name holds a backslash, which zip readers take for a separator');
    if (entry.size > MAX_TEXT_BYTES) return leave('larger than 8 MiB');
    const bytes = await readStreamBytes(options.repository, entry, MAX_TEXT_BYTES);
    const reason = leftOutReason(path, bytes);
    if (reason) return leave(reason);
    const { text, encoding } = decode(bytes);
    const redacted = redactText(path, text);
    if (redacted.redactions.length > 0)
      outcome.redacted.push({ path: name, redactions: redacted.redactions });
    await zip.add(name, Buffer.from(redacted.text, encoding), mtimeOf(entry));
    outcome.files++;
  }
}

function manifest(
  options: { sets: readonly BundleSet[]; program: string },
  outcome: SupportBundleOutcome,
  listing: readonly string[],
): string {
  const lines = [
    'mailvault support bundle',
    `written ${new Date().toISOString()} by ${options.program}`,
    '',
    'The configuration files of the file sets below, as backed up, with secrets redacted by rule:',
    'private keys, secret files and binary files are left out, and the values of keys that name a',
    'secret (password, pass, secret, token, key...), passwords in URLs and password hashes are',
    `replaced by ${REDACTED}. Redaction works by rules: read the files before you share them.`,
    '',
    'FILE SETS',
    ...options.sets.map(
      (set) =>
        `  ${set.name}: snapshot ${set.snapshot} of ${set.time.toISOString()}; include ${set.root.include.join(', ')}${set.root.exclude.length > 0 ? `; exclude ${set.root.exclude.join(', ')}` : ''}`,
    ),
    '',
    `REDACTED (${outcome.redacted.length} file${outcome.redacted.length === 1 ? '' : 's'})`,
    ...outcome.redacted.map(
      (file) =>
        `  ${shown(file.path)}: ${file.redactions.map((r) => `line ${r.line} (${r.what})`).join(', ')}`,
    ),
    '',
    `LEFT OUT (${outcome.leftOut.length})`,
    ...outcome.leftOut.map((file) => `  ${shown(file.path)}: ${file.reason}`),
    '',
    'ENTRIES (mode, owner:group, size, mtime, path)',
    ...listing,
    '',
  ];
  return lines.join('\n');
}
