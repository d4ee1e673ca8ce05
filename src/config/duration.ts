/**
 * Lengths of time in the configuration, such as a command's timeout: a number and a unit, with
 * the units of the command line's ages (`--at 90m`) and of retention (`keepWithin: 30d`): m
 * minutes, h hours, d days, w weeks, and s seconds besides. Months and years have no fixed
 * length, so they are left to retention and dates.
 */
const DURATION = /^(\d+)\s*(s|m|h|H|d|D|w|W)$/;

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  H: 3_600_000,
  d: 86_400_000,
  D: 86_400_000,
  w: 604_800_000,
  W: 604_800_000,
};

/** setTimeout cannot wait longer (about 24.8 days); a longer timer would fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Milliseconds of a duration such as `30m` or `6h`, or null when it is not one. */
export function parseDurationMs(text: string): number | null {
  const match = DURATION.exec(text.trim());
  if (!match) return null;
  return Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN);
}

/**
 * A timeout as configured: a duration, or 0 (with a unit or without) for none. Null when it is
 * neither, or longer than a timer can wait.
 */
export function parseTimeoutMs(value: string | number): number | null {
  if (value === 0 || value === '0') return 0;
  if (typeof value !== 'string') return null;
  const ms = parseDurationMs(value);
  return ms !== null && ms <= MAX_TIMER_MS ? ms : null;
}

/** A command set's timeout, ready for the command runner (which takes 0 for no limit). */
export interface ConfiguredTimeout {
  ms: number;
  /** As written in the configuration: "6h". */
  text: string;
  /** Its key, for messages: "commands[0].timeout". */
  setting: string;
}

/** The timeout of `commands[index]`, as validated when the configuration was loaded. */
export function commandTimeout(
  command: { timeout: string | number },
  index: number,
): ConfiguredTimeout {
  return {
    ms: parseTimeoutMs(command.timeout) ?? 0,
    text: String(command.timeout),
    setting: `commands[${index}].timeout`,
  };
}
