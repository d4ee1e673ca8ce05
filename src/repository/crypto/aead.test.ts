import { createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  NONCE_LENGTH,
  SEAL_OVERHEAD,
  TAG_LENGTH,
  open,
  seal,
} from './aead.js';

const key = randomBytes(32);
const message = Buffer.from('Subject: hello\r\n\r\nthe body of a message\r\n');

describe('seal and open', () => {
  it('gives back the plaintext, sealed as nonce | ciphertext | tag', () => {
    const sealed = seal(key, message);
    expect(sealed.length).toBe(message.length + SEAL_OVERHEAD);
    expect(open(key, sealed)).toEqual(message);
    // The documented layout, decrypted with plain AES-256-GCM as an independent reader would.
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_LENGTH));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
    const plain = Buffer.concat([
      decipher.update(sealed.subarray(NONCE_LENGTH, sealed.length - TAG_LENGTH)),
      decipher.final(),
    ]);
    expect(plain).toEqual(message);
  });

  it('seals pieces as if they were one plaintext', () => {
    const sealed = seal(key, [message.subarray(0, 5), message.subarray(5)]);
    expect(open(key, sealed)).toEqual(message);
  });

  it('hides equal plaintexts behind different nonces', () => {
    const a = seal(key, message);
    const b = seal(key, message);
    expect(a.subarray(0, NONCE_LENGTH).equals(b.subarray(0, NONCE_LENGTH))).toBe(false);
    expect(a.includes(Buffer.from('the body'))).toBe(false);
  });

  it('seals an empty plaintext', () => {
    expect(open(key, seal(key, Buffer.alloc(0)))).toEqual(Buffer.alloc(0));
  });

  it('detects a change to any byte: nonce, ciphertext or tag', () => {
    const sealed = seal(key, message);
    for (const at of [0, NONCE_LENGTH - 1, NONCE_LENGTH, NONCE_LENGTH + 7, sealed.length - 1]) {
      const tampered = Buffer.from(sealed);
      tampered[at] = (tampered[at] ?? 0) ^ 0x01;
      expect(() => open(key, tampered, 'test object')).toThrow(AuthenticationError);
    }
  });

  it('detects truncation and extension', () => {
    const sealed = seal(key, message);
    expect(() => open(key, sealed.subarray(0, sealed.length - 1))).toThrow(AuthenticationError);
    expect(() => open(key, Buffer.concat([sealed, Buffer.of(0)]))).toThrow(AuthenticationError);
    expect(() => open(key, sealed.subarray(0, SEAL_OVERHEAD - 1))).toThrow(AuthenticationError);
  });

  it('refuses the wrong key, naming what failed', () => {
    const sealed = seal(key, message);
    expect(() => open(randomBytes(32), sealed, 'index 1234')).toThrow(
      /index 1234 failed authentication/,
    );
  });
});
