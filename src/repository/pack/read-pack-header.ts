import type { Storage } from '../../storage/storage.js';
import { decodePackHeader, type PackEntry } from './pack-format.js';

/** Bytes read from a pack's end at first: enough for the header of most packs, in one request. */
const FIRST_TAIL = 64 * 1024;

/**
 * A pack's header (format section 7.2), authenticated and checked against the pack's size: the
 * last 4 bytes give the header's length, the bytes before them the sealed header. One request
 * for most packs, two when the header is longer than the first read.
 */
export async function readPackHeader(
  storage: Storage,
  encryptionKey: Uint8Array,
  pack: string,
  size: number,
): Promise<PackEntry[]> {
  const tailLength = Math.min(size, FIRST_TAIL);
  let tail = await storage.load(
    { kind: 'data', name: pack },
    { offset: size - tailLength, length: tailLength },
  );
  if (tail.length < 4) throw new Error(`pack ${pack} is too short to hold a header`);
  const headerLength = tail.readUInt32LE(tail.length - 4) + 4;
  if (headerLength > tail.length && headerLength <= size) {
    tail = await storage.load(
      { kind: 'data', name: pack },
      { offset: size - headerLength, length: headerLength },
    );
  }
  return decodePackHeader(encryptionKey, tail, size, pack);
}
