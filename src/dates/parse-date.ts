/**
 * The dates of the command line (--at, --from, --to, --after, --before): ISO 8601 with or without
 * a time and an offset (local time when none), `last`, `first`, an age (`90m`, `6h`, `3D`, `2W`,
 * `1M`, `1Y`: that long ago) and `dd/MM/yyyy HH:mm:ss`.
 *
 * A bare day means a whole day: as an end (--at, --to, --before) it is the day's last moment,
 * as a start (--from, --after) its first, so `--at 2026-11-03` is "as it was on the 3rd".
 */
export type DateSpec = { kind: 'first' } | { kind: 'last' } | { kind: 'time'; time: Date };

export type DateRole = 'start' | 'end';

export class DateError extends Error {
  constructor(option: string, text: string) {
    super(
      `${option}: cannot read the date '${text}': use ISO 8601 (2026-11-20, 2026-11-20T14:30, 2026-11-20T14:30+01:00), ` +
        `last, first, an age such as 90m, 6h, 3D, 2W, 1M, 1Y, or dd/MM/yyyy HH:mm:ss`,
    );
    this.name = 'DateError';
  }
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
const DMY = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;
const AGE = /^(\d+)\s*(m|h|H|d|D|w|W|M|y|Y)$/;

export function parseDate(
  text: string,
  option = 'date',
  role: DateRole = 'end',
  now = new Date(),
): DateSpec {
  const value = text.trim();
  const lower = value.toLowerCase();
  if (lower === 'last' || lower === 'now') return { kind: 'last' };
  if (lower === 'first') return { kind: 'first' };

  const age = AGE.exec(value);
  if (age) return { kind: 'time', time: subtractAge(now, Number(age[1]), age[2] ?? '') };

  const iso = ISO.exec(value);
  if (iso) {
    const [, y, mo, d, h, mi, s, frac, zone] = iso;
    const time = build(option, text, role, [y, mo, d, h, mi, s], frac, zone);
    return { kind: 'time', time };
  }
  const dmy = DMY.exec(value);
  if (dmy) {
    const [, d, mo, y, h, mi, s] = dmy;
    return {
      kind: 'time',
      time: build(option, text, role, [y, mo, d, h, mi, s], undefined, undefined),
    };
  }
  throw new DateError(option, text);
}

function build(
  option: string,
  text: string,
  role: DateRole,
  parts: Array<string | undefined>,
  fraction: string | undefined,
  zone: string | undefined,
): Date {
  const [year, month, day, hour, minute, second] = parts.map((part) =>
    part === undefined ? undefined : Number(part),
  );
  if (year === undefined || month === undefined || day === undefined)
    throw new DateError(option, text);
  const dayOnly = hour === undefined;
  const ms = fraction ? Math.floor(Number(`0.${fraction}`) * 1000) : 0;
  const fields =
    dayOnly && role === 'end' ? [23, 59, 59, 999] : [hour ?? 0, minute ?? 0, second ?? 0, ms];
  const [h, mi, s, milli] = fields as [number, number, number, number];
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysIn(year, month) ||
    h > 23 ||
    mi > 59 ||
    s > 59
  ) {
    throw new DateError(option, text);
  }
  if (zone === undefined) return new Date(year, month - 1, day, h, mi, s, milli);
  let offset = 0;
  if (zone.toUpperCase() !== 'Z') {
    const digits = zone.replace(':', '');
    offset =
      (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5))) *
      (digits.startsWith('-') ? -1 : 1);
  }
  return new Date(Date.UTC(year, month - 1, day, h, mi, s, milli) - offset * 60_000);
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function subtractAge(now: Date, amount: number, unit: string): Date {
  const time = new Date(now.getTime());
  switch (unit) {
    case 'm':
      return new Date(time.getTime() - amount * 60_000);
    case 'h':
    case 'H':
      return new Date(time.getTime() - amount * 3_600_000);
    case 'd':
    case 'D':
      time.setDate(time.getDate() - amount);
      return time;
    case 'w':
    case 'W':
      time.setDate(time.getDate() - 7 * amount);
      return time;
    case 'M':
      time.setMonth(time.getMonth() - amount);
      return time;
    default:
      time.setFullYear(time.getFullYear() - amount);
      return time;
  }
}
