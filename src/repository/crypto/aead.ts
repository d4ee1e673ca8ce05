import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Authenticated encryption of every repository file and object: AES-256-GCM with a random
 * 96-bit nonce per message. Sealed form: nonce (12) | ciphertext | tag (16).
 * Random nonces are safe up to about 2^32 messages per key, far beyond a repository's object count.
 */
export const NONCE_LENGTH = 12;
export const TAG_LENGTH = 16;
export const SEAL_OVERHEAD = NONCE_LENGTH + TAG_LENGTH;

export class AuthenticationError extends Error {
  constructor(what: string) {
    super(`${what} failed authentication: it is damaged, or the key is wrong`);
    this.name = 'AuthenticationError';
  }
}

export function seal(key: Uint8Array, plaintext: Uint8Array | Uint8Array[]): Buffer {
  const nonce = randomBytes(NONCE_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const parts = [nonce];
  for (const piece of Array.isArray(plaintext) ? plaintext : [plaintext])
    parts.push(cipher.update(piece));
  parts.push(cipher.final(), cipher.getAuthTag());
  return Buffer.concat(parts);
}

export function open(key: Uint8Array, sealed: Uint8Array, what = 'data'): Buffer {
  if (sealed.length < SEAL_OVERHEAD) throw new AuthenticationError(what);
  const nonce = sealed.subarray(0, NONCE_LENGTH);
  const tag = sealed.subarray(sealed.length - TAG_LENGTH);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAuthTag(tag);
  const body = decipher.update(sealed.subarray(NONCE_LENGTH, sealed.length - TAG_LENGTH));
  try {
    return Buffer.concat([body, decipher.final()]);
  } catch {
    throw new AuthenticationError(what);
  }
}
