import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  NONCE_LENGTH,
  SEAL_OVERHEAD,
  TAG_LENGTH,
  kindLabel,
  open,
  seal,
} from './aead.js';

const key = randomBytes(32);
const message = Buffer.from('Subject: hello\r\n\r\nthe body of a message\r\n');
/** Associated data as an object's id would give it: 32 bytes. */
const id = randomBytes(32);

/**
 * The documented recipe with nothing but node:crypto: the first 12 nonce bytes select the
 * message key HMAC-SHA-256(key, nonce[0..12]); the last 12 are the AES-256-GCM nonce.
 */
function openByHand(sealed: Buffer, associated: Buffer, withKey: Buffer = key): Buffer {
  const nonce = sealed.subarray(0, 24);
  const messageKey = createHmac('sha256', withKey).update(nonce.subarray(0, 12)).digest();
  const decipher = createDecipheriv('aes-256-gcm', messageKey, nonce.subarray(12));
  decipher.setAAD(associated);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([
    decipher.update(sealed.subarray(24, sealed.length - 16)),
    decipher.final(),
  ]);
}

function sealByHand(plaintext: Buffer, associated: Buffer): Buffer {
  const nonce = randomBytes(24);
  const messageKey = createHmac('sha256', key).update(nonce.subarray(0, 12)).digest();
  const cipher = createCipheriv('aes-256-gcm', messageKey, nonce.subarray(12));
  cipher.setAAD(associated);
  return Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

describe('seal and open', () => {
  it('uses a 24-byte nonce and a 16-byte tag: 40 bytes of overhead', () => {
    expect(NONCE_LENGTH).toBe(24);
    expect(TAG_LENGTH).toBe(16);
    expect(SEAL_OVERHEAD).toBe(40);
  });

  it('gives back the plaintext, sealed as nonce(24) | ciphertext | tag(16)', () => {
    const sealed = seal(key, message, id);
    expect(sealed.length).toBe(message.length + 40);
    expect(open(key, sealed, id)).toEqual(message);
    // The documented layout, opened with plain HMAC-SHA-256 and AES-256-GCM as an independent
    // reader would.
    expect(openByHand(sealed, id)).toEqual(message);
  });

  it('opens the test vector of docs/repository-format.md, section 5', () => {
    const vectorKey = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    const sealed = Buffer.from(
      '202122232425262728292a2b2c2d2e2f3031323334353637' +
        'f2d1824cc96d8da3f6a7554c0a639a70' +
        'ea2b9f89ca6cbd313cf497021ac5f5ee',
      'hex',
    );
    expect(createHmac('sha256', vectorKey).update(sealed.subarray(0, 12)).digest('hex')).toBe(
      'd3d224512a931e10e83d5f1dbcb182784ec83ef9ada678841a77c2601d56ba81',
    );
    const plain = Buffer.from('hello, mailvault', 'ascii');
    expect(open(vectorKey, sealed, kindLabel('index'))).toEqual(plain);
    expect(openByHand(sealed, Buffer.from('mailvault index', 'ascii'), vectorKey)).toEqual(plain);
    expect(() => open(vectorKey, sealed, kindLabel('snapshot'))).toThrow(AuthenticationError);
  });

  it('opens what an independent writer sealed by the documented recipe', () => {
    expect(open(key, sealByHand(message, id), id)).toEqual(message);
    const label = Buffer.from('mailvault index', 'ascii');
    expect(open(key, sealByHand(message, label), kindLabel('index'))).toEqual(message);
  });

  it('is not plain AES-256-GCM under the master key: the per-message key is required', () => {
    const sealed = seal(key, message, id);
    const nonce = sealed.subarray(0, 24);
    // Neither half of the nonce opens it under the key itself.
    for (const gcmNonce of [nonce.subarray(12), nonce.subarray(0, 12)]) {
      const decipher = createDecipheriv('aes-256-gcm', key, gcmNonce);
      decipher.setAAD(id);
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      decipher.update(sealed.subarray(24, sealed.length - 16));
      expect(() => decipher.final()).toThrow();
    }
  });

  it('seals pieces as if they were one plaintext', () => {
    const sealed = seal(key, [message.subarray(0, 5), message.subarray(5)], id);
    expect(open(key, sealed, id)).toEqual(message);
  });

  it('hides equal plaintexts behind different nonces and message keys', () => {
    const a = seal(key, message, id);
    const b = seal(key, message, id);
    expect(a.subarray(0, 12).equals(b.subarray(0, 12))).toBe(false);
    expect(a.subarray(12, 24).equals(b.subarray(12, 24))).toBe(false);
    expect(a.includes(Buffer.from('the body'))).toBe(false);
  });

  it('seals an empty plaintext, with empty associated data too', () => {
    expect(open(key, seal(key, Buffer.alloc(0), id), id)).toEqual(Buffer.alloc(0));
    expect(open(key, seal(key, message, Buffer.alloc(0)), Buffer.alloc(0))).toEqual(message);
  });

  it('detects a change to any byte: key selector, GCM nonce, ciphertext or tag', () => {
    const sealed = seal(key, message, id);
    for (const at of [0, 11, 12, 23, 24, 24 + 7, sealed.length - 16, sealed.length - 1]) {
      const tampered = Buffer.from(sealed);
      tampered[at] = (tampered[at] ?? 0) ^ 0x01;
      expect(() => open(key, tampered, id, 'test object')).toThrow(AuthenticationError);
    }
  });

  it('detects truncation and extension', () => {
    const sealed = seal(key, message, id);
    expect(() => open(key, sealed.subarray(0, sealed.length - 1), id)).toThrow(AuthenticationError);
    expect(() => open(key, Buffer.concat([sealed, Buffer.of(0)]), id)).toThrow(AuthenticationError);
    expect(() => open(key, sealed.subarray(0, SEAL_OVERHEAD - 1), id)).toThrow(AuthenticationError);
    // Exactly the overhead: an empty ciphertext whose tag does not match.
    expect(() => open(key, sealed.subarray(0, SEAL_OVERHEAD), id)).toThrow(AuthenticationError);
  });

  it('refuses the wrong key, naming what failed', () => {
    const sealed = seal(key, message, id);
    expect(() => open(randomBytes(32), sealed, id, 'index 1234')).toThrow(
      /index 1234 failed authentication/,
    );
  });
});

describe('associated data', () => {
  it('binds an item to it: any other associated data fails authentication', () => {
    const sealed = seal(key, message, id);
    const otherId = Buffer.from(id);
    otherId[31] = (otherId[31] ?? 0) ^ 1;
    expect(() => open(key, sealed, otherId, 'object x')).toThrow(AuthenticationError);
    expect(() => open(key, sealed, randomBytes(32))).toThrow(AuthenticationError);
    expect(() => open(key, sealed, Buffer.alloc(0))).toThrow(AuthenticationError);
    expect(() => open(key, sealed, id.subarray(0, 31))).toThrow(AuthenticationError);
    expect(open(key, sealed, Buffer.from(id))).toEqual(message);
  });

  it('labels each kind of file in ASCII, and one kind never opens as another', () => {
    const kinds = ['key', 'pack header', 'index', 'snapshot'] as const;
    expect(kinds.map((kind) => kindLabel(kind).toString('latin1'))).toEqual([
      'mailvault key',
      'mailvault pack header',
      'mailvault index',
      'mailvault snapshot',
    ]);
    expect(kindLabel('pack header')).toEqual(Buffer.from('mailvault pack header', 'ascii'));
    for (const sealedAs of kinds) {
      const sealed = seal(key, message, kindLabel(sealedAs));
      for (const openedAs of kinds) {
        if (openedAs === sealedAs) expect(open(key, sealed, kindLabel(openedAs))).toEqual(message);
        else expect(() => open(key, sealed, kindLabel(openedAs))).toThrow(AuthenticationError);
      }
    }
  });
});
