import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Encoding, decodePayload, encodePayload } from './payload.js';

const ZSTD_FRAME_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

const joined = (pieces: Uint8Array[]): Buffer => Buffer.concat(pieces);

/** Mail-like text: repetitive enough that any compressor shrinks it a lot. */
const text = Buffer.from(
  Array.from(
    { length: 400 },
    (_, i) => `Line ${i}: the quarterly report is attached, please review.\r\n`,
  ).join(''),
);

describe('payload encoding', () => {
  it('compresses compressible data with zstd, behind encoding byte 1', () => {
    const encoded = joined(encodePayload(text));
    expect(encoded[0]).toBe(Encoding.Zstd);
    expect(encoded[0]).toBe(1);
    // A standard zstd frame, so any zstd implementation can read it.
    expect(encoded.subarray(1, 5)).toEqual(ZSTD_FRAME_MAGIC);
    expect(encoded.length).toBeLessThan(text.length / 4);
    expect(decodePayload(encoded, 'test')).toEqual(text);
  });

  it('keeps incompressible data raw, behind encoding byte 0, byte for byte', () => {
    const random = randomBytes(64 * 1024);
    const encoded = joined(encodePayload(random));
    expect(encoded[0]).toBe(Encoding.Raw);
    expect(encoded[0]).toBe(0);
    expect(encoded.subarray(1)).toEqual(random);
    expect(decodePayload(encoded, 'test')).toEqual(random);
  });

  it('keeps tiny data raw, where a zstd frame would cost more than it saves', () => {
    const small = Buffer.from('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
    const encoded = joined(encodePayload(small));
    expect(encoded[0]).toBe(Encoding.Raw);
    expect(decodePayload(encoded, 'test')).toEqual(small);
  });

  it('stores raw when asked not to compress', () => {
    const encoded = joined(encodePayload(text, false));
    expect(encoded).toEqual(Buffer.concat([Buffer.of(0), text]));
  });

  it('round-trips empty data', () => {
    expect(decodePayload(joined(encodePayload(Buffer.alloc(0))), 'test')).toEqual(Buffer.alloc(0));
  });

  it('refuses an unknown encoding byte, naming the object', () => {
    expect(() => decodePayload(Buffer.from([2, 1, 2, 3]), 'object abc')).toThrow(
      /object abc: unknown encoding 2/,
    );
  });

  it('fails on a damaged zstd frame instead of returning wrong bytes', () => {
    const encoded = joined(encodePayload(text));
    const damaged = Buffer.from(encoded.subarray(0, encoded.length - 10));
    expect(() => decodePayload(damaged, 'test')).toThrow();
  });
});
