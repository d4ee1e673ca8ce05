import { createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuthenticationError, kindLabel, open, seal } from '../crypto/aead.js';
import { PackBuilder } from './pack-builder.js';
import {
  HeaderOutOfReachError,
  decodePackHeader,
  encodePackHeader,
  type ObjectType,
  type PackEntry,
} from './pack-format.js';

const key = randomBytes(32);
const idOf = (label: string): Buffer => createHash('sha256').update(label).digest();

/** A pack of `count` sealed objects, alternating types, as the writer would build it. */
function buildPack(count: number, types: ObjectType[] = ['data', 'tree']) {
  const builder = new PackBuilder();
  const plaintexts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const plain = randomBytes(10 + i * 37);
    plaintexts.push(plain);
    const id = idOf(`o${i}`);
    // Each object is sealed with its id as associated data, as the writer does.
    builder.add(types[i % types.length] ?? 'data', id, seal(key, plain, id), plain.length);
  }
  return { ...builder.finish(key), plaintexts };
}

/** Opens nonce(24) | ciphertext | tag(16) with nothing but HMAC-SHA-256 and AES-256-GCM. */
function openByHand(sealed: Buffer, associated: Buffer): Buffer {
  const nonce = sealed.subarray(0, 24);
  const decipher = createDecipheriv(
    'aes-256-gcm',
    createHmac('sha256', key).update(nonce.subarray(0, 12)).digest(),
    nonce.subarray(12),
  );
  decipher.setAAD(associated);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([
    decipher.update(sealed.subarray(24, sealed.length - 16)),
    decipher.final(),
  ]);
}

/** Reads the header the way the format document says, with nothing but node:crypto. */
function readHeaderByHand(pack: Buffer): { count: number; entries: Buffer } {
  const headerLength = pack.readUInt32LE(pack.length - 4);
  const sealed = pack.subarray(pack.length - 4 - headerLength, pack.length - 4);
  const plain = openByHand(sealed, Buffer.from('mailvault pack header', 'ascii'));
  expect(plain.subarray(0, 4).toString('latin1')).toBe('MVPK');
  expect(plain[4]).toBe(1);
  return { count: plain.readUInt32LE(5), entries: plain.subarray(9) };
}

