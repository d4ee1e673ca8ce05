import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ObjectIndex, type ObjectLocation } from './object-index.js';

/** Distinct, reproducible 32-byte ids, shaped like the HMAC outputs the repository uses. */
const idOf = (n: number): Buffer => createHash('sha256').update(`object ${n}`).digest();

const packName = (n: number): string => createHash('sha256').update(`pack ${n}`).digest('hex');

function locationOf(n: number): ObjectLocation {
  return {
    pack: packName(n % 7),
    type: n % 3 === 0 ? 'tree' : 'data',
    offset: n * 101,
    length: 28 + (n % 5000),
    rawLength: n * 3 + 1,
  };
}

describe('ObjectIndex', () => {
  it('finds what was added and nothing else', () => {
    const index = new ObjectIndex();
    expect(index.add(idOf(1), locationOf(1))).toBe(true);
    expect(index.add(idOf(2), locationOf(2))).toBe(true);
    expect(index.size).toBe(2);
    expect(index.has(idOf(1))).toBe(true);
    expect(index.get(idOf(1))).toEqual(locationOf(1));
    expect(index.get(idOf(2))).toEqual(locationOf(2));
    expect(index.has(idOf(3))).toBe(false);
    expect(index.get(idOf(3))).toBeUndefined();
  });

  it('keeps every location exact while growing to many thousands of ids', () => {
    // Starts tiny so the table is rebuilt many times over.
    const index = new ObjectIndex(16);
    const count = 60_000;
    let added = 0;
    for (let n = 0; n < count; n++) if (index.add(idOf(n), locationOf(n))) added++;
    expect(added).toBe(count);
    expect(index.size).toBe(count);
    const wrong: number[] = [];
    for (let n = 0; n < count; n++) {
      const found = index.get(idOf(n));
      const want = locationOf(n);
      if (JSON.stringify(found) !== JSON.stringify(want)) wrong.push(n);
    }
    expect(wrong).toEqual([]);
    for (let n = count; n < count + 1000; n++) expect(index.has(idOf(n))).toBe(false);
  });

  it('works with an initial capacity that is not a power of two', () => {
    const index = new ObjectIndex(1000);
    for (let n = 0; n < 3000; n++) index.add(idOf(n), locationOf(n));
    for (let n = 0; n < 3000; n++) expect(index.entryNumber(idOf(n))).toBe(n);
    expect(index.has(idOf(3000))).toBe(false);
  });

  it('keeps every entry when room is reserved for a number that is not a power of two, and grows past it', () => {
    const index = new ObjectIndex();
    index.add(idOf(0), locationOf(0));
    index.reserve(3_001);
    for (let n = 1; n < 7_000; n++) expect(index.add(idOf(n), locationOf(n))).toBe(true);
    expect(index.size).toBe(7_000);
    for (let n = 0; n < 7_000; n++) expect(index.get(idOf(n))).toEqual(locationOf(n));
    expect(index.has(idOf(7_000))).toBe(false);
  });

  it('tells apart ids that share their first bytes (the bytes it hashes on)', () => {
    const index = new ObjectIndex(16);
    const ids = Array.from({ length: 200 }, (_, n) => {
      const id = Buffer.alloc(32, 0xab);
      id.writeUInt32BE(n, 28);
      return id;
    });
    ids.forEach((id, n) => index.add(id, locationOf(n)));
    ids.forEach((id, n) => expect(index.get(id)).toEqual(locationOf(n)));
    const stranger = Buffer.alloc(32, 0xab);
    stranger.writeUInt32BE(5000, 28);
    expect(index.has(stranger)).toBe(false);
  });

  it('keeps the first location of an id added twice', () => {
    const index = new ObjectIndex();
    const first = locationOf(10);
    const second: ObjectLocation = { ...locationOf(11), type: first.type };
    expect(index.add(idOf(10), first)).toBe(true);
    expect(index.add(idOf(10), second)).toBe(false);
    expect(index.size).toBe(1);
    expect(index.get(idOf(10))).toEqual(first);
    expect([...index.entries()]).toHaveLength(1);
  });

  it('lists every entry once with its location, and every pack it names', () => {
    const index = new ObjectIndex(16);
    const count = 3000;
    for (let n = 0; n < count; n++) index.add(idOf(n), locationOf(n));
    index.add(idOf(5), locationOf(6));
    const seen = new Map<string, ObjectLocation>();
    for (const [id, location] of index.entries()) {
      expect(seen.has(id.toString('hex'))).toBe(false);
      seen.set(id.toString('hex'), location);
    }
    expect(seen.size).toBe(count);
    for (let n = 0; n < count; n++)
      expect(seen.get(idOf(n).toString('hex'))).toEqual(locationOf(n));
    expect([...index.packs()].sort()).toEqual(
      Array.from({ length: 7 }, (_, n) => packName(n)).sort(),
    );
  });

  it('hands out copies: changing a returned id does not change the index', () => {
    const index = new ObjectIndex();
    index.add(idOf(1), locationOf(1));
    const [[id]] = [...index.entries()] as [[Buffer, ObjectLocation]];
    id.fill(0);
    expect(index.has(idOf(1))).toBe(true);
  });

  it('refuses ids that are not 32 bytes', () => {
    const index = new ObjectIndex();
    expect(() => index.add(Buffer.alloc(31), locationOf(1))).toThrow(/32 bytes/);
    expect(index.size).toBe(0);
  });

  it('numbers its entries, moves one to a new place, and forgets all when cleared', () => {
    const index = new ObjectIndex();
    for (let n = 0; n < 100; n++) index.add(idOf(n), locationOf(n));
    expect(index.entryNumber(idOf(42))).toBe(42);
    expect(index.entryNumber(idOf(1000))).toBe(-1);
    index.relocate(idOf(42), locationOf(4242));
    expect(index.get(idOf(42))).toEqual(locationOf(4242));
    index.clear();
    expect(index.size).toBe(0);
    expect(index.has(idOf(42))).toBe(false);
    expect(index.packs()).toEqual([]);
    expect(index.add(idOf(7), locationOf(8))).toBe(true);
    expect(index.get(idOf(7))).toEqual(locationOf(8));
    expect(index.entryNumber(idOf(7))).toBe(0);
  });

  it('groups entry numbers by pack, in the order of each pack first entry, as entries() lists them', () => {
    const index = new ObjectIndex(16);
    const count = 5000;
    for (let n = 0; n < count; n++) index.add(idOf(n), locationOf(n));
    // Moved to a pack named after the others, but holding an earlier entry than some of them.
    const late = { ...locationOf(3), pack: packName(99) };
    index.relocate(idOf(3), late);
    const want = new Map<string, string[]>();
    for (const [id, location] of index.entries()) {
      const ids = want.get(location.pack) ?? [];
      ids.push(id.toString('hex'));
      want.set(location.pack, ids);
    }
    const groups = index.packGroups();
    expect(groups.map((group) => group.pack)).toEqual([...want.keys()]);
    for (const { pack, entries } of groups) {
      expect([...entries].map((entry) => index.idAt(entry).toString('hex'))).toEqual(
        want.get(pack),
      );
      for (const entry of entries) expect(index.locationAt(entry).pack).toBe(pack);
    }
    expect(groups.reduce((sum, group) => sum + group.entries.length, 0)).toBe(count);
    expect(index.locationAt(3)).toEqual(late);
    expect(index.locationAt(10)).toEqual(locationOf(10));
  });

  it('leaves out packs whose objects were all moved away, and has no groups when empty', () => {
    const index = new ObjectIndex();
    expect(index.packGroups()).toEqual([]);
    index.add(idOf(1), { ...locationOf(1), pack: packName(1) });
    index.add(idOf(2), { ...locationOf(2), pack: packName(2) });
    index.relocate(idOf(1), { ...locationOf(1), pack: packName(2) });
    const groups = index.packGroups();
    expect(groups.map(({ pack, entries }) => [pack, [...entries]])).toEqual([
      [packName(2), [0, 1]],
    ]);
  });

  it('refuses entry numbers outside the index, also after a clear', () => {
    const index = new ObjectIndex();
    index.add(idOf(1), locationOf(1));
    expect(index.idAt(0)).toEqual(idOf(1));
    for (const wrong of [-1, 1, 0.5]) {
      expect(() => index.idAt(wrong)).toThrow(RangeError);
      expect(() => index.locationAt(wrong)).toThrow(RangeError);
    }
    const before = index.epoch;
    index.clear();
    expect(index.epoch).not.toBe(before);
    expect(() => index.idAt(0)).toThrow(RangeError);
  });

  it('hands out copies of ids by entry number too', () => {
    const index = new ObjectIndex();
    index.add(idOf(1), locationOf(1));
    index.idAt(0).fill(0);
    expect(index.has(idOf(1))).toBe(true);
  });
});
