/**
 * The same items, with every request for the next one made through `around` (which may hold a
 * slot, time it or count it). A listing is a series of requests, one per page, and only these
 * steps are the storage's work: between them the caller is busy with what it was given, and may
 * itself be loading files from the same storage.
 */
export function eachStepThrough<T>(
  items: AsyncIterable<T>,
  around: (next: () => Promise<IteratorResult<T>>) => Promise<IteratorResult<T>>,
  onStoppedEarly?: () => void,
): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const iterator = items[Symbol.asyncIterator]();
      return {
        next: () => around(() => iterator.next()),
        // A caller that stops early (break, or an error in its loop) lets the backend end its listing.
        return: async (value?: unknown) => {
          onStoppedEarly?.();
          return (await iterator.return?.(value)) ?? { done: true, value: undefined };
        },
      };
    },
  };
}
