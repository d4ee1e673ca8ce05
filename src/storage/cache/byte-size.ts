/**
 * Sizes in the configuration: a whole number of bytes, or one with a unit, K, M, G or T (each
 * 1024 times the last), written `20G`, `20GiB` or `20 GB` alike: a disk's free space is read in
 * the units `df -h` prints, and those are binary.
 */
const SIZE = /^(\d+)\s*(?:([KMGT])(?:i?B)?|B)?$/i;

const POWER: Readonly<Record<string, number>> = { K: 1, M: 2, G: 3, T: 4 };

/** The number of bytes, or null when the text is not a size. */
export function parseByteSize(value: string | number): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : null;
  const match = SIZE.exec(value.trim());
  if (!match) return null;
  const unit = match[2]?.toUpperCase();
  const bytes = Number(match[1]) * 1024 ** (unit ? (POWER[unit] ?? 0) : 0);
  return Number.isSafeInteger(bytes) ? bytes : null;
}
