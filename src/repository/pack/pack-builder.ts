import { createHash } from 'node:crypto';
import { encodePackHeader, type ObjectType, type PackEntry } from './pack-format.js';

/** Collects sealed objects for one pack until it is large enough to write. */
export class PackBuilder {
  private readonly pieces: Buffer[] = [];
  private readonly entries: PackEntry[] = [];
  private bytes = 0;

  get size(): number {
    return this.bytes;
  }

  get objectCount(): number {
    return this.entries.length;
  }

  add(type: ObjectType, id: Buffer, sealed: Buffer, rawLength: number): void {
    this.entries.push({ type, id, offset: this.bytes, length: sealed.length, rawLength });
    this.pieces.push(sealed);
    this.bytes += sealed.length;
  }

  /** The finished pack: its bytes, its name (SHA-256 of the bytes) and its entries. */
  finish(key: Uint8Array): { name: string; bytes: Buffer; entries: PackEntry[] } {
    const bytes = Buffer.concat([...this.pieces, encodePackHeader(key, this.entries)]);
    const name = createHash('sha256').update(bytes).digest('hex');
    return { name, bytes, entries: this.entries };
  }
}
