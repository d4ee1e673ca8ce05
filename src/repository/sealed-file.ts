import { open, seal } from './crypto/aead.js';
import { decodePayload, encodePayload } from './payload.js';

/** Index and snapshot files: an encoded payload, sealed with the repository key. */
export function sealFile(key: Uint8Array, data: Uint8Array): Buffer {
  return seal(key, encodePayload(data));
}

export function openFile(key: Uint8Array, sealed: Uint8Array, what: string): Buffer {
  return decodePayload(open(key, sealed, what), what);
}
