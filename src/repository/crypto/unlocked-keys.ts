import { createHmac, randomBytes } from 'node:crypto';
import type { MasterKey } from './master-key.js';

/**
 * Master keys a long-lived process has unlocked, so that it derives a passphrase's key (scrypt,
 * a third of a second and 128 MiB at the default cost) once, not once per operation. An entry is
 * found by the key file's name (the SHA-256 of its bytes, so a changed or removed key file is a
 * miss) and the passphrase; the passphrase is not kept, only an HMAC of it under a secret that
 * lives in this process alone. A wrong passphrase is never a hit: it costs the derivation.
 */
export class UnlockedKeys {
  private readonly secret = randomBytes(32);
  private readonly keys = new Map<string, MasterKey>();

  get(keyFile: string, passphrase: string): MasterKey | undefined {
    return this.keys.get(this.entry(keyFile, passphrase));
  }

  set(keyFile: string, passphrase: string, key: MasterKey): void {
    this.keys.set(this.entry(keyFile, passphrase), key);
  }

  private entry(keyFile: string, passphrase: string): string {
    return createHmac('sha256', this.secret).update(`${keyFile}\0${passphrase}`).digest('hex');
  }
}
