/**
 * Reads objects out of packs for restores, checks and the catalog, which read many small objects
 * from few packs, mostly in the order they were written: a pack is read whole once and its
 * objects are sliced from memory, least recently used packs dropped first. A pack that was
 * dropped and is needed again (an attachment shared with a much older message) is not read whole
 * again: only the object is, so a scattered reference does not evict the packs in current use.
 */
export interface PackReader {
  whole(name: string): Promise<Buffer>;
  range(name: string, offset: number, length: number): Promise<Buffer>;
}

/** How many dropped packs are remembered as such. */
const DROPPED_MEMORY = 4096;

export class PackCache {
  private readonly packs = new Map<string, Buffer>();
  private readonly loading = new Map<string, Promise<Buffer>>();
  private readonly dropped = new Set<string>();
  private bytes = 0;

  constructor(
    private readonly limitBytes: number,
    private readonly reader: PackReader,
  ) {}

  async read(name: string, offset: number, length: number): Promise<Buffer> {
    const cached = this.packs.get(name);
    if (cached) {
      this.packs.delete(name);
      this.packs.set(name, cached);
      return cached.subarray(offset, offset + length);
    }
    const pending = this.loading.get(name);
    if (pending) return (await pending).subarray(offset, offset + length);
    if (this.dropped.has(name)) return this.reader.range(name, offset, length);
    const load = this.reader.whole(name).finally(() => this.loading.delete(name));
    this.loading.set(name, load);
    const pack = await load;
    this.keep(name, pack);
    return pack.subarray(offset, offset + length);
  }

  /** Forgets what was read of a pack (found damaged): the next read reads it again. */
  forget(name: string): void {
    const pack = this.packs.get(name);
    if (pack) this.bytes -= pack.length;
    this.packs.delete(name);
    this.dropped.delete(name);
  }

  private keep(name: string, pack: Buffer): void {
    this.packs.set(name, pack);
    this.bytes += pack.length;
    for (const [oldest, bytes] of this.packs) {
      if (this.bytes <= this.limitBytes || oldest === name) break;
      this.packs.delete(oldest);
      this.bytes -= bytes.length;
      this.dropped.add(oldest);
      if (this.dropped.size > DROPPED_MEMORY) {
        const first = this.dropped.values().next().value;
        if (first !== undefined) this.dropped.delete(first);
      }
    }
  }
}
