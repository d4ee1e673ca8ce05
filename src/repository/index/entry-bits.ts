/**
 * One bit per entry of an ObjectIndex (its entry numbers, 0..size-1): what a walk over every
 * snapshot marks (prune's "needed", the trees already read) without a set of hex ids, an eighth
 * of a byte an object. Grows on demand, so an index that grows while it is used is no trouble.
 */
export class EntryBits {
  private bits: Uint8Array;

  constructor(entries = 0) {
    this.bits = new Uint8Array(Math.ceil(entries / 8));
  }

  has(entry: number): boolean {
    return entry >= 0 && ((this.bits[entry >> 3] ?? 0) & (1 << (entry & 7))) !== 0;
  }

  add(entry: number): void {
    if (entry < 0) return;
    if (entry >= this.bits.length * 8) {
      const grown = new Uint8Array(Math.max(Math.ceil((entry + 1) / 8), this.bits.length * 2));
      grown.set(this.bits);
      this.bits = grown;
    }
    this.bits[entry >> 3] = (this.bits[entry >> 3] ?? 0) | (1 << (entry & 7));
  }

  /** Forgets every bit (the index's entries were numbered again). */
  clear(): void {
    this.bits = new Uint8Array(0);
  }
}
