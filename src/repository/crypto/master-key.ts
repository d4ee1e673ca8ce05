import { createHmac, randomBytes } from 'node:crypto';

/**
 * The repository's secret, generated once by `init` and stored only wrapped in key files:
 * - `encryption`: the AES-256-GCM key for every object and metadata file;
 * - `id`: the HMAC-SHA-256 key that turns an object's plaintext into its id, so ids reveal
 *   nothing about content to someone without the key;
 * - `chunker`: the seed of the content-defined chunker's gear table, so chunk boundaries do
 *   not leak content either.
 */
export interface MasterKey {
  encryption: Buffer;
  id: Buffer;
  chunker: Buffer;
}

export function generateMasterKey(): MasterKey {
  return { encryption: randomBytes(32), id: randomBytes(32), chunker: randomBytes(32) };
}

export function encodeMasterKey(key: MasterKey): Buffer {
  return Buffer.from(
    JSON.stringify({
      encryption: key.encryption.toString('base64'),
      id: key.id.toString('base64'),
      chunker: key.chunker.toString('base64'),
    }),
  );
}

export function decodeMasterKey(bytes: Uint8Array): MasterKey {
  const parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
  const field = (name: string): Buffer => {
    const value = parsed[name];
    const buffer = typeof value === 'string' ? Buffer.from(value, 'base64') : Buffer.alloc(0);
    if (buffer.length !== 32)
      throw new Error(`master key: field ${name} is missing or not 32 bytes`);
    return buffer;
  };
  return { encryption: field('encryption'), id: field('id'), chunker: field('chunker') };
}

/** An object's id: HMAC-SHA-256 of its plaintext under the repository's id key. */
export function objectId(key: MasterKey, plaintext: Uint8Array): Buffer {
  return createHmac('sha256', key.id).update(plaintext).digest();
}
