import { z } from 'zod';

/**
 * Numbers in the configuration. YAML reads `1e20`, `.nan`, `-1` and `2.5` as numbers, so each
 * bound is checked with a message that says the range and repeats what was written; zod's own
 * ("Too big: expected int to be <=9007199254740991") names neither.
 */

function shown(input: unknown): string {
  return typeof input === 'number' ? String(input) : (JSON.stringify(input) ?? String(input));
}

/** A whole number from `min` to `max`. */
export function wholeNumber(min: number, max: number) {
  const message = (issue: { input?: unknown }): string =>
    `a whole number from ${min} to ${max}, not ${shown(issue.input)}`;
  return z
    .number({ error: message })
    .refine((value) => Number.isInteger(value) && value >= min && value <= max, {
      error: message,
    });
}

/** A TCP port. */
export const port = z
  .number({ error: (issue) => `a port number from 1 to 65535, not ${shown(issue.input)}` })
  .refine((value) => Number.isInteger(value) && value >= 1 && value <= 65535, {
    error: (issue) => `a port number from 1 to 65535, not ${shown(issue.input)}`,
  });

/** A number of seconds, more than 0 and at most `max` (fractions allowed). */
export function seconds(max: number) {
  const message = (issue: { input?: unknown }): string =>
    `a number of seconds above 0 and at most ${max}, not ${shown(issue.input)}`;
  return z.number({ error: message }).refine((value) => value > 0 && value <= max, {
    error: message,
  });
}
