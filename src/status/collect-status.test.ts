import { describe, expect, it } from 'vitest';
import type { LastAttempt, LastBackup, RunEntry, RunHistory } from '../catalog/run-history.js';
import type { FileInfo, FileKind } from '../storage/storage.js';
import { collectStatus, type StatusSources } from './collect-status.js';

// What `status` and the daemon's health endpoint say, from a history, a schedule and a storage
// written here: every problem an administrator must hear of makes it unhealthy, and nothing else.

const NOW = new Date('2026-11-23T12:00:00Z');
const DAY = 86_400_000;
const ago = (days: number): Date => new Date(NOW.getTime() - days * DAY);

function history(parts: {
  backups?: LastBackup[];
  attempts?: LastAttempt[];
  runs?: Array<{ last: RunEntry | null; lastOk: Date | null; running?: RunEntry }>;
}): StatusSources['history'] {
  const fake: Pick<RunHistory, 'lastAttempts' | 'lastBackups' | 'lastOfEachKind'> = {
    lastBackups: () => Promise.resolve(parts.backups ?? []),
    lastAttempts: () => Promise.resolve(parts.attempts ?? []),
    lastOfEachKind: () =>
      Promise.resolve(
        (parts.runs ?? []).map((run) => ({
          kind: run.last?.kind ?? run.running?.kind ?? '',
          last: run.last,
          lastOk: run.lastOk,
          running: run.running ?? null,
        })),
      ),
  };
  return fake;
}

function storage(
  files: Partial<Record<FileKind, number[]>>,
  fail?: string,
): StatusSources['storage'] {
  return {
    async *list(kind: FileKind): AsyncIterable<FileInfo> {
      if (fail) throw new Error(fail);
      for (const [i, size] of (files[kind] ?? []).entries()) yield { name: `${kind}${i}`, size };
    },
  };
}

const backup = (name: string, time: Date, goneSince: Date | null = null): LastBackup => ({
  source: 'mail1',
  name,
  time,
  goneSince,
});
const attempt = (name: string, started: Date, error: string | null): LastAttempt => ({
  source: 'mail1',
  name,
  run: `run-${name}`,
  started,
  ok: error === null,
  error,
  snapshot: error === null ? `s-${name}` : null,
});
const runRecord = (kind: string, overrides: Partial<RunEntry> = {}): RunEntry => ({
  id: `${kind}-1`,
  kind,
  started: ago(1),
  finished: new Date(ago(1).getTime() + 90_000),
  outcome: 'ok',
  counts: { accounts: 1 },
  error: null,
  hook: null,
  host: 'backup1',
  pid: 4242,
  lastSeen: null,
  ...overrides,
});

const base: StatusSources = {
  history: history({}),
  storage: storage({}),
  schedule: undefined,
  configured: [],
  now: NOW,
};

