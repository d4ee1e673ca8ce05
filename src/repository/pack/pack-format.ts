import { SEAL_OVERHEAD, kindLabel, open, seal } from '../crypto/aead.js';

/**
 * A pack is one file holding many sealed objects, followed by a sealed header that lists them
 * and the header's length:
 *
 *   pack   := object* header header_length(u32 LE)
 *   object := nonce(12) ciphertext tag(16)         plaintext: encoding(u8) payload
 *   header := nonce(12) ciphertext tag(16)         plaintext: "MVPK" version(u8 = 1) count(u32 LE) entry*
 *   entry  := type(u8) length(u32 LE) raw_length(u32 LE) id(32)
 *
 * Objects follow each other in header order, so offsets are implied. The header lets the
 * index be rebuilt from the packs alone. A pack's name is the SHA-256 of its bytes.
 */
export type ObjectType = 'data' | 'tree';

export const OBJECT_TYPES: readonly ObjectType[] = ['data', 'tree'];
const TYPE_CODES: Record<ObjectType, number> = { data: 0, tree: 1 };

export interface PackEntry {
  type: ObjectType;
  id: Buffer;
  /** Offset of the sealed object in the pack. */
  offset: number;
  /** Length of the sealed object. */
  length: number;
  /** Length of the object's plaintext before compression. */
  rawLength: number;
}

const MAGIC = Buffer.from('MVPK', 'latin1');
const VERSION = 1;
const ENTRY_LENGTH = 1 + 4 + 4 + 32;
/** The header's plaintext before its entries: magic, version, count. */
const HEADER_START = MAGIC.length + 1 + 4;

/**
 * The size of a pack holding `count` objects whose sealed lengths add up to `objectBytes`: the
 * objects, the sealed header listing them, and the header's length.
 */
export function packSizeOf(count: number, objectBytes: number): number {
  return objectBytes + SEAL_OVERHEAD + HEADER_START + count * ENTRY_LENGTH + 4;
}

export function typeCode(type: ObjectType): number {
  return TYPE_CODES[type];
}

export function typeFromCode(code: number): ObjectType {
  const type = OBJECT_TYPES[code];
  if (!type) throw new Error(`unknown object type ${code}`);
  return type;
}

export function encodePackHeader(key: Uint8Array, entries: readonly PackEntry[]): Buffer {
  const plain = Buffer.alloc(MAGIC.length + 1 + 4 + entries.length * ENTRY_LENGTH);
  MAGIC.copy(plain, 0);
  plain[4] = VERSION;
  plain.writeUInt32LE(entries.length, 5);
  let at = 9;
  for (const entry of entries) {
    plain[at] = typeCode(entry.type);
    plain.writeUInt32LE(entry.length, at + 1);
    plain.writeUInt32LE(entry.rawLength, at + 5);
    entry.id.copy(plain, at + 9);
    at += ENTRY_LENGTH;
  }
  const sealed = seal(key, plain, kindLabel('pack header'));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(sealed.length, 0);
  return Buffer.concat([sealed, length]);
}

/** Parses the header from the tail of a pack (the whole pack, or enough of its end). */
export function decodePackHeader(
  key: Uint8Array,
  packTail: Buffer,
  packSize: number,
  packName: string,
): PackEntry[] {
  if (packTail.length < 4) throw new Error(`pack ${packName} is too short`);
  const headerLength = packTail.readUInt32LE(packTail.length - 4);
  if (headerLength + 4 > packTail.length) throw new HeaderOutOfReachError(headerLength + 4);
  const sealed = packTail.subarray(packTail.length - 4 - headerLength, packTail.length - 4);
  const plain = open(key, sealed, kindLabel('pack header'), `header of pack ${packName}`);
  if (!plain.subarray(0, 4).equals(MAGIC)) throw new Error(`pack ${packName}: bad header magic`);
  if (plain[4] !== VERSION)
    throw new Error(`pack ${packName}: unsupported pack version ${String(plain[4])}`);
  const count = plain.readUInt32LE(5);
  if (plain.length !== 9 + count * ENTRY_LENGTH)
    throw new Error(`pack ${packName}: header length mismatch`);
  const entries: PackEntry[] = [];
  let offset = 0;
  for (let i = 0, at = 9; i < count; i++, at += ENTRY_LENGTH) {
    const length = plain.readUInt32LE(at + 1);
    entries.push({
      type: typeFromCode(plain[at] ?? 255),
      length,
      rawLength: plain.readUInt32LE(at + 5),
      id: Buffer.from(plain.subarray(at + 9, at + 41)),
      offset,
    });
    offset += length;
  }
  if (offset + headerLength + 4 !== packSize)
    throw new Error(`pack ${packName}: objects and header do not add up to its size`);
  return entries;
}

/** The header is longer than the tail that was read; read this many bytes from the end instead. */
export class HeaderOutOfReachError extends Error {
  constructor(readonly needed: number) {
    super(`pack header needs ${needed} bytes`);
  }
}
