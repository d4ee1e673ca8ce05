import { parseDate, type DateRole, type DateSpec } from './parse-date.js';

/**
 * What `--at` names: a moment (see parse-date.ts), or one snapshot by its id, whole or a prefix
 * of it such as `snapshots` and `ls` print.
 */
export type AtSpec = DateSpec | { kind: 'snapshot'; id: string };

/**
 * 8 to 64 hexadecimal digits. No date is written so; an age is digits and a unit, and the only
 * ages that are also hexadecimal (days, `d`) would be of ten thousand years and more at 8
 * characters, so such text is taken for an id.
 */
const SNAPSHOT_ID = /^[0-9a-f]{8,64}$/i;

export function parseAt(
  text: string,
  option = '--at',
  role: DateRole = 'end',
  now = new Date(),
): AtSpec {
  const value = text.trim();
  if (SNAPSHOT_ID.test(value)) return { kind: 'snapshot', id: value.toLowerCase() };
  return parseDate(value, option, role, now);
}
