/**
 * Which snapshots a retention policy keeps, and why: the decision behind `mailvault forget`,
 * as a pure function so that `forget --dry-run`, the web console and the real run show the
 * same plan, and so that the rules can be tested without a repository.
 *
 * The rules follow restic's `forget --keep-*`: snapshots are planned per group (one source,
 * kind and account name); keepDaily N keeps the newest snapshot of each of the N most recent
 * calendar days that have snapshots, and so on for ISO weeks, months and years. On top of
 * restic, three guards against losing mail: the most recent snapshot of every group is always
 * kept, a policy without any keep rule keeps everything, and an account under legal hold
 * keeps every snapshot.
 *
 * Words: a *period* is a calendar day, ISO week, month or year in the plan's time zone; a
 * *bucket* is one keep-per-period rule with its remaining count.
 */

export interface RetentionPolicy {
  /** Milliseconds: keep every snapshot taken within this long before `now`. */
  keepWithin?: number;
  /** Keep the N most recent snapshots. */
  keepLast?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  /**
   * Account names whose snapshots are never forgotten; `*` matches any run of characters
   * (`*@example.com`); matched against the whole snapshot name, ignoring case.
   */
  legalHold: readonly string[];
}

export interface RetentionCandidate {
  id: string;
  source: string;
  kind: string;
  name: string;
  time: Date;
}

export interface Decision {
  id: string;
  keep: boolean;
  /** Human-readable; a forgotten snapshot has the single reason "no rule keeps it". */
  reasons: string[];
}

export interface GroupPlan {
  source: string;
  kind: string;
  name: string;
  /** Newest first. */
  decisions: Decision[];
}

export interface RetentionOptions {
  now: Date;
  /** IANA name; the process's local zone when absent. */
  timeZone?: string;
}

/** A policy or input that cannot be planned; the message names the setting or snapshot. */
export class RetentionPolicyError extends Error {
  constructor(message: string) {
    super(`retention: ${message}`);
    this.name = 'RetentionPolicyError';
  }
}

export function planRetention(
  snapshots: readonly RetentionCandidate[],
  policy: RetentionPolicy,
  options: RetentionOptions,
): GroupPlan[] {
  const now = validNow(options.now);
  validatePolicy(policy);
  const context: PlanContext = {
    now,
    policy,
    calendar: hasBucketRule(policy) ? calendarIn(options.timeZone) : undefined,
    legalHold: compileLegalHold(policy.legalHold),
  };
  const plans = groupSnapshots(snapshots).map((group) => planGroup(group, context));
  return plans.sort(compareGroups);
}

interface PlanContext {
  now: number;
  policy: RetentionPolicy;
  /** Absent when no rule needs calendar periods, which spares the time-zone work. */
  calendar: Calendar | undefined;
  legalHold: (name: string) => string | undefined;
}

/** Decides for a snapshot at or before `now`, seen newest first; returns a reason to keep it. */
type Rule = (time: number, index: number) => string | undefined;

const NO_RULE_KEEPS_IT = 'no rule keeps it';

function planGroup(group: Timed[], context: PlanContext): GroupPlan {
  const ordered = group.sort(newestFirst);
  const first = (ordered[0] as Timed).snapshot;
  const hold = context.legalHold(first.name);
  const rules = rulesFor(context);
  // Snapshots from the future (clock skew) are kept but take no place in any rule, so one
  // stamped next year cannot push a real snapshot out of its day, week or year.
  const pastStart = firstPastIndex(ordered, context.now);
  const mostRecent = pastStart < ordered.length ? pastStart : 0;
  const decisions = ordered.map(({ snapshot, time }, index) => {
    const reasons: string[] = [];
    if (index < pastStart) reasons.push('in the future');
    if (hold !== undefined) reasons.push(hold);
    if (index === mostRecent) reasons.push('most recent snapshot');
    if (index >= pastStart) reasons.push(...applyRules(rules, time, index - pastStart));
    if (rules.length === 0) reasons.push('no retention rule set');
    const keep = reasons.length > 0;
    return { id: snapshot.id, keep, reasons: keep ? reasons : [NO_RULE_KEEPS_IT] };
  });
  return { source: first.source, kind: first.kind, name: first.name, decisions };
}

