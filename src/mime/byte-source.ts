// Random access to a message's bytes, whether they are in memory or in a spool file too large to
// read whole: the splitter walks either through this one interface, so a message laid out from a
// file has exactly the layout it has in memory.

export interface ByteSource {
  readonly length: number;
  /** The byte at `at`, or undefined outside the source. */
  byteAt(at: number): number | undefined;
  /** The first offset at or after `from` where `needle` lies wholly before `end`, or -1. */
  indexOf(needle: Uint8Array | number, from: number, end: number): number;
  /**
   * The bytes in [start, end): a view where the source is in memory, a fresh buffer or a view of
   * a fresh page otherwise (never reused, so a caller may keep it).
   */
  bytes(start: number, end: number): Buffer;
  /** True when bytes() returns views of one buffer holding the whole message. */
  readonly inMemory: boolean;
}

export class BufferSource implements ByteSource {
  readonly inMemory = true;

  constructor(private readonly buf: Buffer) {}

  get length(): number {
    return this.buf.length;
  }

  byteAt(at: number): number | undefined {
    return this.buf[at];
  }

  indexOf(needle: Uint8Array | number, from: number, end: number): number {
    if (end >= this.buf.length) return this.buf.indexOf(needle, from);
    if (typeof needle === 'number') {
      // A line break is near in mail: searching on past `end` costs less than a view per call.
      const found = this.buf.indexOf(needle, from);
      return found < end ? found : -1;
    }
    return this.buf.subarray(0, Math.max(0, end)).indexOf(needle, from);
  }

  bytes(start: number, end: number): Buffer {
    return this.buf.subarray(start, end);
  }
}

/** Reads `length` bytes at `offset` (fewer only at the end of the source) into a fresh buffer. */
export type ReadAt = (offset: number, length: number) => Buffer;

/** Pages kept: the splitter looks back a little (a line break before a boundary), never far. */
const CACHED_PAGES = 4;
export const DEFAULT_PAGE_SIZE = 256 * 1024;

/**
 * A source read page by page through `read`, keeping only a few pages: what a message of any size
 * costs in memory is a handful of pages, not the message.
 */
export class PagedSource implements ByteSource {
  readonly inMemory = false;
  private readonly pages = new Map<number, Buffer>();

  constructor(
    readonly length: number,
    private readonly read: ReadAt,
    private readonly pageSize = DEFAULT_PAGE_SIZE,
  ) {}

  private page(index: number): Buffer {
    let page = this.pages.get(index);
    if (page) {
      // Most recently used last, so the oldest page goes first.
      this.pages.delete(index);
      this.pages.set(index, page);
      return page;
    }
    const start = index * this.pageSize;
    page = this.read(start, Math.min(this.pageSize, this.length - start));
    this.pages.set(index, page);
    if (this.pages.size > CACHED_PAGES) {
      const oldest = this.pages.keys().next().value as number;
      this.pages.delete(oldest);
    }
    return page;
  }

  byteAt(at: number): number | undefined {
    if (!(at >= 0 && at < this.length)) return undefined;
    const index = Math.floor(at / this.pageSize);
    return this.page(index)[at - index * this.pageSize];
  }

  indexOf(needle: Uint8Array | number, from: number, end: number): number {
    const stop = Math.min(end, this.length);
    const width = typeof needle === 'number' ? 1 : needle.length;
    if (width === 0) return from <= stop ? Math.max(0, from) : -1;
    let at = Math.max(0, from);
    while (at + width <= stop) {
      const index = Math.floor(at / this.pageSize);
      const pageStart = index * this.pageSize;
      const pageStop = Math.min(pageStart + this.pageSize, stop);
      const page = this.page(index).subarray(0, pageStop - pageStart);
      const found = page.indexOf(needle, at - pageStart);
      if (found >= 0) return pageStart + found;
      // A needle that starts in this page and ends in the next.
      if (width > 1 && pageStop < stop) {
        const near = Math.max(at, pageStop - width + 1);
        const across = this.bytes(near, Math.min(stop, pageStop + width - 1)).indexOf(needle);
        if (across >= 0) return near + across;
      }
      at = pageStop;
    }
    return -1;
  }

  bytes(start: number, end: number): Buffer {
    const from = Math.max(0, start);
    const to = Math.min(end, this.length);
    if (to <= from) return Buffer.alloc(0);
    const first = Math.floor(from / this.pageSize);
    const last = Math.floor((to - 1) / this.pageSize);
    if (first === last) {
      const base = first * this.pageSize;
      return this.page(first).subarray(from - base, to - base);
    }
    // Spanning pages: read directly, so a long range does not push out the pages in use.
    return this.read(from, to - from);
  }
}
