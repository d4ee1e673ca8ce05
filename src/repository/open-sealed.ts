import { open } from './crypto/aead.js';
import { decodePayload } from './payload.js';

/**
 * An object's plaintext from its sealed bytes, given the encryption key and its id (a pure
 * function, so worker threads can open objects the main thread read from packs).
 */
export function openSealedObject(key: Uint8Array, id: Uint8Array, sealed: Uint8Array): Buffer {
  const what = `object ${Buffer.from(id).toString('hex')}`;
  return decodePayload(open(key, sealed, id, what), what);
}
