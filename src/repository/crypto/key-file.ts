import { createHash, randomBytes, scrypt as scryptCallback, type ScryptOptions } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { promisify } from 'node:util';
import { AuthenticationError, kindLabel, open, seal } from './aead.js';
import { decodeMasterKey, encodeMasterKey, type MasterKey } from './master-key.js';

const scrypt = promisify(scryptCallback) as (
  password: string,
  salt: Uint8Array,
  length: number,
  options: ScryptOptions,
) => Promise<Buffer>;

/**
 * A key file wraps the master key with a key derived from one passphrase (scrypt). A repository
 * may hold several key files, one per passphrase; each is named by the SHA-256 of its bytes.
 */
export interface KeyFile {
  version: 1;
  created: string;
  hostname: string;
  username: string;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  /** The master key sealed with the derived key (base64). */
  data: string;
}

/** log2 of scrypt's N; 17 costs about 0.4 s and 128 MiB on a current machine. */
export const DEFAULT_SCRYPT_COST = 17;

export class WrongPassphraseError extends Error {
  constructor(
    readonly location = '',
    readonly unreadable: string[] = [],
  ) {
    super(
      `wrong passphrase${location ? ` for the repository at ${location}` : ''}: no key file opens with it` +
        (unreadable.length > 0 ? ` (and some could not be read: ${unreadable.join('; ')})` : ''),
    );
    this.name = 'WrongPassphraseError';
  }
}

async function deriveKey(passphrase: string, kdf: KeyFile['kdf']): Promise<Buffer> {
  return scrypt(passphrase.normalize('NFC'), Buffer.from(kdf.salt, 'base64'), 32, {
    N: kdf.N,
    r: kdf.r,
    p: kdf.p,
    maxmem: 256 * kdf.N * kdf.r + 16 * 1024 * 1024,
  });
}

export async function createKeyFile(
  master: MasterKey,
  passphrase: string,
  cost = DEFAULT_SCRYPT_COST,
): Promise<{ name: string; bytes: Buffer }> {
  if (!Number.isInteger(cost) || cost < 10 || cost > 22)
    throw new Error('scrypt cost must be between 10 and 22');
  const kdf = {
    name: 'scrypt' as const,
    N: 2 ** cost,
    r: 8,
    p: 1,
    salt: randomBytes(32).toString('base64'),
  };
  const derived = await deriveKey(passphrase, kdf);
  const file: KeyFile = {
    version: 1,
    created: new Date().toISOString(),
    hostname: hostname(),
    username: safeUsername(),
    kdf,
    data: seal(derived, encodeMasterKey(master), kindLabel('key')).toString('base64'),
  };
  const bytes = Buffer.from(JSON.stringify(file, null, 2) + '\n');
  return { name: createHash('sha256').update(bytes).digest('hex'), bytes };
}

export function parseKeyFile(bytes: Uint8Array, name: string): KeyFile {
  let parsed: KeyFile;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) as KeyFile;
  } catch {
    throw new Error(`key file ${name} is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null)
    throw new Error(`key file ${name} is not a key file`);
  if (parsed.version !== 1)
    throw new Error(`key file ${name} has unsupported version ${String(parsed.version)}`);
  const kdf = parsed.kdf as Partial<KeyFile['kdf']> | undefined;
  if (kdf?.name !== 'scrypt') throw new Error(`key file ${name} uses an unknown key derivation`);
  const powerOfTwo = typeof kdf.N === 'number' && Number.isInteger(Math.log2(kdf.N));
  if (
    !powerOfTwo ||
    (kdf.N ?? 0) < 2 ** 10 ||
    (kdf.N ?? 0) > 2 ** 22 ||
    !isSmall(kdf.r) ||
    !isSmall(kdf.p)
  ) {
    throw new Error(`key file ${name} has invalid scrypt parameters`);
  }
  if (!isBase64(kdf.salt) || !isBase64(parsed.data))
    throw new Error(`key file ${name} lacks its salt or its data`);
  return parsed;
}

/** Returns the master key, or throws WrongPassphraseError. */
export async function unlockKeyFile(file: KeyFile, passphrase: string): Promise<MasterKey> {
  const derived = await deriveKey(passphrase, file.kdf);
  try {
    return decodeMasterKey(
      open(derived, Buffer.from(file.data, 'base64'), kindLabel('key'), 'key file'),
    );
  } catch (error) {
    if (error instanceof AuthenticationError) throw new WrongPassphraseError();
    throw error;
  }
}

function safeUsername(): string {
  try {
    return userInfo().username;
  } catch {
    return '';
  }
}

function isSmall(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 64;
}

function isBase64(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(value);
}