function applyRules(rules: readonly Rule[], time: number, index: number): string[] {
  const reasons: string[] = [];
  // Every rule sees every snapshot, even one already kept: each bucket tracks its own periods.
  for (const rule of rules) {
    const reason = rule(time, index);
    if (reason !== undefined) reasons.push(reason);
  }
  return reasons;
}

function rulesFor({ policy, now, calendar }: PlanContext): Rule[] {
  const rules: Rule[] = [];
  const { keepLast, keepWithin } = policy;
  if (isSet(keepLast)) {
    const reason = keepLast === 1 ? 'the last snapshot' : `one of the last ${keepLast} snapshots`;
    rules.push((_time, index) => (index < keepLast ? reason : undefined));
  }
  if (isSet(keepWithin)) {
    const reason =
      keepWithin === Infinity
        ? 'keepWithin is unlimited'
        : `within ${formatDuration(keepWithin)} of now`;
    rules.push((time) => (time > now - keepWithin ? reason : undefined));
  }
  if (calendar === undefined) return rules;
  for (const [setting, label, period] of BUCKETS) {
    const count = policy[setting];
    if (isSet(count)) rules.push(bucketRule(count, label, (time) => calendar(time)[period]));
  }
  return rules;
}

const BUCKETS = [
  ['keepDaily', 'daily', 'day'],
  ['keepWeekly', 'weekly', 'week'],
  ['keepMonthly', 'monthly', 'month'],
  ['keepYearly', 'yearly', 'year'],
] as const;

/** Keeps the first (newest) snapshot of each new period until `count` periods are used. */
function bucketRule(count: number, label: string, periodOf: (time: number) => string): Rule {
  let remaining = count;
  let lastPeriod: string | undefined;
  return (time) => {
    if (remaining <= 0) return undefined;
    const period = periodOf(time);
    if (period === lastPeriod) return undefined;
    lastPeriod = period;
    remaining -= 1;
    return `${label} snapshot for ${period}`;
  };
}

/** A count or duration of 0 means "not set", as in restic and as the config's default. */
function isSet(value: number | undefined): value is number {
  return value !== undefined && value > 0;
}

function hasBucketRule(policy: RetentionPolicy): boolean {
  return BUCKETS.some(([setting]) => isSet(policy[setting]));
}

// ---------------------------------------------------------------------------------------------
// Grouping and ordering

/** A snapshot with its time read once, as sorting would otherwise read it a million times. */
interface Timed {
  snapshot: RetentionCandidate;
  time: number;
}

/**
 * Groups by source, then kind, then name. Nested maps rather than one map keyed by a joined
 * string: the snapshot's own strings keep their hash, where a joined key is built and hashed
 * anew for each of 100,000 snapshots, and no separator can make two groups collide.
 */
function groupSnapshots(snapshots: readonly RetentionCandidate[]): Timed[][] {
  const sources = new Map<string, Map<string, Map<string, Timed[]>>>();
  const groups: Timed[][] = [];
  for (const snapshot of snapshots) {
    const time = snapshot.time.getTime();
    if (Number.isNaN(time)) {
      throw new RetentionPolicyError(`snapshot ${snapshot.id} has an invalid time`);
    }
    const kinds = getOrAdd(sources, snapshot.source, () => new Map());
    const names = getOrAdd(kinds, snapshot.kind, () => new Map());
    const group = getOrAdd(names, snapshot.name, () => {
      const created: Timed[] = [];
      groups.push(created);
      return created;
    });
    group.push({ snapshot, time });
  }
  return groups;
}

