/**
 * The configuration's `retention:` as the planner's policy. Ages are counted back from `now`:
 * minutes, hours, days and weeks as fixed lengths, months and years by the calendar (UTC), so
 * that `keepWithin: 6M` on 31 August reaches back to 28 or 29 February, not to a 30-day month.
 */
import type { Config } from '../config/schema.js';
import type { RetentionPolicy } from './retention-plan.js';

const FIXED_MS: Readonly<Record<string, number>> = {
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  D: 86_400_000,
  w: 604_800_000,
  W: 604_800_000,
};

/** The moment `age` (such as `30d`, `6M`, `1y`) before `now`. */
export function ageCutoff(age: string, now: Date): Date {
  const match = /^(\d+)([mhdDwWMyY])$/.exec(age.trim());
  if (!match) throw new Error(`${JSON.stringify(age)} is not an age such as 90d, 4w, 6M or 1y`);
  const count = Number(match[1]);
  const unit = match[2] ?? '';
  const fixed = FIXED_MS[unit];
  if (fixed !== undefined) return new Date(now.getTime() - count * fixed);
  const months = unit === 'M' ? count : count * 12;
  const cutoff = new Date(now);
  const day = cutoff.getUTCDate();
  cutoff.setUTCDate(1);
  cutoff.setUTCMonth(cutoff.getUTCMonth() - months);
  // The same day of the month, or the month's last when it is shorter.
  const last = new Date(
    Date.UTC(cutoff.getUTCFullYear(), cutoff.getUTCMonth() + 1, 0),
  ).getUTCDate();
  cutoff.setUTCDate(Math.min(day, last));
  return cutoff;
}

export function retentionPolicy(
  retention: NonNullable<Config['retention']>,
  now: Date,
): RetentionPolicy {
  return {
    ...(retention.keepWithin === undefined
      ? {}
      : { keepWithin: now.getTime() - ageCutoff(retention.keepWithin, now).getTime() }),
    ...(retention.keepLast === undefined ? {} : { keepLast: retention.keepLast }),
    ...(retention.keepDaily === undefined ? {} : { keepDaily: retention.keepDaily }),
    ...(retention.keepWeekly === undefined ? {} : { keepWeekly: retention.keepWeekly }),
    ...(retention.keepMonthly === undefined ? {} : { keepMonthly: retention.keepMonthly }),
    ...(retention.keepYearly === undefined ? {} : { keepYearly: retention.keepYearly }),
    legalHold: retention.legalHold,
  };
}
