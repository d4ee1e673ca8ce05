import { describe, expect, it } from 'vitest';
import {
  planRetention,
  RetentionPolicyError,
  type GroupPlan,
  type RetentionCandidate,
  type RetentionPolicy,
} from './retention-plan.js';

const DAY = 86_400_000;
const ALICE = 'alice@example.com';

const policy = (rules: Partial<RetentionPolicy>): RetentionPolicy => ({ legalHold: [], ...rules });

/** A snapshot whose id is its time, so expectations read as dates. */
const snap = (iso: string, name = ALICE, id = iso): RetentionCandidate => ({
  id,
  source: 'imap',
  kind: 'account',
  name,
  time: new Date(iso),
});

/** The one group of a plan over snapshots of a single account. */
const only = (plans: GroupPlan[]): GroupPlan => {
  expect(plans).toHaveLength(1);
  return plans[0] as GroupPlan;
};

const keptIds = (plan: GroupPlan): string[] =>
  plan.decisions.filter((decision) => decision.keep).map((decision) => decision.id);

const reasonsOf = (plan: GroupPlan, id: string): string[] | undefined =>
  plan.decisions.find((decision) => decision.id === id)?.reasons;

/** Deterministic shuffle, so no test passes only because the input was already in order. */
const shuffled = <T>(items: readonly T[]): T[] => {
  const copy = [...items];
  let seed = 42;
  for (let i = copy.length - 1; i > 0; i--) {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    const j = seed % (i + 1);
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
};

describe('planRetention over two years of daily snapshots', () => {
  // One snapshot at 12:00 UTC every day of 2025 and 2026 (730 days), ids like 2026-12-31T12,
  // plus extra ones at 06:00 and 18:00 on some days. Expectations below are worked out by hand
  // from the calendar: 2026-12-31 is a Thursday in ISO week 2026-W53 (Mon 28 Dec to Sun 3 Jan).
  const series: RetentionCandidate[] = [];
  for (let day = 0; day < 730; day++) {
    const iso = new Date(Date.UTC(2025, 0, 1, 12) + day * DAY).toISOString();
    series.push(snap(iso, ALICE, iso.slice(0, 13)));
  }
  for (const extra of ['2026-12-31T06', '2026-12-31T18', '2026-12-30T18', '2026-06-15T18']) {
    series.push(snap(`${extra}:00:00Z`, ALICE, extra));
  }
  const input = shuffled(series);

  it('has the days the expectations assume', () => {
    expect(series).toHaveLength(734);
    expect(series[729]?.id).toBe('2026-12-31T12');
  });

  it('keeps the newest of each of the last 7 days, 4 ISO weeks, 12 months and 3 years', () => {
    const plan = only(
      planRetention(
        input,
        policy({ keepDaily: 7, keepWeekly: 4, keepMonthly: 12, keepYearly: 3 }),
        { now: new Date('2027-01-01T00:00:00Z'), timeZone: 'UTC' },
      ),
    );
    const daily = ['2026-12-31T18', '2026-12-30T18', '2026-12-29T12', '2026-12-28T12'];
    daily.push('2026-12-27T12', '2026-12-26T12', '2026-12-25T12');
    // Weeks 53 and 52 are already kept as days; weeks 51 and 50 end on Sundays 20 and 13 Dec.
    const weekly = ['2026-12-20T12', '2026-12-13T12'];
    const monthly = ['11-30', '10-31', '09-30', '08-31', '07-31', '06-30', '05-31', '04-30']
      .concat(['03-31', '02-28', '01-31'])
      .map((day) => `2026-${day}T12`);
    // Only two years have snapshots, so keepYearly 3 keeps two: 2026's newest and 2025's.
    const yearly = ['2025-12-31T12'];
    expect(keptIds(plan)).toEqual([...daily, ...weekly, ...monthly, ...yearly]);
    expect(plan.decisions).toHaveLength(734);
    expect(plan.decisions.filter((decision) => !decision.keep)).toHaveLength(734 - 21);

    expect(reasonsOf(plan, '2026-12-31T18')).toEqual([
      'most recent snapshot',
      'daily snapshot for 2026-12-31',
      'weekly snapshot for 2026-W53',
      'monthly snapshot for 2026-12',
      'yearly snapshot for 2026',
    ]);
    expect(reasonsOf(plan, '2026-12-27T12')).toEqual([
      'daily snapshot for 2026-12-27',
      'weekly snapshot for 2026-W52',
    ]);
    expect(reasonsOf(plan, '2026-12-13T12')).toEqual(['weekly snapshot for 2026-W50']);
    expect(reasonsOf(plan, '2026-06-30T12')).toEqual(['monthly snapshot for 2026-06']);
    expect(reasonsOf(plan, '2025-12-31T12')).toEqual(['yearly snapshot for 2025']);
    // Earlier snapshots of a kept day, and the extra one in the middle of June, are forgotten.
    for (const id of ['2026-12-31T12', '2026-12-31T06', '2026-12-30T12', '2026-06-15T18']) {
      expect(reasonsOf(plan, id)).toEqual(['no rule keeps it']);
    }
  });

  it('orders the decisions newest first, breaking no ties by input order', () => {
    const plan = only(
      planRetention(input, policy({ keepDaily: 1 }), {
        now: new Date('2027-01-01T00:00:00Z'),
        timeZone: 'UTC',
      }),
    );
    const ids = plan.decisions.map((decision) => decision.id);
    expect(ids.slice(0, 4)).toEqual([
      '2026-12-31T18',
      '2026-12-31T12',
      '2026-12-31T06',
      '2026-12-30T18',
    ]);
    expect(ids.at(-1)).toBe('2025-01-01T12');
  });

  it('adds everything within 30 days to the product default policy', () => {
    const plan = only(
      planRetention(
        input,
        policy({ keepWithin: 30 * DAY, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 }),
        { now: new Date('2026-12-31T23:00:00Z'), timeZone: 'UTC' },
      ),
    );
    // Within 30 days: after 2026-12-01T23:00, so 2 to 31 Dec at 12:00 (30) and the three extras.
    // Then one month-end for each of January to November 2026; no yearly rule, so 2025 goes.
    expect(keptIds(plan)).toHaveLength(30 + 3 + 11);
    expect(reasonsOf(plan, '2026-12-02T12')).toEqual(['within 30d of now']);
    expect(reasonsOf(plan, '2026-12-01T12')).toEqual(['no rule keeps it']);
    expect(reasonsOf(plan, '2026-12-31T06')).toEqual(['within 30d of now']);
    expect(reasonsOf(plan, '2026-01-31T12')).toEqual(['monthly snapshot for 2026-01']);
    expect(reasonsOf(plan, '2025-12-31T12')).toEqual(['no rule keeps it']);
  });

  it('keeps one snapshot for each of 24 months, leap-free February included', () => {
    const plan = only(
      planRetention(input, policy({ keepMonthly: 24 }), {
        now: new Date('2027-01-01T00:00:00Z'),
        timeZone: 'UTC',
      }),
    );
    const kept = keptIds(plan);
    expect(kept).toHaveLength(24);
    expect(kept).toContain('2025-02-28T12');
    expect(kept.at(-1)).toBe('2025-01-31T12');
    expect(reasonsOf(plan, '2025-01-31T12')).toEqual(['monthly snapshot for 2025-01']);
  });
});

describe('planRetention periods', () => {
  const now = new Date('2027-06-01T00:00:00Z');

  it('counts only days that have snapshots, as restic does', () => {
    const snapshots = ['2026-03-01T10:00:00Z', '2026-03-05T10:00:00Z', '2026-03-10T10:00:00Z'].map(
      (iso) => snap(iso),
    );
    const plan = only(planRetention(snapshots, policy({ keepDaily: 2 }), { now, timeZone: 'UTC' }));
    expect(keptIds(plan)).toEqual(['2026-03-10T10:00:00Z', '2026-03-05T10:00:00Z']);
    expect(reasonsOf(plan, '2026-03-05T10:00:00Z')).toEqual(['daily snapshot for 2026-03-05']);
  });

  it('keeps the newest of a day, with ties in time broken by id', () => {
    const time = '2026-03-05T10:00:00Z';
    const snapshots = [snap(time, ALICE, 'b'), snap(time, ALICE, 'c'), snap(time, ALICE, 'a')];
    for (const order of [snapshots, [...snapshots].reverse()]) {
      const plan = only(planRetention(order, policy({ keepDaily: 1 }), { now, timeZone: 'UTC' }));
      expect(plan.decisions.map((decision) => decision.id)).toEqual(['a', 'b', 'c']);
      expect(keptIds(plan)).toEqual(['a']);
    }
  });

  it('names ISO weeks by their week-year, as ISO 8601 numbers them', () => {
    // 2026 starts on a Thursday, so it has 53 weeks; 2027-W01 starts on Monday 4 January.
    // 2020 is a leap year starting on Wednesday, so it has 53 weeks too.
    const expected: Record<string, string> = {
      '2024-12-30': '2025-W01',
      '2025-12-28': '2025-W52',
      '2025-12-29': '2026-W01',
      '2026-03-05': '2026-W10',
      '2026-12-31': '2026-W53',
      '2027-01-01': '2026-W53',
      '2027-01-03': '2026-W53',
      '2027-01-04': '2027-W01',
      '2021-01-03': '2020-W53',
    };
    const snapshots = Object.keys(expected).map((day) => snap(`${day}T12:00:00Z`, day));
    const plans = planRetention(snapshots, policy({ keepWeekly: 1 }), { now, timeZone: 'UTC' });
    const weeks = Object.fromEntries(
      plans.map((plan) => [plan.name, plan.decisions[0]?.reasons[1]]),
    );
    expect(weeks).toEqual(
      Object.fromEntries(
        Object.entries(expected).map(([day, week]) => [day, `weekly snapshot for ${week}`]),
      ),
    );
  });

  it('keeps one of 2026-12-31 and 2027-01-01 weekly (same ISO week) but both yearly', () => {
    const snapshots = ['2026-12-31T12:00:00Z', '2027-01-01T12:00:00Z', '2027-01-04T12:00:00Z'].map(
      (iso) => snap(iso),
    );
    const weekly = only(
      planRetention(snapshots, policy({ keepWeekly: 10 }), { now, timeZone: 'UTC' }),
    );
    expect(keptIds(weekly)).toEqual(['2027-01-04T12:00:00Z', '2027-01-01T12:00:00Z']);
    expect(reasonsOf(weekly, '2027-01-01T12:00:00Z')).toEqual(['weekly snapshot for 2026-W53']);
    const yearly = only(
      planRetention(snapshots, policy({ keepYearly: 10 }), { now, timeZone: 'UTC' }),
    );
    expect(keptIds(yearly)).toEqual(['2027-01-04T12:00:00Z', '2026-12-31T12:00:00Z']);
    expect(reasonsOf(yearly, '2026-12-31T12:00:00Z')).toEqual(['yearly snapshot for 2026']);
  });
});

describe('planRetention time zones', () => {
  const now = new Date('2027-06-01T00:00:00Z');
  const dailyReasons = (isos: string[], timeZone: string): Record<string, string[]> => {
    const plan = only(
      planRetention(
        isos.map((iso) => snap(iso)),
        policy({ keepDaily: 10 }),
        { now, timeZone },
      ),
    );
    return Object.fromEntries(plan.decisions.map((decision) => [decision.id, decision.reasons]));
  };

  it('counts 23:30 UTC as the next day in Europe/Berlin', () => {
    const isos = ['2026-03-05T23:30:00Z', '2026-03-05T22:30:00Z'];
    expect(dailyReasons(isos, 'Europe/Berlin')).toEqual({
      '2026-03-05T23:30:00Z': ['most recent snapshot', 'daily snapshot for 2026-03-06'],
      '2026-03-05T22:30:00Z': ['daily snapshot for 2026-03-05'],
    });
    expect(dailyReasons(isos, 'UTC')).toEqual({
      '2026-03-05T23:30:00Z': ['most recent snapshot', 'daily snapshot for 2026-03-05'],
      '2026-03-05T22:30:00Z': ['no rule keeps it'],
    });
  });

  it('gives the 23-hour spring-forward day in Europe/Berlin its own bounds', () => {
    // 29 March 2026: 02:00 CET becomes 03:00 CEST at 01:00 UTC; the day runs from 23:00 UTC on
    // the 28th to 22:00 UTC on the 29th. A fixed +1 or +2 hours gets one of the ends wrong.
    const reasons = dailyReasons(
      [
        '2026-03-28T22:59:00Z', // 23:59 CET on the 28th
        '2026-03-28T23:00:00Z', // 00:00 CET on the 29th
        '2026-03-29T00:59:59Z', // 01:59:59 CET, the last second before the change
        '2026-03-29T01:00:00Z', // 03:00 CEST
        '2026-03-29T21:59:00Z', // 23:59 CEST, the newest of the 29th
        '2026-03-29T22:00:00Z', // 00:00 CEST on the 30th
      ],
      'Europe/Berlin',
    );
    expect(reasons).toEqual({
      '2026-03-29T22:00:00Z': ['most recent snapshot', 'daily snapshot for 2026-03-30'],
      '2026-03-29T21:59:00Z': ['daily snapshot for 2026-03-29'],
      '2026-03-29T01:00:00Z': ['no rule keeps it'],
      '2026-03-29T00:59:59Z': ['no rule keeps it'],
      '2026-03-28T23:00:00Z': ['no rule keeps it'],
      '2026-03-28T22:59:00Z': ['daily snapshot for 2026-03-28'],
    });
  });

  it('gives the 25-hour fall-back day in Europe/Berlin its own bounds', () => {
    // 25 October 2026: 03:00 CEST becomes 02:00 CET at 01:00 UTC; the day runs from 22:00 UTC
    // on the 24th to 23:00 UTC on the 25th.
    const reasons = dailyReasons(
      [
        '2026-10-24T21:59:00Z',
        '2026-10-24T22:00:00Z',
        '2026-10-25T22:59:00Z',
        '2026-10-25T23:00:00Z',
      ],
      'Europe/Berlin',
    );
    expect(reasons).toEqual({
      '2026-10-25T23:00:00Z': ['most recent snapshot', 'daily snapshot for 2026-10-26'],
      '2026-10-25T22:59:00Z': ['daily snapshot for 2026-10-25'],
      '2026-10-24T22:00:00Z': ['no rule keeps it'],
      '2026-10-24T21:59:00Z': ['daily snapshot for 2026-10-24'],
    });
  });

  it('puts midnight where a half-hour zone has it', () => {
    // Asia/Kolkata is UTC+05:30 all year: its midnight falls at 18:30 UTC, inside a UTC hour.
    const reasons = dailyReasons(['2026-03-05T18:29:00Z', '2026-03-05T18:30:00Z'], 'Asia/Kolkata');
    expect(reasons).toEqual({
      '2026-03-05T18:30:00Z': ['most recent snapshot', 'daily snapshot for 2026-03-06'],
      '2026-03-05T18:29:00Z': ['daily snapshot for 2026-03-05'],
    });
  });

  it('follows a clock change at local midnight that falls inside a UTC hour', () => {
    // Asia/Tehran in 2021: +03:30 became +04:30 at 00:00 on 22 March (20:30 UTC) and went back
    // at 00:00 on 22 September (19:30 UTC), repeating 23:00 to 23:59 of the 21st. Either offset
    // of the hour around the change alone puts one of these on the wrong day.
    expect(dailyReasons(['2021-03-21T20:10:00Z', '2021-03-21T20:29:00Z'], 'Asia/Tehran')).toEqual({
      '2021-03-21T20:29:00Z': ['most recent snapshot', 'daily snapshot for 2021-03-21'],
      '2021-03-21T20:10:00Z': ['no rule keeps it'],
    });
    expect(
      dailyReasons(
        ['2021-09-21T19:10:00Z', '2021-09-21T19:45:00Z', '2021-09-21T20:31:00Z'],
        'Asia/Tehran',
      ),
    ).toEqual({
      '2021-09-21T20:31:00Z': ['most recent snapshot', 'daily snapshot for 2021-09-22'],
      '2021-09-21T19:45:00Z': ['daily snapshot for 2021-09-21'], // 23:15 the second time
      '2021-09-21T19:10:00Z': ['no rule keeps it'], // 23:40 the first time
    });
  });

  it('uses the process time zone when none is given', () => {
    const snapshots = ['2026-03-05T23:30:00Z', '2026-03-05T22:30:00Z', '2026-03-05T00:30:00Z'].map(
      (iso) => snap(iso),
    );
    const local = new Intl.DateTimeFormat().resolvedOptions().timeZone;
    expect(planRetention(snapshots, policy({ keepDaily: 5 }), { now })).toEqual(
      planRetention(snapshots, policy({ keepDaily: 5 }), { now, timeZone: local }),
    );
  });

  it('rejects an unknown time zone by name', () => {
    expect(() =>
      planRetention([snap('2026-03-05T10:00:00Z')], policy({ keepDaily: 1 }), {
        now,
        timeZone: 'Mars/Olympus',
      }),
    ).toThrow(/unknown time zone 'Mars\/Olympus'/);
  });
});

describe('planRetention guards', () => {
  const now = new Date('2026-06-01T00:00:00Z');

  it('always keeps the most recent snapshot, however old', () => {
    // Backups stopped 100 days ago; keepWithin alone would forget all of them.
    const snapshots = [100, 101, 102].map((days) =>
      snap(new Date(now.getTime() - days * DAY).toISOString()),
    );
    const plan = only(
      planRetention(snapshots, policy({ keepWithin: DAY }), { now, timeZone: 'UTC' }),
    );
    expect(plan.decisions).toEqual([
      { id: '2026-02-21T00:00:00.000Z', keep: true, reasons: ['most recent snapshot'] },
      { id: '2026-02-20T00:00:00.000Z', keep: false, reasons: ['no rule keeps it'] },
      { id: '2026-02-19T00:00:00.000Z', keep: false, reasons: ['no rule keeps it'] },
    ]);
  });

  it('keeps snapshots from the future without letting them take a place in a rule', () => {
    const snapshots = [
      '2026-06-02T00:00:00Z',
      '2026-05-31T20:00:00Z',
      '2026-05-31T10:00:00Z',
      '2026-05-30T10:00:00Z',
    ].map((iso) => snap(iso));
    const plan = only(
      planRetention(snapshots, policy({ keepDaily: 1, keepLast: 1 }), { now, timeZone: 'UTC' }),
    );
    expect(plan.decisions).toEqual([
      { id: '2026-06-02T00:00:00Z', keep: true, reasons: ['in the future'] },
      {
        id: '2026-05-31T20:00:00Z',
        keep: true,
        reasons: ['most recent snapshot', 'the last snapshot', 'daily snapshot for 2026-05-31'],
      },
      { id: '2026-05-31T10:00:00Z', keep: false, reasons: ['no rule keeps it'] },
      { id: '2026-05-30T10:00:00Z', keep: false, reasons: ['no rule keeps it'] },
    ]);
  });

  it('keeps snapshots strictly within keepWithin of now, and one taken at now', () => {
    const within = 30 * DAY;
    const edge = now.getTime() - within;
    const snapshots = [
      snap(new Date(now.getTime() + 1).toISOString(), ALICE, 'future'),
      snap(now.toISOString(), ALICE, 'now'),
      snap(new Date(edge + 1).toISOString(), ALICE, 'just inside'),
      snap(new Date(edge).toISOString(), ALICE, 'on the edge'),
    ];
    const plan = only(
      planRetention(snapshots, policy({ keepWithin: within }), { now, timeZone: 'UTC' }),
    );
    expect(plan.decisions).toEqual([
      { id: 'future', keep: true, reasons: ['in the future'] },
      { id: 'now', keep: true, reasons: ['most recent snapshot', 'within 30d of now'] },
      { id: 'just inside', keep: true, reasons: ['within 30d of now'] },
      { id: 'on the edge', keep: false, reasons: ['no rule keeps it'] },
    ]);
  });

  it('names keepWithin in the largest whole unit', () => {
    const snapshots = [snap('2026-05-31T23:00:00Z')];
    const reasonFor = (keepWithin: number): string | undefined =>
      only(planRetention(snapshots, policy({ keepWithin }), { now })).decisions[0]?.reasons[1];
    expect(reasonFor(36 * 3_600_000)).toBe('within 36h of now');
    expect(reasonFor(90 * 60_000)).toBe('within 90m of now');
    expect(reasonFor(3_600_001)).toBe('within 3600001ms of now');
  });

  it('keeps everything when the policy has no keep rule', () => {
    const snapshots = ['2026-05-31T10:00:00Z', '2020-01-01T10:00:00Z'].map((iso) => snap(iso));
    for (const empty of [policy({}), policy({ keepDaily: 0, keepWithin: 0, keepLast: 0 })]) {
      const plan = only(planRetention(snapshots, empty, { now }));
      expect(plan.decisions).toEqual([
        {
          id: '2026-05-31T10:00:00Z',
          keep: true,
          reasons: ['most recent snapshot', 'no retention rule set'],
        },
        { id: '2020-01-01T10:00:00Z', keep: true, reasons: ['no retention rule set'] },
      ]);
    }
  });

  it('keeps every snapshot of an account under legal hold, matching globs without case', () => {
    const names = [
      ALICE,
      'Bob@Example.COM',
      'carol@other.org',
      'malice@example.org',
      'a.b+x@example.org',
    ];
    const days = ['2026-05-01T10:00:00Z', '2026-04-01T10:00:00Z', '2026-03-01T10:00:00Z'];
    const snapshots = names.flatMap((name) => days.map((day) => snap(day, name, `${name} ${day}`)));
    const legalHold = ['*@EXAMPLE.com', 'alice@example.org', 'a.b+x@*.org'];
    const plans = planRetention(snapshots, { keepLast: 1, legalHold }, { now });
    const keptPerName = Object.fromEntries(plans.map((plan) => [plan.name, keptIds(plan).length]));
    // malice@example.org must not match alice@example.org: a glob matches the whole name.
    expect(keptPerName).toEqual({
      [ALICE]: 3,
      'Bob@Example.COM': 3,
      'carol@other.org': 1,
      'malice@example.org': 1,
      'a.b+x@example.org': 3,
    });
    const bob = plans.find((plan) => plan.name === 'Bob@Example.COM') as GroupPlan;
    expect(bob.decisions.map((decision) => decision.reasons)).toEqual([
      [
        'legal hold (Bob@Example.COM matches *@EXAMPLE.com)',
        'most recent snapshot',
        'the last snapshot',
      ],
      ['legal hold (Bob@Example.COM matches *@EXAMPLE.com)'],
      ['legal hold (Bob@Example.COM matches *@EXAMPLE.com)'],
    ]);
  });

  it('treats only * as special in a legal-hold glob', () => {
    const names = [
      'a.b@x.org',
      'axb@x.org',
      'aab@x.org',
      'jn@x.org',
      'jon@x.org',
      'jon@x.org.evil',
      'j@x.org',
    ];
    const snapshots = names.map((name) => snap('2026-05-01T10:00:00Z', name));
    const held = (pattern: string): string[] =>
      planRetention(snapshots, policy({ keepLast: 1, legalHold: [pattern] }), { now })
        .filter((plan) => plan.decisions[0]?.reasons[0]?.startsWith('legal hold'))
        .map((plan) => plan.name);
    expect(held('a.b@x.org')).toEqual(['a.b@x.org']);
    expect(held('a+b@x.org')).toEqual([]);
    expect(held('j*n@x.org')).toEqual(['jn@x.org', 'jon@x.org']);
    expect(held('j*n*@x.org')).toEqual(['jn@x.org', 'jon@x.org']);
    // Each piece needs its own characters: the one n of jn@x.org cannot serve two pieces.
    expect(held('j*n*n@x.org')).toEqual([]);
    expect(held('*')).toEqual([...names].sort());
  });
});

describe('planRetention groups and input', () => {
  const now = new Date('2026-06-01T00:00:00Z');

  it('plans each (source, kind, name) on its own and sorts the groups', () => {
    const make = (source: string, kind: string, name: string, iso: string): RetentionCandidate => ({
      id: `${source}/${kind}/${name}/${iso}`,
      source,
      kind,
      name,
      time: new Date(iso),
    });
    const snapshots = [
      make('mx2', 'account', 'bob', '2026-05-02T00:00:00Z'),
      make('mx1', 'dav', 'bob', '2026-05-03T00:00:00Z'),
      make('mx1', 'account', 'bob', '2026-05-04T00:00:00Z'),
      make('mx1', 'account', 'alice', '2026-05-05T00:00:00Z'),
      make('mx1', 'account', 'bob', '2026-05-01T00:00:00Z'),
    ];
    const plans = planRetention(snapshots, policy({ keepLast: 1 }), { now });
    expect(plans.map(({ source, kind, name }) => `${source} ${kind} ${name}`)).toEqual([
      'mx1 account alice',
      'mx1 account bob',
      'mx1 dav bob',
      'mx2 account bob',
    ]);
    // keepLast 1 inside mx1/account/bob keeps its own newest, not the newest of all snapshots.
    expect(plans[1]?.decisions.map((decision) => [decision.id, decision.keep])).toEqual([
      ['mx1/account/bob/2026-05-04T00:00:00Z', true],
      ['mx1/account/bob/2026-05-01T00:00:00Z', false],
    ]);
  });

  it('keeps the last N snapshots for keepLast', () => {
    const snapshots = [1, 2, 3, 4, 5].map((day) =>
      snap(`2026-05-0${day}T00:00:00Z`, ALICE, `d${day}`),
    );
    const plan = only(planRetention(snapshots, policy({ keepLast: 3 }), { now }));
    expect(plan.decisions.map((decision) => decision.reasons)).toEqual([
      ['most recent snapshot', 'one of the last 3 snapshots'],
      ['one of the last 3 snapshots'],
      ['one of the last 3 snapshots'],
      ['no rule keeps it'],
      ['no rule keeps it'],
    ]);
  });

  it('returns no groups for no snapshots', () => {
    expect(planRetention([], policy({ keepDaily: 7 }), { now })).toEqual([]);
  });

  it('rejects counts, durations and dates it cannot plan with, naming them', () => {
    const one = [snap('2026-05-01T00:00:00Z')];
    expect(() => planRetention(one, policy({ keepDaily: -1 }), { now })).toThrow(
      RetentionPolicyError,
    );
    expect(() => planRetention(one, policy({ keepWeekly: 1.5 }), { now })).toThrow(
      /keepWeekly must be a whole number/,
    );
    expect(() => planRetention(one, policy({ keepWithin: Number.NaN }), { now })).toThrow(
      /keepWithin/,
    );
    expect(() => planRetention(one, policy({}), { now: new Date('nonsense') })).toThrow(
      /now is an invalid date/,
    );
    const broken = { ...snap('2026-05-01T00:00:00Z'), id: 'broken', time: new Date('nonsense') };
    expect(() => planRetention([broken], policy({}), { now })).toThrow(
      /snapshot broken has an invalid time/,
    );
  });

  it('accepts Infinity as an unlimited count', () => {
    const snapshots = [1, 2, 3].map((day) => snap(`2026-05-0${day}T00:00:00Z`));
    const plan = only(
      planRetention(snapshots, policy({ keepDaily: Infinity }), { now, timeZone: 'UTC' }),
    );
    expect(keptIds(plan)).toHaveLength(3);
  });

  it('plans 100,000 snapshots across 1,000 groups in well under a second', () => {
    // 100 daily snapshots per account, each account at its own minute, so the times are spread
    // over many UTC hours as a real nightly run over many accounts is.
    const snapshots: RetentionCandidate[] = [];
    const newest = Date.UTC(2026, 4, 31, 1);
    for (let account = 0; account < 1000; account++) {
      for (let day = 0; day < 100; day++) {
        snapshots.push({
          id: `${account}-${day}`,
          source: 'imap',
          kind: 'account',
          name: `user${account}@example.com`,
          time: new Date(newest - day * DAY - account * 61_000),
        });
      }
    }
    const rules = policy({
      keepWithin: 30 * DAY,
      keepDaily: 7,
      keepWeekly: 4,
      keepMonthly: 12,
      keepYearly: 3,
    });
    const started = performance.now();
    const plans = planRetention(
      shuffled(snapshots),
      { ...rules, legalHold: ['*@hold.example.com'] },
      {
        now,
        timeZone: 'Europe/Berlin',
      },
    );
    const elapsed = performance.now() - started;
    expect(plans).toHaveLength(1000);
    expect(plans.every((plan) => plan.decisions.length === 100 && plan.decisions[0]?.keep)).toBe(
      true,
    );
    expect(elapsed).toBeLessThan(2000);
  });
});
