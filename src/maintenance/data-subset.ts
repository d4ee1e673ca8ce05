/**
 * `check --read-data-subset P%`: which packs one check reads so that, run after run, every pack
 * is read. Packs are taken in name order from where the last run stopped, wrapping round: a
 * check every night at 10% reads the whole repository every ten nights, and a pack added since
 * (names are hashes, so anywhere in the order) is read within one more round.
 */

/** The percentage of `10%` (or `10`), between 0 (excluded) and 100. */
export function parseSubset(text: string): number {
  const match = /^(\d+(?:\.\d+)?)%?$/.exec(text.trim());
  const percent = match ? Number(match[1]) : Number.NaN;
  if (!(percent > 0 && percent <= 100))
    throw new Error(`--read-data-subset ${JSON.stringify(text)}: give a percentage such as 10%`);
  return percent;
}

/**
 * The packs to read this time, `percent` of them (at least one), starting after `cursor` (the
 * last pack read by the previous run, or null), and the cursor to keep for the next run.
 */
export function nextSlice(
  packs: readonly string[],
  percent: number,
  cursor: string | null,
): { chosen: string[]; cursor: string | null } {
  if (packs.length === 0) return { chosen: [], cursor };
  const sorted = [...packs].sort();
  const count = Math.min(sorted.length, Math.max(1, Math.ceil((sorted.length * percent) / 100)));
  const start = cursor === null ? 0 : sorted.findIndex((name) => name > cursor);
  const first = start < 0 ? 0 : start;
  const chosen = Array.from({ length: count }, (_, i) => sorted[(first + i) % sorted.length] ?? '');
  return { chosen, cursor: chosen.at(-1) ?? cursor };
}
