import { typeCode, typeFromCode, type PackEntry } from '../pack/pack-format.js';

/**
 * An index file lists, for some packs, every object they hold and where. Its plaintext:
 *
 *   "MVIX" version(u8 = 1) superseded_count(u32 LE) superseded_index_id(32)*
 *   pack_count(u32 LE) pack*
 *   pack  := pack_id(32) entry_count(u32 LE) entry*
 *   entry := type(u8) offset(u32 LE) length(u32 LE) raw_length(u32 LE) id(32)
 *
 * `superseded` names index files this one replaces (written by a future compaction); a reader
 * ignores superseded files. The file is stored as a sealed, compressed payload.
 */
export interface IndexedPack {
  /** Hex name of the pack. */
  id: string;
  entries: PackEntry[];
}

export interface IndexContent {
  superseded: string[];
  packs: IndexedPack[];
}

const MAGIC = Buffer.from('MVIX', 'latin1');
const VERSION = 1;
const ENTRY_LENGTH = 1 + 4 + 4 + 4 + 32;

export function encodeIndex(content: IndexContent): Buffer {
  let size = 4 + 1 + 4 + content.superseded.length * 32 + 4;
  for (const pack of content.packs) size += 32 + 4 + pack.entries.length * ENTRY_LENGTH;
  const out = Buffer.alloc(size);
  MAGIC.copy(out, 0);
  out[4] = VERSION;
  let at = 5;
  out.writeUInt32LE(content.superseded.length, at);
  at += 4;
  for (const id of content.superseded) at += hexInto(out, at, id);
  out.writeUInt32LE(content.packs.length, at);
  at += 4;
  for (const pack of content.packs) {
    at += hexInto(out, at, pack.id);
    out.writeUInt32LE(pack.entries.length, at);
    at += 4;
    for (const entry of pack.entries) {
      out[at] = typeCode(entry.type);
      out.writeUInt32LE(entry.offset, at + 1);
      out.writeUInt32LE(entry.length, at + 5);
      out.writeUInt32LE(entry.rawLength, at + 9);
      entry.id.copy(out, at + 13);
      at += ENTRY_LENGTH;
    }
  }
  return out;
}

export function decodeIndex(bytes: Buffer, name: string): IndexContent {
  const fail = (why: string): never => {
    throw new Error(`index ${name}: ${why}`);
  };
  if (bytes.length < 13 || !bytes.subarray(0, 4).equals(MAGIC)) fail('not an index file');
  if (bytes[4] !== VERSION) fail(`unsupported index version ${String(bytes[4])}`);
  let at = 5;
  const need = (n: number): void => {
    if (at + n > bytes.length) fail('truncated');
  };
  need(4);
  const supersededCount = bytes.readUInt32LE(at);
  at += 4;
  const superseded: string[] = [];
  for (let i = 0; i < supersededCount; i++) {
    need(32);
    superseded.push(bytes.toString('hex', at, at + 32));
    at += 32;
  }
  need(4);
  const packCount = bytes.readUInt32LE(at);
  at += 4;
  const packs: IndexedPack[] = [];
  for (let p = 0; p < packCount; p++) {
    need(36);
    const id = bytes.toString('hex', at, at + 32);
    const count = bytes.readUInt32LE(at + 32);
    at += 36;
    need(count * ENTRY_LENGTH);
    const entries: PackEntry[] = [];
    for (let i = 0; i < count; i++, at += ENTRY_LENGTH) {
      entries.push({
        type: typeFromCode(bytes[at] ?? 255),
        offset: bytes.readUInt32LE(at + 1),
        length: bytes.readUInt32LE(at + 5),
        rawLength: bytes.readUInt32LE(at + 9),
        id: Buffer.from(bytes.subarray(at + 13, at + 45)),
      });
    }
    packs.push({ id, entries });
  }
  if (at !== bytes.length) fail('trailing bytes');
  return { superseded, packs };
}

function hexInto(out: Buffer, at: number, hex: string): number {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`not a 32-byte hex id: ${hex}`);
  out.write(hex, at, 'hex');
  return 32;
}
