/**
 * Flags and keywords as mailvault records and compares them: sorted, without \Recent (which says
 * who looked first, not anything about the message, and which no client can set).
 */
export function normalizeFlags(flags: Iterable<string> | undefined): string[] {
  return [...(flags ?? [])].filter((flag) => flag.toLowerCase() !== '\\recent').sort();
}

/** Whether two flag lists name the same flags (system flags and keywords match without case). */
export function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const lower = (flags: readonly string[]): string[] => flags.map((f) => f.toLowerCase()).sort();
  const left = lower(a);
  const right = lower(b);
  return left.every((flag, i) => flag === right[i]);
}
