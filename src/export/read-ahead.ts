/** Messages being read and put together ahead of the one being written, at most. */
const AHEAD_COUNT = 64;
const AHEAD_BYTES = 32 * 1024 * 1024;

/**
 * Yields each item of `source` with its loaded value, in order, while the next ones are already
 * loading (in worker threads, where there are any): writing one message overlaps reading the
 * next. `load` must not reject (it returns its failure instead).
 */
export async function* readAhead<T extends { size: number }, R>(
  source: AsyncIterable<T>,
  load: (item: T) => Promise<R>,
  aheadCount = AHEAD_COUNT,
  aheadBytes = AHEAD_BYTES,
): AsyncGenerator<[T, R]> {
  const iterator = source[Symbol.asyncIterator]();
  const window: Array<{ item: T; value: Promise<R> }> = [];
  let bytes = 0;
  let exhausted = false;
  const fill = async (): Promise<void> => {
    while (
      !exhausted &&
      (window.length === 0 || (window.length < aheadCount && bytes < aheadBytes))
    ) {
      const next = await iterator.next();
      if (next.done) {
        exhausted = true;
        return;
      }
      bytes += next.value.size;
      window.push({ item: next.value, value: load(next.value) });
    }
  };
  try {
    await fill();
    for (let head = window.shift(); head; head = window.shift()) {
      const value = await head.value;
      bytes -= head.item.size;
      await fill();
      yield [head.item, value];
    }
  } finally {
    // A consumer that stops early (a failed write) must not leave the source open.
    if (!exhausted) await iterator.return?.();
  }
}
