import { createDecipheriv, createHash, createHmac, scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuthenticationError, kindLabel, open, seal } from './aead.js';
import {
  WrongPassphraseError,
  createKeyFile,
  parseKeyFile,
  unlockKeyFile,
  type KeyFile,
} from './key-file.js';
import { decodeMasterKey, generateMasterKey } from './master-key.js';

// The smallest cost the code accepts, so each derivation takes about a millisecond.
const COST = 10;

const asJson = (bytes: Uint8Array): KeyFile =>
  JSON.parse(Buffer.from(bytes).toString('utf8')) as KeyFile;

describe('key files', () => {
  it('unlock with their passphrase to the master key they wrap', async () => {
    const master = generateMasterKey();
    const { name, bytes } = await createKeyFile(master, 'correct horse battery staple', COST);
    const unlocked = await unlockKeyFile(parseKeyFile(bytes, name), 'correct horse battery staple');
    expect(unlocked.encryption).toEqual(master.encryption);
    expect(unlocked.id).toEqual(master.id);
    expect(unlocked.chunker).toEqual(master.chunker);
  });

  it('are JSON named by the SHA-256 of their bytes, with the scrypt parameters used', async () => {
    const { name, bytes } = await createKeyFile(generateMasterKey(), 'pass', 12);
    expect(name).toBe(createHash('sha256').update(bytes).digest('hex'));
    const file = asJson(bytes);
    expect(file.version).toBe(1);
    expect(file.kdf).toMatchObject({ name: 'scrypt', N: 4096, r: 8, p: 1 });
    expect(Buffer.from(file.kdf.salt, 'base64')).toHaveLength(32);
    expect(Number.isNaN(Date.parse(file.created))).toBe(false);
  });

  it('can be opened by an independent reader following the documented recipe', async () => {
    const master = generateMasterKey();
    const { bytes } = await createKeyFile(master, 'pass', COST);
    const file = asJson(bytes);
    const derived = scryptSync('pass', Buffer.from(file.kdf.salt, 'base64'), 32, {
      N: file.kdf.N,
      r: file.kdf.r,
      p: file.kdf.p,
    });
    // Sealed as every item is: nonce(24) | ciphertext | tag(16), the message key selected by the
    // first 12 nonce bytes, with the ASCII label "mailvault key" as associated data.
    const sealed = Buffer.from(file.data, 'base64');
    const nonce = sealed.subarray(0, 24);
    const decipher = createDecipheriv(
      'aes-256-gcm',
      createHmac('sha256', derived).update(nonce.subarray(0, 12)).digest(),
      nonce.subarray(12),
    );
    decipher.setAAD(Buffer.from('mailvault key', 'ascii'));
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const plain = Buffer.concat([
      decipher.update(sealed.subarray(24, sealed.length - 16)),
      decipher.final(),
    ]);
    const inner = JSON.parse(plain.toString()) as Record<string, string>;
    expect(open(derived, sealed, kindLabel('key'))).toEqual(plain);
    expect(Object.keys(inner).sort()).toEqual(['chunker', 'encryption', 'id']);
    expect(inner.encryption).toBe(master.encryption.toString('base64'));
    expect(inner.id).toBe(master.id.toString('base64'));
    expect(inner.chunker).toBe(master.chunker.toString('base64'));
  });

  it('open only as a key: the same wrapping sealed as another kind is refused', async () => {
    const { bytes } = await createKeyFile(generateMasterKey(), 'pass', COST);
    const file = asJson(bytes);
    const derived = scryptSync('pass', Buffer.from(file.kdf.salt, 'base64'), 32, {
      N: file.kdf.N,
      r: file.kdf.r,
      p: file.kdf.p,
    });
    const plain = open(derived, Buffer.from(file.data, 'base64'), kindLabel('key'));
    expect(() => open(derived, Buffer.from(file.data, 'base64'), kindLabel('index'))).toThrow(
      AuthenticationError,
    );
    // The right key and plaintext, but bound to another kind: not a key file.
    const misbound = {
      ...file,
      data: seal(derived, plain, kindLabel('snapshot')).toString('base64'),
    };
    await expect(unlockKeyFile(misbound, 'pass')).rejects.toThrow(WrongPassphraseError);
    const rebound = { ...file, data: seal(derived, plain, kindLabel('key')).toString('base64') };
    await expect(unlockKeyFile(rebound, 'pass')).resolves.toBeDefined();
  });

  it('do not contain the master key in the clear', async () => {
    const master = generateMasterKey();
    const { bytes } = await createKeyFile(master, 'pass', COST);
    const text = Buffer.from(bytes).toString('utf8');
    for (const secret of [master.encryption, master.id, master.chunker]) {
      expect(text.includes(secret.toString('base64'))).toBe(false);
      expect(Buffer.from(bytes).includes(secret)).toBe(false);
    }
  });

  it('refuse a wrong passphrase with WrongPassphraseError', async () => {
    const { name, bytes } = await createKeyFile(generateMasterKey(), 'right', COST);
    const file = parseKeyFile(bytes, name);
    await expect(unlockKeyFile(file, 'wrong')).rejects.toThrow(WrongPassphraseError);
    await expect(unlockKeyFile(file, 'right ')).rejects.toThrow(/wrong passphrase/);
  });

  it('accept the same passphrase typed as composed or decomposed Unicode', async () => {
    const composed = 'caf\u00e9 cr\u00e8me';
    const decomposed = 'cafe\u0301 cre\u0300me';
    const { name, bytes } = await createKeyFile(generateMasterKey(), composed, COST);
    await expect(unlockKeyFile(parseKeyFile(bytes, name), decomposed)).resolves.toBeDefined();
  });

  it('treat a tampered sealed key or salt as not opening (never as a different key)', async () => {
    const { name, bytes } = await createKeyFile(generateMasterKey(), 'pass', COST);
    const data = Buffer.from(asJson(bytes).data, 'base64');
    data[20] = (data[20] ?? 0) ^ 0xff;
    const tamperedData = { ...asJson(bytes), data: data.toString('base64') };
    await expect(unlockKeyFile(tamperedData, 'pass')).rejects.toThrow(WrongPassphraseError);
    const file = asJson(bytes);
    const salt = Buffer.from(file.kdf.salt, 'base64');
    salt[0] = (salt[0] ?? 0) ^ 1;
    const tamperedSalt = { ...file, kdf: { ...file.kdf, salt: salt.toString('base64') } };
    await expect(unlockKeyFile(tamperedSalt, 'pass')).rejects.toThrow(WrongPassphraseError);
    // A byte of the key selector (the first 12 nonce bytes) changes the message key.
    const selector = Buffer.from(file.data, 'base64');
    selector[3] = (selector[3] ?? 0) ^ 1;
    await expect(
      unlockKeyFile({ ...file, data: selector.toString('base64') }, 'pass'),
    ).rejects.toThrow(WrongPassphraseError);
    // The untouched file still opens.
    await expect(unlockKeyFile(parseKeyFile(bytes, name), 'pass')).resolves.toBeDefined();
  });

  it('refuse files that are not key files of this version, naming them', async () => {
    const { bytes } = await createKeyFile(generateMasterKey(), 'pass', COST);
    expect(() => parseKeyFile(Buffer.from('{"version": 1, "kdf'), 'k1')).toThrow(
      /key file k1 is not valid JSON/,
    );
    const newer = Buffer.from(JSON.stringify({ ...asJson(bytes), version: 2 }));
    expect(() => parseKeyFile(newer, 'k2')).toThrow(/key file k2 has unsupported version 2/);
    const argon = Buffer.from(
      JSON.stringify({ ...asJson(bytes), kdf: { ...asJson(bytes).kdf, name: 'argon2id' } }),
    );
    expect(() => parseKeyFile(argon, 'k3')).toThrow(/k3 uses an unknown key derivation/);
  });

  it('refuse scrypt costs outside 10..22', async () => {
    await expect(createKeyFile(generateMasterKey(), 'pass', 9)).rejects.toThrow(
      /between 10 and 22/,
    );
    await expect(createKeyFile(generateMasterKey(), 'pass', 23)).rejects.toThrow(
      /between 10 and 22/,
    );
  });
});

describe('master key encoding', () => {
  it('refuses a master key field that is missing or not 32 bytes', () => {
    const good = {
      encryption: Buffer.alloc(32, 1).toString('base64'),
      id: Buffer.alloc(32, 2).toString('base64'),
      chunker: Buffer.alloc(32, 3).toString('base64'),
    };
    expect(decodeMasterKey(Buffer.from(JSON.stringify(good))).id).toEqual(Buffer.alloc(32, 2));
    const short = { ...good, id: Buffer.alloc(16).toString('base64') };
    expect(() => decodeMasterKey(Buffer.from(JSON.stringify(short)))).toThrow(/field id/);
    const missing = { encryption: good.encryption, id: good.id };
    expect(() => decodeMasterKey(Buffer.from(JSON.stringify(missing)))).toThrow(/field chunker/);
  });
});
