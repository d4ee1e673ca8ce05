import { kindLabel, open, seal } from './crypto/aead.js';
import { decodePayload, encodePayload } from './payload.js';

export type SealedFileKind = 'index' | 'snapshot' | 'run' | 'condemned';

/** Index, snapshot and run files: an encoded payload, sealed with the repository key and its kind. */
export function sealFile(key: Uint8Array, kind: SealedFileKind, data: Uint8Array): Buffer {
  return seal(key, encodePayload(data), kindLabel(kind));
}

export function openFile(
  key: Uint8Array,
  kind: SealedFileKind,
  sealed: Uint8Array,
  what: string,
): Buffer {
  return decodePayload(open(key, sealed, kindLabel(kind), what), what);
}
