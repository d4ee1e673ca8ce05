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
  const superseded: string[] = [];
  const packs: IndexedPack[] = [];
  visitIndex(bytes, name, {
    superseded: (id) => superseded.push(id),
    pack: (id) => packs.push({ id, entries: [] }),
    entry: (_pack, entry) => packs.at(-1)?.entries.push({ ...entry, id: Buffer.from(entry.id) }),
  });
  return { superseded, packs };
}

export interface IndexVisitor {
  superseded(id: string): void;
  pack(id: string, count: number): void;
  /** One object; `entry.id` is a view of the file's bytes: copy it to keep it. */
  entry(pack: string, entry: PackEntry): void;
}

/**
 * Reads an index file entry by entry, holding nothing: loading the index of a repository of
 * tens of millions of objects must not hold a large file's entries as objects first. The whole
 * file is checked for structure before the first entry is given, so a truncated or malformed
 * file is refused before anything of it is used.
 */
export function visitIndex(bytes: Buffer, name: string, visitor: IndexVisitor): void {
  const packsAt = checkStructure(bytes, name);
  let at = 5;
  const supersededCount = bytes.readUInt32LE(at);
  at += 4;
  for (let i = 0; i < supersededCount; i++, at += 32)
    visitor.superseded(bytes.toString('hex', at, at + 32));
  at = packsAt;
  const packCount = bytes.readUInt32LE(at);
  at += 4;
  for (let p = 0; p < packCount; p++) {
    const id = bytes.toString('hex', at, at + 32);
    const count = bytes.readUInt32LE(at + 32);
    at += 36;
    visitor.pack(id, count);
    for (let i = 0; i < count; i++, at += ENTRY_LENGTH) {
      visitor.entry(id, {
        type: typeFromCode(bytes[at] ?? 255),
        offset: bytes.readUInt32LE(at + 1),
        length: bytes.readUInt32LE(at + 5),
        rawLength: bytes.readUInt32LE(at + 9),
        id: bytes.subarray(at + 13, at + 45),
      });
    }
  }
}

/** Checks the layout (magic, version, counts against the length); returns where packs start. */
function checkStructure(bytes: Buffer, name: string): number {
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
  need(supersededCount * 32);
  at += supersededCount * 32;
  const packsAt = at;
  need(4);
  const packCount = bytes.readUInt32LE(at);
  at += 4;
  for (let p = 0; p < packCount; p++) {
    need(36);
    const count = bytes.readUInt32LE(at + 32);
    at += 36;
    need(count * ENTRY_LENGTH);
    at += count * ENTRY_LENGTH;
  }
  if (at !== bytes.length) fail('trailing bytes');
  return packsAt;
}

function hexInto(out: Buffer, at: number, hex: string): number {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`not a 32-byte hex id: ${hex}`);
  out.write(hex, at, 'hex');
  return 32;
}
