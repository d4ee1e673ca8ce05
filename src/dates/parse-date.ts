/**
 * The dates of the command line (--at, --from, --to, --after, --before): ISO 8601 with or without
 * a time and an offset (local time when none), `last`, `first`, an age (`90m`, `6h`, `3D`, `2W`,
 * `1M`, `1Y`: that long ago) and `dd/MM/yyyy HH:mm:ss`.
 *
 * A time means the whole of its last unit: as an end (--at, --to) a bare day is the day's last
 * moment, a minute its last second, a second its last millisecond; as a start (--from, --after,
 * --before) the unit's first moment. So `--at 2026-11-03` is "as it was on the 3rd", and a time
 * printed to the second (`2026-11-20 14:30:05`, as `snapshots` shows a snapshot taken at
 * 14:30:05.250) means that snapshot again.
 */
export type DateSpec = { kind: 'first' } | { kind: 'last' } | { kind: 'time'; time: Date };

export type DateRole = 'start' | 'end';

export class DateError extends Error {
  constructor(option: string, text: string, reason?: string) {
    super(
      reason
        ? `${option}: cannot use the date '${text}': ${reason}`
        : `${option}: cannot read the date '${text}': use ISO 8601 (2026-11-20, 2026-11-20T14:30, 2026-11-20T14:30+01:00), ` +
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
  if (age) {
    const time = subtractAge(now, Number(age[1]), age[2] ?? '');
    // Dates end about 270,000 years before 1970: an age past that has no date to compare with.
    if (Number.isNaN(time.getTime()))
      throw new DateError(option, text, 'that long ago is before any date there can be');
    return { kind: 'time', time };
  }

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
  const start = [hour ?? 0, minute ?? 0, second ?? 0, milliseconds(fraction)];
  const [h, mi, s, milli] = (
    role === 'end' ? lastMoment(start, hour, second, fraction) : start
  ) as [number, number, number, number];
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

/** Whole milliseconds of a fraction of a second ("25" is 250; digits past the third are cut). */
function milliseconds(fraction: string | undefined): number {
  return fraction ? Number(fraction.slice(0, 3).padEnd(3, '0')) : 0;
}

/** The last millisecond of the unit the text was given to: a day, a minute, a second, or less. */
function lastMoment(
  start: number[],
  hour: number | undefined,
  second: number | undefined,
  fraction: string | undefined,
): number[] {
  const [h = 0, mi = 0, s = 0, ms = 0] = start;
  if (hour === undefined) return [23, 59, 59, 999];
  if (second === undefined) return [h, mi, 59, 999];
  if (fraction === undefined) return [h, mi, s, 999];
  // A tenth or a hundredth: its last millisecond.
  return fraction.length >= 3 ? [h, mi, s, ms] : [h, mi, s, ms + 10 ** (3 - fraction.length) - 1];
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
