/** Something that happened, for a loop to wake up on: every waiter since the last time is woken. */
export class Signal {
  private waiting: { promise: Promise<void>; wake: () => void } | undefined;

  /** Settles at the next fire(); waiters share one promise, so none piles up while nothing happens. */
  next(): Promise<void> {
    if (!this.waiting) {
      let wake = (): void => undefined;
      const promise = new Promise<void>((resolve) => {
        wake = resolve;
      });
      this.waiting = { promise, wake };
    }
    return this.waiting.promise;
  }

  fire(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.wake();
  }
}

/**
 * Waits for `event` or `ms`, whichever comes first. `keepAlive`: whether the timer keeps the
 * process running; a background loop's must not, or a finished command would not exit.
 */
export async function eventOrTimeout(
  event: Promise<unknown>,
  ms: number,
  keepAlive: boolean,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, ms));
    if (!keepAlive) timer.unref();
  });
  try {
    await Promise.race([event, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
