import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeIndex, encodeIndex, type IndexContent } from './index-file.js';

const hash = (label: string): Buffer => createHash('sha256').update(label).digest();
const hex = (label: string): string => hash(label).toString('hex');

const content: IndexContent = {
  superseded: [hex('old index 1'), hex('old index 2')],
  packs: [
    {
      id: hex('pack a'),
      entries: [
        { type: 'data', id: hash('a0'), offset: 0, length: 1000, rawLength: 3000 },
        { type: 'data', id: hash('a1'), offset: 1000, length: 29, rawLength: 0 },
        { type: 'data', id: hash('a2'), offset: 1029, length: 0xffffffff, rawLength: 0xfffffffe },
      ],
    },
    {
      id: hex('pack b'),
      entries: [{ type: 'tree', id: hash('b0'), offset: 0, length: 500, rawLength: 900 }],
    },
    { id: hex('pack c'), entries: [] },
  ],
};

describe('index files', () => {
  it('round-trip packs, entries and superseded indexes', () => {
    expect(decodeIndex(encodeIndex(content), 'i')).toEqual(content);
    const empty: IndexContent = { superseded: [], packs: [] };
    expect(decodeIndex(encodeIndex(empty), 'i')).toEqual(empty);
  });

  it('decode a file written by hand from the documented layout', () => {
    const u32 = (n: number): Buffer => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(n);
      return b;
    };
    const bytes = Buffer.concat([
      Buffer.from('MVIX', 'latin1'),
      Buffer.of(1),
      u32(1),
      hash('superseded'),
      u32(1),
      hash('the pack'),
      u32(2),
      Buffer.of(1),
      u32(0),
      u32(77),
      u32(120),
      hash('tree object'),
      Buffer.of(0),
      u32(77),
      u32(4096),
      u32(8000),
      hash('data object'),
    ]);
    expect(decodeIndex(bytes, 'by hand')).toEqual({
      superseded: [hex('superseded')],
      packs: [
        {
          id: hex('the pack'),
          entries: [
            { type: 'tree', offset: 0, length: 77, rawLength: 120, id: hash('tree object') },
            { type: 'data', offset: 77, length: 4096, rawLength: 8000, id: hash('data object') },
          ],
        },
      ],
    });
    expect(encodeIndex(decodeIndex(bytes, 'by hand'))).toEqual(bytes);
  });

  it('reject a truncated file wherever it was cut', () => {
    const bytes = encodeIndex(content);
    for (let length = 0; length < bytes.length; length += 7) {
      expect(() => decodeIndex(bytes.subarray(0, length), 'cut')).toThrow(
        /^index cut: (truncated|not an index file)$/,
      );
    }
    expect(() => decodeIndex(bytes.subarray(0, bytes.length - 1), 'cut')).toThrow(/truncated/);
  });

  it('reject trailing bytes', () => {
    const bytes = Buffer.concat([encodeIndex(content), Buffer.of(0)]);
    expect(() => decodeIndex(bytes, 'long')).toThrow(/index long: trailing bytes/);
  });

  it('reject a file without the magic', () => {
    const bytes = encodeIndex(content);
    bytes.write('MVPK', 0, 'latin1');
    expect(() => decodeIndex(bytes, 'x')).toThrow(/not an index file/);
  });

  it('reject a newer version instead of misreading it', () => {
    const bytes = encodeIndex(content);
    bytes[4] = 2;
    expect(() => decodeIndex(bytes, 'new')).toThrow(/index new: unsupported index version 2/);
  });

  it('reject an unknown object type', () => {
    const bytes = encodeIndex({
      superseded: [],
      packs: [
        {
          id: hex('p'),
          entries: [{ type: 'data', id: hash('x'), offset: 0, length: 1, rawLength: 1 }],
        },
      ],
    });
    bytes[4 + 1 + 4 + 4 + 32 + 4] = 9;
    expect(() => decodeIndex(bytes, 'odd')).toThrow(/unknown object type 9/);
  });

  it('refuse to encode a pack name that is not 32 bytes of hex', () => {
    expect(() => encodeIndex({ superseded: [], packs: [{ id: 'abc', entries: [] }] })).toThrow(
      /not a 32-byte hex id/,
    );
    expect(() => encodeIndex({ superseded: [hex('a').toUpperCase()], packs: [] })).toThrow(
      /not a 32-byte hex id/,
    );
  });
});
