/**
 * The scheduler of `mailvault serve`: starts each configured job at the moments of its cron line,
 * one job at a time (backup, check, forget and prune all work on the one repository, so none may
 * overlap another), catches up a run missed while the daemon was down, takes a new configuration
 * without losing the job in hand, and stops by stopping that job.
 *
 * A job due while another runs waits its turn; a job due while the same kind already waits or
 * runs is not queued twice (a backup that takes longer than its interval does not pile up).
 */
import type { Logger } from 'pino';
import { MAX_TIMER_MS } from '../config/duration.js';
import { nextRuns, type Schedule, type ScheduledJob } from '../scheduler/schedule.js';
import type { JobOutcome, RunningJob } from './job-process.js';

export interface DaemonPlan {
  schedule: Schedule;
  /** Starts a job of this kind. */
  start(kind: string): RunningJob;
  /** When each kind last ran (from the run history), for catching up missed runs. */
  lastRuns(): Promise<ReadonlyMap<string, Date>>;
  /** Told of every job that ended (logging, failure notices). */
  ended(outcome: JobOutcome): Promise<void>;
  log: Logger;
  now?: () => Date;
}

export interface DaemonState {
  running: { kind: string; started: string; pid: number | null } | null;
  queued: string[];
  next: Array<{ kind: string; at: string | null; error: string | null }>;
  lastJob: { kind: string; finished: string; code: number | null; signal: string | null } | null;
}

export class Daemon {
  private plan: DaemonPlan;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly nextAt = new Map<string, { at: Date | null; error: string | null }>();
  private readonly queue: string[] = [];
  private running: RunningJob | null = null;
  private lastJob: JobOutcome | null = null;
  private stopping = false;
  /** Settles when the queue is empty and nothing runs (for stop, and for tests). */
  private idle: Promise<void> = Promise.resolve();

  constructor(plan: DaemonPlan) {
    this.plan = plan;
  }

  private now(): Date {
    return this.plan.now?.() ?? new Date();
  }

  /** Schedules every job, then queues those whose last moment passed while nobody ran them. */
  async start(): Promise<void> {
    this.scheduleAll();
    await this.catchUp();
  }

  /** A new configuration: new cron lines from now on; the job in hand and the queue go on. */
  reload(plan: DaemonPlan): void {
    this.plan = plan;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.nextAt.clear();
    const kinds = new Set(plan.schedule.jobs.map((job) => job.kind));
    // A kind no longer scheduled is not started later for an old line.
    for (let i = this.queue.length - 1; i >= 0; i--)
      if (!kinds.has(this.queue[i] ?? '')) this.queue.splice(i, 1);
    this.scheduleAll();
    this.plan.log.info({ jobs: plan.schedule.jobs }, 'configuration reloaded');
  }

  /** Stops scheduling, drops the queue, stops the job in hand and waits for it. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.queue.length = 0;
    const running = this.running;
    if (running) {
      this.plan.log.info({ kind: running.kind, pid: running.pid }, 'stopping the job in hand');
      running.stop();
      await running.finished;
    }
    await this.idle;
  }

  /** Queues a job now, as its schedule would (also for `serve` to run one at start). */
  enqueue(kind: string, why: string): void {
    if (this.stopping) return;
    if (this.running?.kind === kind || this.queue.includes(kind)) {
      this.plan.log.warn({ kind, why }, `${kind} is already running or waiting: not queued again`);
      return;
    }
    this.queue.push(kind);
    this.plan.log.info({ kind, why, queued: [...this.queue] }, `${kind} queued`);
    this.pump();
  }

  state(): DaemonState {
    return {
      running: this.running
        ? {
            kind: this.running.kind,
            started: this.running.started.toISOString(),
            pid: this.running.pid ?? null,
          }
        : null,
      queued: [...this.queue],
      next: this.plan.schedule.jobs.map((job) => {
        const next = this.nextAt.get(job.kind);
        return { kind: job.kind, at: next?.at?.toISOString() ?? null, error: next?.error ?? null };
      }),
      lastJob: this.lastJob
        ? {
            kind: this.lastJob.kind,
            finished: this.lastJob.finished.toISOString(),
            code: this.lastJob.code,
            signal: this.lastJob.signal,
          }
        : null,
    };
  }

  /** Waits until nothing runs or waits (tests). */
  async settled(): Promise<void> {
    await this.idle;
  }

  private scheduleAll(): void {
    for (const job of this.plan.schedule.jobs) this.scheduleNext(job, this.now());
  }

  private scheduleNext(job: ScheduledJob, after: Date): void {
    let at: Date | undefined;
    try {
      at = nextRuns(job, this.plan.schedule.timezone, after, 1)[0];
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.nextAt.set(job.kind, { at: null, error: message });
      this.plan.log.error({ kind: job.kind, cron: job.cron }, message);
      return;
    }
    this.nextAt.set(job.kind, { at: at ?? null, error: null });
    if (!at) return;
    const delay = at.getTime() - this.now().getTime();
    // Timers cannot wait longer than about 24.8 days: wake up and look again.
    const wait = Math.max(0, Math.min(delay, MAX_TIMER_MS));
    const timer = setTimeout(() => {
      this.timers.delete(job.kind);
      if (delay > MAX_TIMER_MS) return this.scheduleNext(job, this.now());
      this.enqueue(job.kind, `scheduled for ${at.toISOString()}`);
      // From the moment it was due: a line firing every second is not skipped a beat.
      this.scheduleNext(job, new Date(Math.max(at.getTime(), this.now().getTime() - 1)));
    }, wait);
    this.timers.set(job.kind, timer);
  }

  private async catchUp(): Promise<void> {
    let last: ReadonlyMap<string, Date>;
    try {
      last = await this.plan.lastRuns();
    } catch (error) {
      this.plan.log.warn(
        { err: error },
        'the run history cannot be read: missed runs are not caught up',
      );
      return;
    }
    for (const job of this.plan.schedule.jobs) {
      const previous = last.get(job.kind);
      if (!previous) continue;
      let due: Date | undefined;
      try {
        due = nextRuns(job, this.plan.schedule.timezone, previous, 1)[0];
      } catch {
        continue; // said when it was scheduled
      }
      if (due && due.getTime() <= this.now().getTime())
        this.enqueue(
          job.kind,
          `missed: due ${due.toISOString()}, last run ${previous.toISOString()}`,
        );
    }
  }

  private pump(): void {
    if (this.running || this.stopping) return;
    const kind = this.queue.shift();
    if (kind === undefined) return;
    const job = this.plan.start(kind);
    this.running = job;
    this.plan.log.info({ kind, pid: job.pid }, `${kind} started`);
    const chain: Promise<void> = job.finished.then(async (outcome) => {
      this.running = null;
      this.lastJob = outcome;
      try {
        await this.plan.ended(outcome);
      } catch (error) {
        this.plan.log.error({ err: error, kind }, 'could not report the end of a job');
      }
      this.pump();
      // Idle only once the queue is empty: wait for the job this one made room for, if any.
      if (this.idle !== chain) await this.idle;
    });
    this.idle = chain;
  }
}
