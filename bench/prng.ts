// A small, fast, seeded pseudo-random generator (sfc32) for the benchmark's data: the same seed
// gives the same mail on every machine, so runs compare.

/** Mixes a seed and a stream number into four 32-bit words (splitmix32). */
function seedWords(seed: number, stream: number): [number, number, number, number] {
  let state = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
  const next = (): number => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  return [next(), next(), next(), next()];
}

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `stream` picks an independent sequence for the same seed (e.g. one per message). */
  constructor(seed: number, stream = 0) {
    [this.a, this.b, this.c, this.d] = seedWords(seed, stream);
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uniform unsigned 32-bit integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.float() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** An index drawn with the given (not necessarily normalised) weights. */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let x = this.float() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i] ?? 0;
      if (x < 0) return i;
    }
    return weights.length - 1;
  }

  /** Log-uniform in [min, max]: many small values, a long tail of large ones. */
  logUniform(min: number, max: number): number {
    return Math.round(Math.exp(Math.log(min) + this.float() * (Math.log(max) - Math.log(min))));
  }

  hex(length: number): string {
    let out = '';
    while (out.length < length) out += this.u32().toString(16).padStart(8, '0');
    return out.slice(0, length);
  }

  /** Fills `buffer` with pseudo-random bytes (incompressible, like JPEG or ZIP content). */
  fill(buffer: Buffer): Buffer {
    const aligned = buffer.byteOffset % 4 === 0;
    const words = aligned ? Math.floor(buffer.length / 4) : 0;
    if (words > 0) {
      const view = new Int32Array(buffer.buffer, buffer.byteOffset, words);
      let { a, b, c, d } = this;
      for (let i = 0; i < words; i++) {
        const t = (((a + b) | 0) + d) | 0;
        d = (d + 1) | 0;
        a = b ^ (b >>> 9);
        b = (c + (c << 3)) | 0;
        c = (c << 21) | (c >>> 11);
        c = (c + t) | 0;
        view[i] = t;
      }
      this.a = a;
      this.b = b;
      this.c = c;
      this.d = d;
    }
    for (let i = words * 4; i < buffer.length; i++) buffer[i] = this.u32() & 0xff;
    return buffer;
  }
}
