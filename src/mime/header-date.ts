// RFC 5322 dates, including the obsolete forms real mail still carries (two-digit years, zone
// names, missing seconds, comments). Anything else is refused rather than guessed at.

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** Offsets in minutes; RFC 5322 4.3 says unknown and military zones mean "no information" (UTC). */
const ZONES: Record<string, number> = {
  ut: 0,
  utc: 0,
  gmt: 0,
  z: 0,
  est: -300,
  edt: -240,
  cst: -360,
  cdt: -300,
  mst: -420,
  mdt: -360,
  pst: -480,
  pdt: -420,
};

const RFC5322 =
  /^(?:[a-z]+\s*,?\s*)?(\d{1,2})\s*[-\s]?\s*([a-z]{3,})\.?\s*[-\s]?\s*(\d{2,4})\s*,?\s+(\d{1,2})\s*:\s*(\d{1,2})(?:\s*:\s*(\d{1,2}))?(?:\.\d+)?\s*([+-]\s*\d{1,2}:?\d{2}|[a-z]+)?/i;

/** asctime(), as written by some old MTAs: `Tue Jul  1 10:52:37 2003`. */
const ASCTIME = /^[a-z]{3}\s+([a-z]{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})\s+(\d{4})/i;

function zoneOffset(zone: string | undefined): number {
  if (!zone) return 0;
  const numeric = /^([+-])\s*(\d{1,2}):?(\d{2})$/.exec(zone);
  if (numeric) {
    const minutes = Number(numeric[2]) * 60 + Number(numeric[3]);
    return numeric[1] === '-' ? -minutes : minutes;
  }
  return ZONES[zone.toLowerCase()] ?? 0;
}

function toIso(
  year: number,
  monthName: string,
  day: number,
  hour: number,
  minute: number,
  second: number,
  offsetMinutes: number,
): string | null {
  const month = MONTHS.indexOf(monthName.slice(0, 3).toLowerCase());
  if (month < 0 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  if (year < 1900 || year > 9999 || Math.abs(offsetMinutes) > 18 * 60) return null;
  const local = Date.UTC(year, month, day, hour, minute, Math.min(second, 59));
  // Date.UTC rolls 31 Feb over into March; such a date is broken, not a different day.
  if (new Date(local).getUTCDate() !== day) return null;
  return new Date(local - offsetMinutes * 60_000).toISOString();
}

function fullYear(digits: string): number {
  const year = Number(digits);
  if (digits.length === 2) return year < 50 ? 2000 + year : 1900 + year;
  if (digits.length === 3) return 1900 + year;
  return year;
}

/** ISO 8601 UTC for a Date header value, or null when it is not a recognisable date. */
export function parseHeaderDate(value: string): string | null {
  const text = value
    .replace(/\([^()]*\)/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const m = RFC5322.exec(text);
  if (m) {
    const [, day, month, year, hour, minute, second, zone] = m;
    return toIso(
      fullYear(year ?? ''),
      month ?? '',
      Number(day),
      Number(hour),
      Number(minute),
      Number(second ?? 0),
      zoneOffset(zone),
    );
  }
  const a = ASCTIME.exec(text);
  if (a) {
    const [, month, day, hour, minute, second, year] = a;
    return toIso(
      Number(year),
      month ?? '',
      Number(day),
      Number(hour),
      Number(minute),
      Number(second),
      0,
    );
  }
  // ISO 8601, as some scripts write it; Date.parse is exact for this form.
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/i.test(text)) {
    // Without a zone Date.parse would use the local one; mail dates default to UTC.
    const time = Date.parse(/(Z|[+-]\d{2}:\d{2})$/i.test(text) ? text : `${text}Z`);
    if (Number.isFinite(time)) return new Date(time).toISOString();
  }
  return null;
}
