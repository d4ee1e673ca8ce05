import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Daemon, type DaemonPlan } from './daemon.js';
import type { JobOutcome, RunningJob } from './job-process.js';

/** Jobs that take `ms` and record when they ran; stop() ends one at once, as SIGTERM would. */
function fakeJobs(ms: number) {
  const runs: Array<{ kind: string; start: number; end?: number; stopped?: boolean }> = [];
  const start = (kind: string): RunningJob => {
    const run: (typeof runs)[number] = { kind, start: Date.now() };
    runs.push(run);
    let finish!: (stopped: boolean) => void;
    const finished = new Promise<JobOutcome>((resolve) => {
      finish = (stopped) => {
        if (run.end !== undefined) return;
        run.end = Date.now();
        run.stopped = stopped;
        resolve({
          kind,
          args: [kind],
          started: new Date(run.start),
          finished: new Date(run.end),
          code: stopped ? null : 0,
          signal: stopped ? 'SIGTERM' : null,
          report: null,
          errorText: '',
        });
      };
    });
    setTimeout(() => finish(false), ms);
    return { kind, started: new Date(run.start), pid: 1, stop: () => finish(true), finished };
  };
  return { runs, start };
}

function plan(
  jobs: Array<{ kind: string; cron: string }>,
  start: DaemonPlan['start'],
  last: Record<string, Date> = {},
): DaemonPlan & { endedJobs: JobOutcome[]; messages: string[] } {
  const messages: string[] = [];
  const endedJobs: JobOutcome[] = [];
  const log = pino(
    { level: 'info' },
    { write: (line: string) => messages.push(JSON.parse(line).msg) },
  );
  return {
    schedule: { timezone: 'UTC', jobs },
    start,
    lastRuns: () => Promise.resolve(new Map(Object.entries(last))),
    ended: (outcome) => {
      endedJobs.push(outcome);
      return Promise.resolve();
    },
    log,
    messages,
    endedJobs,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the daemon', () => {
  it('runs one job at a time and does not queue a kind that already waits or runs', async () => {
    const jobs = fakeJobs(1_300);
    const settings = plan(
      [
        { kind: 'backup', cron: '* * * * * *' },
        { kind: 'check', cron: '* * * * * *' },
      ],
      jobs.start,
    );
    const daemon = new Daemon(settings);
    await daemon.start();
    await sleep(3_500);
    await daemon.stop();
    // Never two at once: each run starts after the one before ended.
    for (let i = 1; i < jobs.runs.length; i++)
      expect(jobs.runs[i]?.start).toBeGreaterThanOrEqual(jobs.runs[i - 1]?.end ?? Infinity);
    // Every second both are due, each run lasts 1.3 s: most are refused as already waiting.
    expect(jobs.runs.length).toBeLessThanOrEqual(3);
    expect(settings.messages.some((m) => /already running or waiting/.test(m))).toBe(true);
    // The stop stopped the job in hand.
    expect(jobs.runs.at(-1)?.stopped).toBe(true);
  });

  it('runs at start what it missed since each kind last ran, and nothing more', async () => {
    const jobs = fakeJobs(10);
    const hourAgo = new Date(Date.now() - 3_600_000);
    const settings = plan(
      [
        { kind: 'backup', cron: '*/5 * * * *' },
        { kind: 'check', cron: '0 4 1 1 *' },
        { kind: 'forget', cron: '*/5 * * * *' },
      ],
      jobs.start,
      { backup: hourAgo, check: hourAgo },
    );
    const daemon = new Daemon(settings);
    await daemon.start();
    await daemon.settled();
    await daemon.stop();
    // backup was due every five minutes since; the yearly check was not; forget never ran.
    expect(jobs.runs.map((run) => run.kind)).toEqual(['backup']);
  });

  it('takes a new schedule on reload and drops a queued kind that left it', async () => {
    const jobs = fakeJobs(800);
    const settings = plan([{ kind: 'backup', cron: '* * * * * *' }], jobs.start);
    const daemon = new Daemon(settings);
    await daemon.start();
    daemon.enqueue('backup', 'test');
    daemon.enqueue('check', 'test');
    expect(daemon.state().queued).toEqual(['check']);
    daemon.reload(plan([{ kind: 'forget', cron: '0 0 1 1 *' }], jobs.start));
    expect(daemon.state().queued).toEqual([]);
    expect(daemon.state().next).toEqual([
      { kind: 'forget', at: expect.stringMatching(/-01-01T00:00:00/), error: null },
    ]);
    await daemon.stop();
  });
});
