import { errorMessage } from '../wrappers/storage-logger.js';

/**
 * Whether the remote answers, as the last requests found: it is down from a failure that
 * retrying did not cure until the next request that succeeds.
 */
export class RemoteHealth {
  /** The first failure since the remote last answered. */
  private downSince: number | undefined;
  private lastFailure = 0;
  private lastError: string | undefined;

  constructor(
    /** How long after a failure listings go straight to the cache instead of asking again. */
    private readonly recheckMs: number,
    private readonly now: () => number = Date.now,
    /** The remote's location, which its errors start with and the messages here say already. */
    private readonly location = '',
  ) {}

  failed(error: unknown): void {
    this.lastFailure = this.now();
    this.downSince ??= this.lastFailure;
    const message = errorMessage(error);
    this.lastError =
      this.location && message.startsWith(`${this.location}: `)
        ? message.slice(this.location.length + 2)
        : message;
  }

  /**
   * A request begun at `begunAt` succeeded. One begun before the last failure (an upload in
   * flight when the remote went away, answered as it went) says nothing of the remote now: it
   * leaves the remote down, with its reason.
   */
  succeeded(begunAt = this.now()): void {
    if (this.downSince !== undefined && begunAt < this.lastFailure) return;
    this.downSince = undefined;
    this.lastError = undefined;
  }

  /** Why the remote is down, or undefined while it answers. */
  get error(): string | undefined {
    return this.lastError;
  }

  /** How long the remote has been down (0 while it answers). */
  downFor(): number {
    return this.downSince === undefined ? 0 : this.now() - this.downSince;
  }

  /**
   * Down, and so recently found to be that asking again would only cost another round of
   * retries: a command's every listing would otherwise wait them out in turn.
   */
  recentlyDown(): boolean {
    return this.downSince !== undefined && this.now() - this.lastFailure < this.recheckMs;
  }
}