describe('pack format', () => {
  it('lists every object with its type, place, sizes and id', () => {
    const { bytes, entries } = buildPack(5);
    const decoded = decodePackHeader(key, bytes, bytes.length, 'p');
    expect(decoded).toEqual(entries);
    expect(decoded.map((entry) => entry.type)).toEqual(['data', 'tree', 'data', 'tree', 'data']);
    let offset = 0;
    for (const entry of decoded) {
      expect(entry.offset).toBe(offset);
      offset += entry.length;
    }
  });

  it('follows the documented byte layout', () => {
    const { bytes, entries, plaintexts } = buildPack(3);
    const { count, entries: raw } = readHeaderByHand(bytes);
    expect(count).toBe(3);
    expect(raw.length).toBe(3 * 41);
    for (let i = 0; i < 3; i++) {
      const at = i * 41;
      const entry = entries[i] as PackEntry;
      expect(raw[at]).toBe(i % 2 === 0 ? 0 : 1);
      expect(raw.readUInt32LE(at + 1)).toBe(entry.length);
      expect(raw.readUInt32LE(at + 5)).toBe(plaintexts[i]?.length);
      expect(raw.subarray(at + 9, at + 41)).toEqual(idOf(`o${i}`));
    }
  });

  it('holds objects sealed with their id as associated data, back to back', () => {
    const { bytes, entries, plaintexts } = buildPack(3);
    for (const [i, entry] of entries.entries()) {
      const sealed = bytes.subarray(entry.offset, entry.offset + entry.length);
      expect(openByHand(sealed, idOf(`o${i}`))).toEqual(plaintexts[i]);
      // Under any other id the same bytes do not open: an object cannot be moved unnoticed.
      expect(() => open(key, sealed, idOf(`o${i + 1}`))).toThrow(AuthenticationError);
    }
  });

  it('is named by the SHA-256 of its bytes', () => {
    const { bytes, name } = buildPack(2);
    expect(name).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('decodes from just the tail of the pack', () => {
    const { bytes, entries } = buildPack(4);
    const headerLength = bytes.readUInt32LE(bytes.length - 4);
    const tail = bytes.subarray(bytes.length - headerLength - 4);
    expect(decodePackHeader(key, tail, bytes.length, 'p')).toEqual(entries);
  });

  it('says how much to read when the tail is too short for the header', () => {
    const { bytes } = buildPack(4);
    const headerLength = bytes.readUInt32LE(bytes.length - 4);
    try {
      decodePackHeader(key, bytes.subarray(bytes.length - 20), bytes.length, 'p');
      expect.fail('a short tail was accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(HeaderOutOfReachError);
      expect((error as HeaderOutOfReachError).needed).toBe(headerLength + 4);
    }
  });

  it('rejects a tampered header', () => {
    const { bytes } = buildPack(3);
    const tampered = Buffer.from(bytes);
    const at = tampered.length - 4 - 30;
    tampered[at] = (tampered[at] ?? 0) ^ 0x40;
    expect(() => decodePackHeader(key, tampered, tampered.length, 'p')).toThrow(
      AuthenticationError,
    );
  });

  it('rejects the wrong key', () => {
    const { bytes } = buildPack(3);
    expect(() => decodePackHeader(randomBytes(32), bytes, bytes.length, 'bad')).toThrow(
      /header of pack bad failed authentication/,
    );
  });

  it('rejects a header sealed as anything but a pack header', () => {
    const entry = { type: 'data' as const, id: idOf('x'), offset: 0, length: 40, rawLength: 12 };
    const good = encodePackHeader(key, [entry]);
    const plain = open(key, good.subarray(0, good.length - 4), kindLabel('pack header'));
    for (const label of [kindLabel('index'), kindLabel('snapshot'), idOf('x'), Buffer.alloc(0)]) {
      const sealed = seal(key, plain, label);
      const length = Buffer.alloc(4);
      length.writeUInt32LE(sealed.length);
      const pack = Buffer.concat([Buffer.alloc(40), sealed, length]);
      expect(() => decodePackHeader(key, pack, pack.length, 'p')).toThrow(
        /header of pack p failed authentication/,
      );
    }
  });

  it('detects a header that does not account for the whole pack', () => {
    const { bytes } = buildPack(3);
    // Bytes lost from, or added to, the objects before the header.
    expect(() => decodePackHeader(key, bytes.subarray(1), bytes.length - 1, 'p')).toThrow(
      /do not add up to its size/,
    );
    const longer = Buffer.concat([Buffer.alloc(5), bytes]);
    expect(() => decodePackHeader(key, longer, longer.length, 'p')).toThrow(
      /do not add up to its size/,
    );
  });

  it('detects a header-length field that is damaged', () => {
    const { bytes } = buildPack(3);
    const damaged = Buffer.from(bytes);
    damaged.writeUInt32LE(damaged.readUInt32LE(damaged.length - 4) - 1, damaged.length - 4);
    expect(() => decodePackHeader(key, damaged, damaged.length, 'p')).toThrow();
  });

  it('detects an entry count that disagrees with the header size', () => {
    const entry = { type: 'data' as const, id: idOf('x'), offset: 0, length: 40, rawLength: 12 };
    const header = encodePackHeader(key, [entry]);
    expect(
      decodePackHeader(key, Buffer.concat([Buffer.alloc(40), header]), 40 + header.length, 'p'),
    ).toHaveLength(1);
    // A header that claims two entries but holds one, sealed with the right key.
    const plain = Buffer.alloc(9 + 41);
    plain.write('MVPK', 0, 'latin1');
    plain[4] = 1;
    plain.writeUInt32LE(2, 5);
    const sealed = seal(key, plain, kindLabel('pack header'));
    const length = Buffer.alloc(4);
    length.writeUInt32LE(sealed.length);
    const pack = Buffer.concat([Buffer.alloc(40), sealed, length]);
    expect(() => decodePackHeader(key, pack, pack.length, 'p')).toThrow(/header length mismatch/);
  });

  it('refuses a newer pack version and unknown object types', () => {
    const makePack = (version: number, type: number): Buffer => {
      const plain = Buffer.alloc(9 + 41);
      plain.write('MVPK', 0, 'latin1');
      plain[4] = version;
      plain.writeUInt32LE(1, 5);
      plain[9] = type;
      plain.writeUInt32LE(0, 10);
      const sealed = seal(key, plain, kindLabel('pack header'));
      const length = Buffer.alloc(4);
      length.writeUInt32LE(sealed.length);
      return Buffer.concat([sealed, length]);
    };
    const newer = makePack(2, 0);
    expect(() => decodePackHeader(key, newer, newer.length, 'p')).toThrow(
      /unsupported pack version 2/,
    );
    const oddType = makePack(1, 7);
    expect(() => decodePackHeader(key, oddType, oddType.length, 'p')).toThrow(
      /unknown object type 7/,
    );
  });

  it('holds an empty list as a valid header', () => {
    const header = encodePackHeader(key, []);
    expect(decodePackHeader(key, header, header.length, 'p')).toEqual([]);
  });
});
