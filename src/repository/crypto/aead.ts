import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * Authenticated encryption of every repository file and object.
 *
 * Sealed form: nonce (24) | ciphertext | tag (16). The first 12 bytes of the nonce select a
 * one-time key, HMAC-SHA-256(key, nonce[0..12]); the last 12 are the AES-256-GCM nonce under it.
 * A single key with random 96-bit nonces is only safe for about 2^32 messages; deriving a key per
 * message removes that ceiling, which a repository growing for years could otherwise reach.
 *
 * The associated data binds each sealed item to what it is (an object to its id, a file to its
 * kind), so an item moved to another place fails authentication instead of being misread.
 */
export const NONCE_LENGTH = 24;
const KEY_SELECTOR_LENGTH = 12;
export const TAG_LENGTH = 16;
export const SEAL_OVERHEAD = NONCE_LENGTH + TAG_LENGTH;

export class AuthenticationError extends Error {
  constructor(what: string) {
    super(`${what} failed authentication: it is damaged, or the key is wrong`);
    this.name = 'AuthenticationError';
  }
}

function messageKey(key: Uint8Array, nonce: Uint8Array): Buffer {
  return createHmac('sha256', key).update(nonce.subarray(0, KEY_SELECTOR_LENGTH)).digest();
}

export function seal(
  key: Uint8Array,
  plaintext: Uint8Array | Uint8Array[],
  associated: Uint8Array,
): Buffer {
  const nonce = randomBytes(NONCE_LENGTH);
  const cipher = createCipheriv(
    'aes-256-gcm',
    messageKey(key, nonce),
    nonce.subarray(KEY_SELECTOR_LENGTH),
  );
  cipher.setAAD(associated);
  const parts = [nonce];
  for (const piece of Array.isArray(plaintext) ? plaintext : [plaintext])
    parts.push(cipher.update(piece));
  parts.push(cipher.final(), cipher.getAuthTag());
  return Buffer.concat(parts);
}

export function open(
  key: Uint8Array,
  sealed: Uint8Array,
  associated: Uint8Array,
  what = 'data',
): Buffer {
  if (sealed.length < SEAL_OVERHEAD) throw new AuthenticationError(what);
  const nonce = sealed.subarray(0, NONCE_LENGTH);
  const decipher = createDecipheriv(
    'aes-256-gcm',
    messageKey(key, nonce),
    nonce.subarray(KEY_SELECTOR_LENGTH),
  );
  decipher.setAAD(associated);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
  const body = decipher.update(sealed.subarray(NONCE_LENGTH, sealed.length - TAG_LENGTH));
  try {
    const rest = decipher.final();
    return rest.length === 0 ? body : Buffer.concat([body, rest]);
  } catch {
    throw new AuthenticationError(what);
  }
}

/** Associated data of a sealed file or header: its kind, so one kind never passes for another. */
export function kindLabel(
  kind: 'key' | 'pack header' | 'index' | 'snapshot' | 'run' | 'condemned',
): Buffer {
  return Buffer.from(`mailvault ${kind}`, 'latin1');
}