describe('collectStatus: accounts', () => {
  it('is healthy when every configured account was backed up and its last attempt went well', async () => {
    const status = await collectStatus({
      ...base,
      history: history({
        backups: [backup('alice', ago(1))],
        attempts: [attempt('alice', ago(1.01), null)],
      }),
      configured: [{ source: 'mail1', name: 'alice' }],
    });
    expect(status.healthy).toBe(true);
    expect(status.problems).toEqual([]);
    expect(status.accounts).toEqual([
      {
        source: 'mail1',
        account: 'alice',
        state: 'ok',
        lastBackup: ago(1).toISOString(),
        lastAttempt: { run: 'run-alice', started: ago(1.01).toISOString(), ok: true, error: null },
        configured: true,
        goneSince: null,
      },
    ]);
  });

  it('names an account whose last attempt failed, with its last good backup, and one never backed up', async () => {
    const status = await collectStatus({
      ...base,
      history: history({
        backups: [backup('bob', ago(3))],
        attempts: [attempt('bob', ago(1), 'login refused')],
      }),
      configured: [
        { source: 'mail1', name: 'bob' },
        { source: 'mail1', name: 'carol' },
      ],
    });
    expect(status.healthy).toBe(false);
    expect(status.accounts.map((a) => [a.account, a.state])).toEqual([
      ['bob', 'failed'],
      ['carol', 'none'],
    ]);
    expect(status.problems).toEqual([
      `mail1/bob: the last backup failed (run run-bob, started ${ago(1).toISOString()}): login refused; last good backup ${ago(3).toISOString()}`,
      'mail1/carol: never backed up',
    ]);
  });

  it('takes a snapshot newer than the failed attempt (another machine, a later run) as good', async () => {
    const status = await collectStatus({
      ...base,
      history: history({
        backups: [backup('bob', ago(0.5))],
        attempts: [attempt('bob', ago(1), 'login refused')],
      }),
      configured: [{ source: 'mail1', name: 'bob' }],
    });
    expect(status.accounts[0]?.state).toBe('ok');
    expect(status.healthy).toBe(true);
  });

  it('lists accounts no longer configured without calling them problems', async () => {
    const status = await collectStatus({
      ...base,
      history: history({ attempts: [attempt('dave', ago(1), 'no such user')] }),
      configured: [],
    });
    expect(status.accounts.map((a) => [a.account, a.state, a.configured])).toEqual([
      ['dave', 'failed', false],
    ]);
    expect(status.healthy).toBe(true);
  });

  it('when the configured accounts cannot be listed, says so and watches those still on their server', async () => {
    const status = await collectStatus({
      ...base,
      history: history({
        backups: [backup('gone', ago(9), ago(5)), backup('erin', ago(9))],
        attempts: [attempt('gone', ago(1), 'no such user'), attempt('erin', ago(1), 'timeout')],
      }),
      configured: { error: 'accounts command failed' },
    });
    expect(status.accounts.map((a) => [a.account, a.configured])).toEqual([
      ['erin', null],
      ['gone', null],
    ]);
    expect(status.problems).toEqual([
      'cannot list the configured accounts: accounts command failed',
      expect.stringMatching(/^mail1\/erin: the last backup failed .*: timeout;/),
    ]);
  });
});

describe('collectStatus: runs', () => {
  it("gives each kind's last run, and calls a failed or partial one, or a failed hook, a problem", async () => {
    const status = await collectStatus({
      ...base,
      history: history({
        runs: [
          {
            last: runRecord('backup', {
              outcome: 'partial',
              error: 'mail1/bob: login refused',
              hook: { command: 'false', exitCode: 1, error: 'hooks.postBackup exited with code 1' },
            }),
            lastOk: ago(2),
          },
          {
            last: runRecord('check', { outcome: 'failed', error: '2 packs damaged' }),
            lastOk: null,
          },
          { last: runRecord('prune'), lastOk: ago(1) },
        ],
      }),
    });
    expect(status.runs.map((r) => [r.kind, r.outcome, r.seconds, r.lastOk])).toEqual([
      ['backup', 'partial', 90, ago(2).toISOString()],
      ['check', 'failed', 90, null],
      ['prune', 'ok', 90, ago(1).toISOString()],
    ]);
    const started = ago(1).toISOString();
    expect(status.problems).toEqual([
      `the last backup run (backup-1, started ${started}) finished with failures: mail1/bob: login refused`,
      `the hook after the last backup run (backup-1, started ${started}) failed: hooks.postBackup exited with code 1`,
      `the last check run (check-1, started ${started}) failed: 2 packs damaged`,
    ]);
  });
});

