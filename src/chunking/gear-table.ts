// The gear table decides where chunk boundaries fall. Deriving it from the repository's secret
// means boundaries (and so chunk sizes) reveal nothing an attacker could match against known
// files, which a public table would allow (a known fingerprinting attack on CDC backups).
import { createHmac } from 'node:crypto';

export const GEAR_SEED_LENGTH = 32;

const DOMAIN = 'mailvault gear table v1';

/** 256 pseudo-random 32-bit words: HMAC-SHA-256(seed, domain || counter) for counters 0..31. */
export function createGearTable(seed: Uint8Array): Uint32Array {
  if (seed.length !== GEAR_SEED_LENGTH) {
    throw new RangeError(`gear seed must be ${GEAR_SEED_LENGTH} bytes, got ${seed.length}`);
  }
  const table = new Uint32Array(256);
  const counter = Buffer.alloc(4);
  for (let block = 0; block < 256 / 8; block++) {
    counter.writeUInt32BE(block);
    const digest = createHmac('sha256', seed).update(DOMAIN).update(counter).digest();
    for (let k = 0; k < 8; k++) table[block * 8 + k] = digest.readUInt32BE(k * 4);
  }
  return table;
}
