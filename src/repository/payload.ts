import { Compressor, Decompressor } from 'zstd-napi';

/**
 * The plaintext of every sealed object and metadata file starts with one byte naming its
 * encoding, so each object says for itself whether it is compressed.
 */
export const Encoding = { Raw: 0, Zstd: 1 } as const;

/** Below this size compression rarely pays for its frame header. */
const MIN_COMPRESSIBLE = 64;
const ZSTD_LEVEL = 3;

let compressor: Compressor | undefined;
let decompressor: Decompressor | undefined;

/** Returns the pieces of the encoded payload (encoding byte, then data), to seal without a copy. */
export function encodePayload(data: Uint8Array, compress = true): Uint8Array[] {
  if (compress && data.length >= MIN_COMPRESSIBLE) {
    if (!compressor) {
      compressor = new Compressor();
      compressor.setParameters({ compressionLevel: ZSTD_LEVEL });
    }
    const compressed = compressor.compress(data);
    if (compressed.length < data.length) return [Buffer.of(Encoding.Zstd), compressed];
  }
  return [Buffer.of(Encoding.Raw), data];
}

export function decodePayload(plaintext: Buffer, what: string): Buffer {
  const encoding = plaintext[0];
  const body = plaintext.subarray(1);
  if (encoding === Encoding.Raw) return body;
  if (encoding === Encoding.Zstd) {
    decompressor ??= new Decompressor();
    return decompressor.decompress(body);
  }
  throw new Error(`${what}: unknown encoding ${String(encoding)}`);
}
