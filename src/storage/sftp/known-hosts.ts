// OpenSSH's known_hosts file, read the way ssh reads it (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"),
// so the file a person already keeps for ssh is the one this backend trusts.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { DEFAULT_SFTP_PORT } from './sftp-url.js';

/** Which names one line applies to: a hashed name, or a list of patterns. */
type HostMatcher =
  { kind: 'hashed'; salt: Buffer; hash: Buffer } | { kind: 'patterns'; patterns: string[] };

export interface KnownHostEntry {
  /** `@revoked` refuses the key everywhere it matches; `@cert-authority` lines are not used. */
  marker: 'revoked' | 'cert-authority' | undefined;
  hosts: HostMatcher;
  keyType: string;
  /** The public key blob, as the server sends it. */
  key: Buffer;
  /** 1-based, for messages. */
  line: number;
}

export type HostKeyVerdict =
  | { status: 'known' }
  | { status: 'unknown' }
  /** The host is known with other keys: someone may be impersonating it. */
  | { status: 'mismatch'; lines: number[] }
  | { status: 'revoked'; line: number };

/** Reads every usable line; comments, blank and malformed lines are passed over as ssh does. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const entry = parseLine(raw, index + 1);
    if (entry) entries.push(entry);
  }
  return entries;
}

function parseLine(raw: string, line: number): KnownHostEntry | undefined {
  const fields = raw.trim().split(/[ \t]+/);
  if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) return undefined;
  let marker: KnownHostEntry['marker'];
  if (fields[0].startsWith('@')) {
    const name = fields.shift();
    if (name === '@revoked') marker = 'revoked';
    else if (name === '@cert-authority') marker = 'cert-authority';
    else return undefined;
  }
  const [hostField, keyType, keyText] = fields;
  if (hostField === undefined || keyType === undefined || keyText === undefined) return undefined;
  const hosts = parseHosts(hostField);
  const key = Buffer.from(keyText, 'base64');
  // A key blob starts with its own type; anything else is a damaged line.
  if (hosts === undefined || keyTypeOf(key) !== keyType) return undefined;
  return { marker, hosts, keyType, key, line };
}

function parseHosts(field: string): HostMatcher | undefined {
  const hashed = /^\|1\|([^|]+)\|([^|]+)$/.exec(field);
  if (hashed) {
    const salt = Buffer.from(hashed[1] ?? '', 'base64');
    const hash = Buffer.from(hashed[2] ?? '', 'base64');
    // HMAC-SHA1 with a salt as long as its output, as ssh-keygen -H writes them.
    if (salt.length !== 20 || hash.length !== 20) return undefined;
    return { kind: 'hashed', salt, hash };
  }
  if (field.startsWith('|')) return undefined;
  return { kind: 'patterns', patterns: field.split(',').filter((pattern) => pattern !== '') };
}

/** The type a key blob names in its first field ('' if it is not a key blob). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return '';
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || blob.length < 4 + length) return '';
  return blob.subarray(4, 4 + length).toString('latin1');
}

/** How ssh names a host in known_hosts: `host` on port 22, `[host]:port` elsewhere. */
export function knownHostsName(host: string, port: number): string {
  const name = host.toLowerCase();
  return port === DEFAULT_SFTP_PORT ? name : `[${name}]:${port}`;
}

/** The fingerprint ssh prints for a key (`ssh-keygen -l`): SHA256, base64 without padding. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The known_hosts line that makes this key the host's. */
export function knownHostsLine(host: string, port: number, blob: Buffer): string {
  return `${knownHostsName(host, port)} ${keyTypeOf(blob)} ${blob.toString('base64')}`;
}

function matches(entry: KnownHostEntry, name: string): boolean {
  if (entry.hosts.kind === 'hashed') {
    const hash = createHmac('sha1', entry.hosts.salt).update(name).digest();
    return timingSafeEqual(hash, entry.hosts.hash);
  }
  return matchesPatternList(entry.hosts.patterns, name);
}

/** ssh's pattern lists: any positive pattern must match, and no negated (`!`) one may. */
function matchesPatternList(patterns: string[], name: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    if (!globMatches(negated ? pattern.slice(1) : pattern, name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** `*` any run of characters, `?` one character, case-insensitive, nothing else special. */
function globMatches(pattern: string, name: string): boolean {
  const source = pattern
    .toLowerCase()
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(name.toLowerCase());
}

/** The entries that speak of this host (certificate authorities aside). */
function entriesFor(entries: KnownHostEntry[], host: string, port: number): KnownHostEntry[] {
  const name = knownHostsName(host, port);
  return entries.filter((entry) => entry.marker !== 'cert-authority' && matches(entry, name));
}

/**
 * What the file says of the key a server presented. A host recorded only with keys of other
 * types counts as a mismatch, not as unknown: the connection asks for the recorded types
 * first (see `knownKeyTypes`), so a server that answers with another no longer has its key.
 */
export function checkHostKey(
  entries: KnownHostEntry[],
  host: string,
  port: number,
  key: Buffer,
): HostKeyVerdict {
  const relevant = entriesFor(entries, host, port);
  const revoked = relevant.find((entry) => entry.marker === 'revoked' && entry.key.equals(key));
  if (revoked) return { status: 'revoked', line: revoked.line };
  const recorded = relevant.filter((entry) => entry.marker === undefined);
  if (recorded.some((entry) => entry.key.equals(key))) return { status: 'known' };
  if (recorded.length > 0)
    return { status: 'mismatch', lines: recorded.map((entry) => entry.line) };
  return { status: 'unknown' };
}

/** The key types the file records for this host, so the connection can ask for those first. */
export function knownKeyTypes(entries: KnownHostEntry[], host: string, port: number): string[] {
  const types = entriesFor(entries, host, port)
    .filter((entry) => entry.marker === undefined)
    .map((entry) => entry.keyType);
  return [...new Set(types)];
}
