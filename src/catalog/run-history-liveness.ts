import { hostname } from 'node:os';

/**
 * Whether a run that has not recorded its end still runs. Its process says so every
 * HEARTBEAT_MS; on this machine its process id answers at once, elsewhere only its silence can:
 * a run silent for STALE_MS is taken for dead (a process id reused by another program after a
 * crash is caught the same way).
 */
export const HEARTBEAT_MS = 60_000;
export const STALE_MS = 10 * 60_000;

/** Who ran a run, and when it last said it was running (ms since the epoch). */
export interface RunProcess {
  host: string | null;
  pid: number | null;
  heartbeat: number | null;
}

export interface Liveness {
  /** Null while the run's process may still be running it; else why it is taken for gone. */
  goneReason(run: RunProcess, now: number): string | null;
}

export const processLiveness: Liveness = {
  goneReason(run, now) {
    const who =
      run.pid === null
        ? 'its process'
        : `its process (${run.pid} on ${run.host ?? 'an unknown host'})`;
    const seen =
      run.heartbeat === null ? '' : `; last seen running ${new Date(run.heartbeat).toISOString()}`;
    if (run.host === hostname() && run.pid !== null && !processAlive(run.pid))
      return `interrupted: ${who} ended before the run did (stopped, killed, or its machine went down)${seen}`;
    if (run.heartbeat === null || now - run.heartbeat > STALE_MS)
      return `interrupted: ${who} stopped saying it runs${seen}`;
    return null;
  },
};

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, and belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