describe('collectStatus: runs that did not finish', () => {
  it('calls an interrupted last run a problem, with why, and gives it no end', async () => {
    const status = await collectStatus({
      ...base,
      history: history({
        runs: [
          {
            last: runRecord('backup', {
              outcome: 'interrupted',
              finished: null,
              error: 'interrupted: its process (4242 on backup1) ended before the run did',
            }),
            lastOk: ago(2),
          },
        ],
      }),
    });
    expect(status.healthy).toBe(false);
    expect(status.runs.map((r) => [r.kind, r.outcome, r.finished, r.seconds])).toEqual([
      ['backup', 'interrupted', null, null],
    ]);
    expect(status.problems).toEqual([
      `the last backup run (backup-1, started ${ago(1).toISOString()}) did not finish: interrupted: its process (4242 on backup1) ended before the run did`,
    ]);
  });

  it('shows a run in progress beside the last one that is over, which alone decides health', async () => {
    const running = runRecord('backup', {
      id: 'backup-2',
      started: ago(0.01),
      finished: null,
      outcome: 'running',
      lastSeen: ago(0.005),
    });
    const status = await collectStatus({
      ...base,
      history: history({ runs: [{ last: runRecord('backup'), lastOk: ago(1), running }] }),
    });
    expect(status.healthy).toBe(true);
    expect(status.runs[0]).toMatchObject({
      id: 'backup-1',
      outcome: 'ok',
      running: {
        id: 'backup-2',
        started: ago(0.01).toISOString(),
        host: 'backup1',
        pid: 4242,
        lastSeen: ago(0.005).toISOString(),
      },
    });
  });
});

describe('collectStatus: schedule', () => {
  it('gives the next runs of each job, in UTC or in the configured zone, seconds field or not', async () => {
    const status = await collectStatus({
      ...base,
      schedule: {
        timezone: 'UTC',
        backup: '0 1 * * *',
        check: '30 0 4 * * 6',
      },
    });
    // 2026-11-23 is a Monday: the next 01:00 UTC is the 24th's; the next Saturday is the 28th.
    expect(status.schedule).toEqual({
      timezone: 'UTC',
      jobs: [
        {
          kind: 'backup',
          cron: '0 1 * * *',
          nextRuns: [
            '2026-11-24T01:00:00.000Z',
            '2026-11-25T01:00:00.000Z',
            '2026-11-26T01:00:00.000Z',
          ],
          error: null,
        },
        {
          kind: 'check',
          cron: '30 0 4 * * 6',
          nextRuns: [
            '2026-11-28T04:00:30.000Z',
            '2026-12-05T04:00:30.000Z',
            '2026-12-12T04:00:30.000Z',
          ],
          error: null,
        },
      ],
    });
    expect(status.healthy).toBe(true);
  });

  it('reads the lines in the configured zone, across a change to summer time', async () => {
    const status = await collectStatus({
      ...base,
      now: new Date('2026-03-28T12:00:00Z'),
      schedule: { timezone: 'Europe/Paris', backup: '0 1 * * *' },
    });
    // 01:00 in Paris is 00:00 UTC in winter (the 29th, before the 02:00 change) and 23:00 UTC
    // the day before in summer.
    expect(status.schedule.jobs[0]?.nextRuns.slice(0, 2)).toEqual([
      '2026-03-29T00:00:00.000Z',
      '2026-03-29T23:00:00.000Z',
    ]);
  });

  it('calls a line or a zone that cannot be read a problem, naming its key', async () => {
    const badLine = await collectStatus({ ...base, schedule: { backup: '0 1 * *' } });
    expect(badLine.schedule.jobs[0]).toMatchObject({ kind: 'backup', nextRuns: [] });
    expect(badLine.problems).toEqual([expect.stringContaining('schedule.backup: "0 1 * *"')]);
    const badZone = await collectStatus({
      ...base,
      schedule: { timezone: 'Mars/Olympus', backup: '0 1 * * *' },
    });
    expect(badZone.problems).toEqual([
      expect.stringContaining('schedule.timezone: "Mars/Olympus" is not a time zone'),
    ]);
    expect(badZone.healthy).toBe(false);
  });
});

describe('collectStatus: repository', () => {
  it('adds up packs apart, and every file but the config and locks in all', async () => {
    const status = await collectStatus({
      ...base,
      storage: storage({
        data: [1000, 2000],
        index: [100],
        snapshots: [10, 20],
        keys: [5],
        locks: [7],
      }),
    });
    expect(status.repository).toEqual({ packs: 2, packBytes: 3000, totalBytes: 3135, error: null });
  });

  it('says when the repository cannot be listed', async () => {
    const status = await collectStatus({ ...base, storage: storage({}, 'connection refused') });
    expect(status.repository.error).toBe('connection refused');
    expect(status.problems).toEqual(['cannot list the repository: connection refused']);
  });
});