function getOrAdd<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}

/** Newest first; equal times by id in code-unit order, so a plan never depends on input order. */
function newestFirst(a: Timed, b: Timed): number {
  return b.time - a.time || compareText(a.snapshot.id, b.snapshot.id);
}

function firstPastIndex(ordered: readonly Timed[], now: number): number {
  const index = ordered.findIndex(({ time }) => time <= now);
  return index === -1 ? ordered.length : index;
}

function compareGroups(a: GroupPlan, b: GroupPlan): number {
  return (
    compareText(a.source, b.source) || compareText(a.kind, b.kind) || compareText(a.name, b.name)
  );
}

/** Code-unit order rather than localeCompare: the same order on every machine and locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Legal hold

/** The legal-hold reason for an account name, or undefined when no pattern matches it. */
export function compileLegalHold(
  patterns: readonly string[],
): (name: string) => string | undefined {
  const matchers = patterns.map((pattern) => ({
    pattern,
    pieces: pattern.toLowerCase().split('*'),
  }));
  return (name) => {
    const lower = name.toLowerCase();
    const match = matchers.find(({ pieces }) => globMatches(pieces, lower));
    return match && `legal hold (${name} matches ${match.pattern})`;
  };
}

/**
 * Whether `text` is the pieces of a glob joined by any runs of characters. Only `*` is special,
 * so the `.` and `+` of mail addresses match themselves. Taking each middle piece at its
 * earliest place is enough for `*`-only globs and never backtracks.
 */
function globMatches(pieces: readonly string[], text: string): boolean {
  const head = pieces[0] ?? '';
  if (pieces.length === 1) return text === head;
  const tail = pieces[pieces.length - 1] ?? '';
  if (!text.startsWith(head) || text.length < head.length + tail.length) return false;
  let from = head.length;
  for (const piece of pieces.slice(1, -1)) {
    const at = text.indexOf(piece, from);
    if (at === -1) return false;
    from = at + piece.length;
  }
  return text.length - tail.length >= from && text.endsWith(tail);
}

// ---------------------------------------------------------------------------------------------
// Calendar periods in a time zone

interface Periods {
  /** 2026-03-05 */
  day: string;
  /** ISO 8601 week of the ISO week-year: 2026-W10 */
  week: string;
  /** 2026-03 */
  month: string;
  /** 2026 */
  year: string;
}

type Calendar = (time: number) => Periods;

const SECOND = 1000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/**
 * The periods of an instant in `timeZone`. Asking Intl for every snapshot costs several
 * microseconds each, too slow for 100,000 snapshots, so this asks for the zone's UTC offset at
 * whole UTC hours only and does the rest with arithmetic. When the offset differs at the two
 * ends of an hour (a DST change inside it) the instant itself is asked for. This assumes that
 * no zone changes its offset twice within one hour, which holds for every zone in tzdb.
 */
function calendarIn(timeZone: string | undefined): Calendar {
  const offsetAt = offsetReader(timeZone);
  const hourOffsets = new Map<number, number>();
  const offsetAtHour = (hour: number): number => {
    let offset = hourOffsets.get(hour);
    if (offset === undefined) {
      offset = offsetAt(hour * HOUR);
      hourOffsets.set(hour, offset);
    }
    return offset;
  };
  let lastTime = Number.NaN;
  let lastPeriods: Periods | undefined;
  return (time) => {
    // The buckets ask for the same snapshot in turn; answer repeats from the last call.
    if (time === lastTime && lastPeriods !== undefined) return lastPeriods;
    const hour = Math.floor(time / HOUR);
    const start = offsetAtHour(hour);
    const offset = start === offsetAtHour(hour + 1) ? start : offsetAt(time);
    lastTime = time;
    lastPeriods = periodsOfWallClock(new Date(time + offset));
    return lastPeriods;
  };
}

