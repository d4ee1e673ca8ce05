import type { AccountJob } from './account-backup.js';
import type { SetJob } from './set-job.js';

/** An account (source: its server), a file set (source 'files') or a command ('commands'). */
export interface PartName {
  source: string;
  name: string;
}

/**
 * How runs at the same moment take turns: a part is backed up by one run at a time, which holds
 * it until its snapshot is recorded. A run that finds a part held backs up the others first, then
 * waits; once it holds the part, it starts from whatever snapshot the other run recorded, so that
 * what that run stored is not stored again.
 */
export interface PartClaims {
  /** Takes the part; when another run holds it, says who, in words (and takes nothing). */
  take(part: PartName): Promise<string | null>;
  /** Gives it back: its snapshot is recorded, it was found unchanged, or it failed. */
  release(part: PartName): Promise<void>;
  /** Gives back what the run still holds, at its end. */
  releaseAll(): Promise<void>;
  /** The job as it must run now that the part is held: from the part's latest snapshot. */
  currentAccount(job: AccountJob): Promise<AccountJob>;
  currentSet(job: SetJob): Promise<SetJob>;
}

/** One run alone: nothing to take turns with. */
export const NO_CLAIMS: PartClaims = {
  take: () => Promise.resolve(null),
  release: () => Promise.resolve(),
  releaseAll: () => Promise.resolve(),
  currentAccount: (job) => Promise.resolve(job),
  currentSet: (job) => Promise.resolve(job),
};

/** How often a run waiting for parts held by others asks again. */
const POLL_MS = 1_000;

/**
 * Hands out jobs in order, each once its part is taken: a job whose part another run holds is
 * passed over for the next, and when only such jobs are left, the caller waits (after
 * `beforeWait`, which writes the snapshots the run has ready, so that the other run, perhaps
 * waiting for one of them, is not kept waiting in turn).
 */
export class TurnQueue<J> {
  private readonly queue: J[];
  /** Jobs some worker is asking for right now: the others pass them over. */
  private readonly asking = new Set<J>();
  /** Who each waiting job was last said to wait for. */
  private readonly told = new Map<J, string>();

  constructor(
    jobs: readonly J[],
    private readonly partOf: (job: J) => PartName,
    private readonly claims: PartClaims,
    private readonly events: {
      onWait: (part: PartName, holder: string) => void;
      beforeWait: () => Promise<void>;
    },
  ) {
    this.queue = [...jobs];
  }

  /** The next job whose part this run now holds; undefined when none is left. */
  async next(): Promise<J | undefined> {
    for (;;) {
      for (const job of [...this.queue]) {
        if (this.asking.has(job)) continue;
        this.asking.add(job);
        let holder: string | null;
        try {
          holder = await this.claims.take(this.partOf(job));
        } finally {
          this.asking.delete(job);
        }
        if (holder === null) {
          this.queue.splice(this.queue.indexOf(job), 1);
          return job;
        }
        if (this.told.get(job) !== holder) {
          this.told.set(job, holder);
          this.events.onWait(this.partOf(job), holder);
        }
      }
      if (this.queue.length === 0) return undefined;
      await this.events.beforeWait();
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}
