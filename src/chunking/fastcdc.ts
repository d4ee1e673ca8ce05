// Content-defined chunking after FastCDC (Xia et al., 2016/2020): a gear rolling hash, cut-point
// skipping below minSize and normalized chunking (a stricter mask before avgSize, a looser one
// after), so that an insertion only changes the chunks around it.
export { createGearTable } from './gear-table.js';

export interface ChunkerParams {
  minSize: number;
  /** A power of two. */
  avgSize: number;
  maxSize: number;
}

export const DEFAULT_CHUNKER_PARAMS: ChunkerParams = Object.freeze({
  minSize: 32 * 1024,
  avgSize: 128 * 1024,
  maxSize: 1024 * 1024,
});

/** Each step shifts the hash left once, so after 32 bytes older bytes no longer count. */
const WINDOW = 32;

/** Normalization level 2: the masks have log2(avgSize) ± 2 bits. */
const NORMALIZATION = 2;

/** Where a boundary search stands in the current chunk, for input that arrives in pieces. */
export interface ScanState {
  /** Bytes of the current chunk already scanned. */
  length: number;
  hash: number;
}

/** A mask of the `bits` high bits: those depend on the most recent bytes of the window. */
function highBits(bits: number): number {
  return -1 << (32 - bits);
}

/**
 * The largest chunk a chunker may cut: each chunk is held whole in memory while it is stored, so
 * this bounds a backup's memory whatever a repository's config asks for (the default cuts at 1 MiB).
 */
export const MAX_CHUNK_SIZE = 2 ** 24;

/** Why these sizes cannot drive a chunker, or null when they can. */
export function chunkerParamsProblem(params: unknown): string | null {
  const { minSize, avgSize, maxSize } = (params ?? {}) as Partial<Record<string, unknown>>;
  const sizes = [minSize, avgSize, maxSize];
  const bits = Math.log2(Number(avgSize));
  const ok =
    sizes.every((size) => Number.isSafeInteger(size)) &&
    Number.isInteger(bits) &&
    bits - NORMALIZATION >= 1 &&
    bits + NORMALIZATION <= 31 &&
    Number(minSize) >= 1 &&
    Number(minSize) <= Number(avgSize) &&
    Number(avgSize) <= Number(maxSize) &&
    Number(maxSize) <= MAX_CHUNK_SIZE;
  if (ok) return null;
  return (
    `invalid chunker parameters ${JSON.stringify(params ?? null)}: ` +
    `need whole numbers 1 <= minSize <= avgSize <= maxSize <= ${MAX_CHUNK_SIZE} (16 MiB) with avgSize a power of two`
  );
}

function checkParams(params: ChunkerParams): void {
  const problem = chunkerParamsProblem(params);
  if (problem !== null) throw new RangeError(problem);
}

export class Chunker {
  readonly params: ChunkerParams;
  // Signed copy of the table: V8 keeps int32 values unboxed, while uint32 above 2^31 are doubles.
  private readonly gear: Int32Array;
  private readonly maskSmall: number;
  private readonly maskLarge: number;

  constructor(gear: Uint32Array, params: ChunkerParams = DEFAULT_CHUNKER_PARAMS) {
    if (gear.length !== 256) throw new RangeError(`gear table must have 256 entries`);
    checkParams(params);
    this.params = { ...params };
    this.gear = new Int32Array(gear);
    const bits = Math.log2(params.avgSize);
    this.maskSmall = highBits(bits + NORMALIZATION);
    this.maskLarge = highBits(bits - NORMALIZATION);
  }

  /** Splits `data` into chunks (subarrays of it) that cover it exactly; none for empty data. */
  split(data: Uint8Array): Uint8Array[] {
    const chunks: Uint8Array[] = [];
    let start = 0;
    while (start < data.length) {
      const cut = this.scan(data, start, { length: 0, hash: 0 });
      const end = cut < 0 ? data.length : cut;
      chunks.push(data.subarray(start, end));
      start = end;
    }
    return chunks;
  }

  /**
   * Scans data[from..] as the continuation of a chunk `state.length` bytes long. Returns the
   * offset in `data` just past the chunk's end, or -1 when the data runs out first (`state` is
   * then updated so the next piece of input resumes the same search). A decision depends only
   * on the chunk's own bytes, which is what makes streaming give the same chunks as split().
   */
  scan(data: Uint8Array, from: number, state: ScanState): number {
    const { minSize, avgSize, maxSize } = this.params;
    const gear = this.gear;
    const n = data.length;
    const base = from - state.length;
    let h = state.hash;
    // Bytes more than a window before the first allowed cut cannot influence it: skip them.
    let i = Math.max(from, base + minSize - WINDOW);
    let stop = Math.min(n, base + minSize - 1);
    for (; i < stop; i++) h = ((h << 1) + (gear[data[i] as number] as number)) | 0;
    stop = Math.min(n, base + avgSize - 1);
    let mask = this.maskSmall;
    for (; i < stop; i++) {
      h = ((h << 1) + (gear[data[i] as number] as number)) | 0;
      if ((h & mask) === 0) return i + 1;
    }
    stop = Math.min(n, base + maxSize - 1);
    mask = this.maskLarge;
    for (; i < stop; i++) {
      h = ((h << 1) + (gear[data[i] as number] as number)) | 0;
      if ((h & mask) === 0) return i + 1;
    }
    if (n >= base + maxSize) return base + maxSize;
    state.length = n - base;
    state.hash = h;
    return -1;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  return Buffer.concat(parts);
}

/**
 * Chunks an unbounded stream exactly as split() would chunk its concatenation, holding at most
 * one chunk's worth of earlier input plus the current input. Chunks lying within one input
 * are views of it, so the source must not reuse its buffers (Node streams do not).
 */
export async function* chunkStream(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  chunker: Chunker,
): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array[] = [];
  let state: ScanState = { length: 0, hash: 0 };
  for await (const input of source) {
    let from = 0;
    for (;;) {
      const cut = chunker.scan(input, from, state);
      if (cut < 0) break;
      pending.push(input.subarray(from, cut));
      yield concat(pending);
      pending = [];
      state = { length: 0, hash: 0 };
      from = cut;
    }
    // Copied (Buffer#slice would not copy), so a large input is not kept alive for its last bytes.
    if (from < input.length) pending.push(new Uint8Array(input.subarray(from)));
  }
  if (pending.length > 0) yield concat(pending);
}
