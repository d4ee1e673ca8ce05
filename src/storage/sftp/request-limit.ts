/**
 * At most `limit` SFTP requests outstanding on the connection, the rest waiting in the order
 * they came. The server answers requests in any order, but each one it holds costs it a buffer
 * and us memory (a write carries its data), so a burst of saves must not send everything at once.
 */
export class RequestLimit {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running < this.limit) this.running++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      // The freed slot passes straight to the first in line, so it cannot be overtaken.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

/**
 * Runs `work` for each index below `count`, at most `window` at once; after a failure no further
 * piece starts, and the first failure is thrown. Pieces of one file go out a few at a time, so a
 * large file does not fill the queue ahead of every small one behind it.
 */
export async function forEachPiece(
  count: number,
  window: number,
  work: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < count && !failed) {
      try {
        await work(next++);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, worker));
}
