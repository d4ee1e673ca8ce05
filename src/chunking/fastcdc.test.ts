import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Chunker, DEFAULT_CHUNKER_PARAMS, chunkStream, createGearTable } from './fastcdc.js';
import type { ChunkerParams } from './fastcdc.js';

const seed = (label: string): Buffer => createHash('sha256').update(label).digest();

/** Fast deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
function pseudoRandom(length: number, state = 0x9e3779b9): Uint8Array {
  const words = new Uint32Array(Math.ceil(length / 4));
  let x = state >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return new Uint8Array(words.buffer, 0, length);
}

const digest = (chunk: Uint8Array): string => createHash('sha256').update(chunk).digest('hex');
const sizes = (chunks: Uint8Array[]): number[] => chunks.map((chunk) => chunk.length);

async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of source) out.push(chunk);
  return out;
}

async function* pieces(data: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let k = 0; at < data.length; k++) {
    const size = cuts[k % cuts.length] ?? 1;
    yield data.subarray(at, at + size);
    at += size;
  }
}

const SMALL: ChunkerParams = { minSize: 256, avgSize: 1024, maxSize: 4096 };
const chunker = new Chunker(createGearTable(seed('repository key')));
const random20M = pseudoRandom(20 * 1024 * 1024);

describe('createGearTable', () => {
  it('derives 256 words from the seed, deterministically', () => {
    const table = createGearTable(seed('a'));
    expect(table).toHaveLength(256);
    expect(createGearTable(seed('a'))).toEqual(table);
    expect(createGearTable(seed('b'))).not.toEqual(table);
    expect(new Set(table).size).toBeGreaterThan(250);
  });

  it('refuses a seed that is not 32 bytes', () => {
    expect(() => createGearTable(new Uint8Array(16))).toThrow(RangeError);
  });
});

describe('Chunker', () => {
  it('covers the input exactly with chunks within bounds', () => {
    const chunks = chunker.split(random20M);
    expect(Buffer.concat(chunks).equals(random20M)).toBe(true);
    const { minSize, maxSize } = DEFAULT_CHUNKER_PARAMS;
    for (const size of sizes(chunks).slice(0, -1)) {
      expect(size).toBeGreaterThanOrEqual(minSize);
      expect(size).toBeLessThanOrEqual(maxSize);
    }
    // Normalized chunking keeps the average near avgSize (a little above, given minSize).
    const average = random20M.length / chunks.length;
    expect(average).toBeGreaterThan(100 * 1024);
    expect(average).toBeLessThan(200 * 1024);
  });

  it('returns subarrays of its input', () => {
    const chunks = chunker.split(random20M);
    expect(chunks.every((chunk) => chunk.buffer === random20M.buffer)).toBe(true);
  });

  it('gives small inputs one chunk and empty input none', () => {
    expect(sizes(chunker.split(random20M.subarray(0, 1000)))).toEqual([1000]);
    expect(sizes(chunker.split(random20M.subarray(0, DEFAULT_CHUNKER_PARAMS.minSize)))).toEqual([
      DEFAULT_CHUNKER_PARAMS.minSize,
    ]);
    expect(chunker.split(new Uint8Array())).toEqual([]);
  });

  it('cuts featureless data at maxSize', () => {
    const zeros = new Uint8Array(3 * 1024 * 1024 + 5);
    const chunks = chunker.split(zeros);
    expect(Buffer.concat(chunks).equals(Buffer.from(zeros))).toBe(true);
    for (const size of sizes(chunks))
      expect(size).toBeLessThanOrEqual(DEFAULT_CHUNKER_PARAMS.maxSize);
  });

  it('is deterministic for a seed and differs for another seed', () => {
    const again = new Chunker(createGearTable(seed('repository key')));
    expect(sizes(again.split(random20M))).toEqual(sizes(chunker.split(random20M)));
    const other = new Chunker(createGearTable(seed('another key')));
    expect(sizes(other.split(random20M))).not.toEqual(sizes(chunker.split(random20M)));
  });

  it('changes only the first chunks after an insertion near the start', () => {
    const before = chunker.split(random20M).map(digest);
    for (const [at, inserted] of [
      [10, 1],
      [1000, 7],
      [40_000, 100],
    ] as const) {
      const edited = Buffer.concat([
        random20M.subarray(0, at),
        pseudoRandom(inserted, at),
        random20M.subarray(at),
      ]);
      const after = chunker.split(edited).map(digest);
      const common = after.filter((id) => before.includes(id));
      expect(after.length - common.length).toBeLessThanOrEqual(2);
      expect(after.slice(-common.length)).toEqual(before.slice(-common.length));
      expect(common.length).toBeGreaterThanOrEqual(before.length - 2);
    }
  });

  it('refuses parameters it cannot honour', () => {
    const gear = createGearTable(seed('x'));
    expect(() => new Chunker(gear, { minSize: 1024, avgSize: 3000, maxSize: 8192 })).toThrow(
      RangeError,
    );
    expect(() => new Chunker(gear, { minSize: 8192, avgSize: 4096, maxSize: 16384 })).toThrow(
      RangeError,
    );
    expect(() => new Chunker(gear, { minSize: 0, avgSize: 4096, maxSize: 16384 })).toThrow(
      RangeError,
    );
    expect(() => new Chunker(new Uint32Array(16))).toThrow(RangeError);
  });
});

describe('chunkStream', () => {
  it('yields the chunks of split() however the input is cut', async () => {
    const data = random20M.subarray(0, 6 * 1024 * 1024);
    const expected = chunker.split(data).map(digest);
    for (const cuts of [[data.length], [65_536], [1_000_003], [1, 70_000, 3, 131_072, 999_999]]) {
      const chunks = await collect(chunkStream(pieces(data, cuts), chunker));
      expect(chunks.map(digest)).toEqual(expected);
    }
  });

  it('matches split() with byte-sized pieces and small parameters', async () => {
    const small = new Chunker(createGearTable(seed('small')), SMALL);
    const data = pseudoRandom(200_000, 7);
    const expected = small.split(data).map(digest);
    expect(expected.length).toBeGreaterThan(50);
    for (const cuts of [[1], [2, 5, 1, 300], [4096], [4097, 1]]) {
      const chunks = await collect(chunkStream(pieces(data, cuts), small));
      expect(chunks.map(digest)).toEqual(expected);
    }
  });

  it('matches split() at sizes around the chunk bounds and the 1 MiB chunking threshold', async () => {
    // The spooled message store feeds parts of at least 1 MiB through chunkStream in 1 MiB
    // windows (or base64 blocks of 786,432 bytes): its objects must be those of split().
    const { minSize, avgSize, maxSize } = DEFAULT_CHUNKER_PARAMS;
    const MiB = 1024 * 1024;
    const lengths = [
      ...[minSize, avgSize, maxSize, MiB, 2 * maxSize, 3 * MiB].flatMap((n) => [n - 1, n, n + 1]),
      5 * MiB + 12_345,
    ];
    for (const [i, length] of lengths.entries()) {
      const data = random20M.subarray(i * 7919, i * 7919 + length);
      const expected = chunker.split(data).map(digest);
      for (const window of [MiB, 786_432, 1_000_003]) {
        const cuts = [window];
        const chunks = await collect(chunkStream(pieces(data, cuts), chunker));
        expect(chunks.map(digest), `length ${length}, window ${window}`).toEqual(expected);
      }
    }
  });

  it('yields nothing for an empty stream', async () => {
    expect(await collect(chunkStream(pieces(new Uint8Array(), [1]), chunker))).toEqual([]);
  });
});
