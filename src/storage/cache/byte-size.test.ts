import { describe, expect, it } from 'vitest';
import { parseByteSize } from './byte-size.js';

describe('parseByteSize', () => {
  it('reads bytes and binary units, however written', () => {
    expect(parseByteSize('0')).toBe(0);
    expect(parseByteSize(4096)).toBe(4096);
    expect(parseByteSize('512B')).toBe(512);
    expect(parseByteSize('10G')).toBe(10 * 2 ** 30);
    expect(parseByteSize('10GiB')).toBe(10 * 2 ** 30);
    expect(parseByteSize('10 GB')).toBe(10 * 2 ** 30);
    expect(parseByteSize('500m')).toBe(500 * 2 ** 20);
    expect(parseByteSize('2T')).toBe(2 * 2 ** 40);
  });

  it('refuses what is not a size', () => {
    expect(parseByteSize('ten gigabytes')).toBeNull();
    expect(parseByteSize('1.5G')).toBeNull();
    expect(parseByteSize('-1')).toBeNull();
    expect(parseByteSize(-1)).toBeNull();
    expect(parseByteSize('10P')).toBeNull();
  });
});
