import { Cron } from 'croner';

/**
 * The configuration's `schedule:`: each key names a kind of run (backup, check, forget, prune),
 * its value a cron line of five fields, or six with a leading seconds field. The key `timezone`,
 * if given, is the IANA time zone every line is read in (as cron, the machine's own otherwise).
 */

/** The key of `schedule:` that is a time zone, not a kind of run. */
export const TIMEZONE_KEY = 'timezone';

export interface ScheduledJob {
  kind: string;
  cron: string;
}

export interface Schedule {
  /** The configured zone, or null for the machine's. */
  timezone: string | null;
  jobs: ScheduledJob[];
}

/** A cron line or time zone that cannot be read, naming its key. */
export class ScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleError';
  }
}

export function readSchedule(schedule: Readonly<Record<string, string>> | undefined): Schedule {
  const entries = Object.entries(schedule ?? {});
  return {
    timezone: schedule?.[TIMEZONE_KEY] ?? null,
    jobs: entries
      .filter(([kind]) => kind !== TIMEZONE_KEY)
      .map(([kind, cron]) => ({ kind, cron: cron.trim() })),
  };
}

/** The zone's name as given, or the machine's zone (for saying which one the times are in). */
export function zoneName(timezone: string | null): string {
  return timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** The next `count` moments the job runs after `from`; a bad line or zone throws ScheduleError. */
export function nextRuns(
  job: ScheduledJob,
  timezone: string | null,
  from: Date,
  count: number,
): Date[] {
  if (timezone !== null) checkZone(timezone);
  let cron: Cron;
  try {
    // Five fields, or six with seconds first; croner's seventh (years) is not cron's.
    cron = new Cron(job.cron, {
      paused: true,
      mode: '5-or-6-parts',
      ...(timezone !== null ? { timezone } : {}),
    });
  } catch (error) {
    throw new ScheduleError(
      `schedule.${job.kind}: ${JSON.stringify(job.cron)} is not a cron line (${reason(error)}); use five fields, or six with seconds first, such as "0 1 * * *"`,
    );
  }
  return cron.nextRuns(count, from);
}

function checkZone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new ScheduleError(
      `schedule.${TIMEZONE_KEY}: ${JSON.stringify(timezone)} is not a time zone; use an IANA name such as Europe/Paris or UTC`,
    );
  }
}

function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^CronPattern: /, '');
}