/** Milliseconds to add to a UTC instant to get the wall clock of `timeZone` at that instant. */
function offsetReader(timeZone: string | undefined): (time: number) => number {
  const format = zoneFormat(timeZone);
  return (time) => {
    const parts: Record<string, number> = {};
    for (const part of format.formatToParts(time)) parts[part.type] = Number(part.value);
    const wall = new Date(0);
    wall.setUTCFullYear(parts['year'] ?? 0, (parts['month'] ?? 1) - 1, parts['day'] ?? 1);
    wall.setUTCHours(parts['hour'] ?? 0, parts['minute'] ?? 0, parts['second'] ?? 0);
    const wholeSeconds = time - (((time % SECOND) + SECOND) % SECOND);
    return wall.getTime() - wholeSeconds;
  };
}

function zoneFormat(timeZone: string | undefined): Intl.DateTimeFormat {
  try {
    // Gregorian calendar and Latin digits whatever the process's locale, so parts parse.
    return new Intl.DateTimeFormat('en-US-u-ca-gregory-nu-latn', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch (error) {
    if (error instanceof RangeError) {
      throw new RetentionPolicyError(
        `unknown time zone '${timeZone}': use an IANA name such as Europe/Berlin`,
      );
    }
    throw error;
  }
}

/** Periods of a wall-clock date held in a Date's UTC fields. */
function periodsOfWallClock(wall: Date): Periods {
  const year = wall.getUTCFullYear();
  const month = `${pad(year, 4)}-${pad(wall.getUTCMonth() + 1, 2)}`;
  return {
    day: `${month}-${pad(wall.getUTCDate(), 2)}`,
    week: isoWeek(wall),
    month,
    year: pad(year, 4),
  };
}

/**
 * ISO 8601: weeks start on Monday and belong to the week-year of their Thursday, so
 * 2027-01-01 (a Friday) is in 2026-W53 and 2025-12-29 (a Monday) in 2026-W01.
 */
function isoWeek(wall: Date): string {
  const midnight = Math.floor(wall.getTime() / DAY) * DAY;
  const mondayBased = (wall.getUTCDay() + 6) % 7;
  const thursday = new Date(midnight + (3 - mondayBased) * DAY);
  const weekYear = thursday.getUTCFullYear();
  const january1 = new Date(0);
  january1.setUTCFullYear(weekYear, 0, 1);
  const week = Math.floor((thursday.getTime() - january1.getTime()) / (7 * DAY)) + 1;
  return `${pad(weekYear, 4)}-W${pad(week, 2)}`;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

// ---------------------------------------------------------------------------------------------
// Validation and wording

function validNow(now: Date): number {
  const time = now.getTime();
  if (Number.isNaN(time)) throw new RetentionPolicyError('now is an invalid date');
  return time;
}

function validatePolicy(policy: RetentionPolicy): void {
  for (const setting of ['keepLast', ...BUCKETS.map(([name]) => name)] as const) {
    const count = policy[setting];
    // Infinity is allowed: restic's "unlimited", keep one per period however far back.
    if (count !== undefined && !(count >= 0 && (Number.isInteger(count) || count === Infinity))) {
      throw new RetentionPolicyError(
        `${setting} must be a whole number of 0 or more, not ${count}`,
      );
    }
  }
  const within = policy.keepWithin;
  if (within !== undefined && !(within >= 0)) {
    throw new RetentionPolicyError(`keepWithin must be a duration of 0 ms or more, not ${within}`);
  }
}

const UNITS = [
  ['d', DAY],
  ['h', HOUR],
  ['m', 60_000],
  ['s', SECOND],
] as const;

/** The largest unit that divides the duration exactly, as the config writes it: 30d, 36h. */
function formatDuration(ms: number): string {
  const unit = UNITS.find(([, size]) => ms % size === 0);
  return unit ? `${ms / unit[1]}${unit[0]}` : `${ms}ms`;
}
