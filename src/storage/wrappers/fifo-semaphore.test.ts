import { describe, expect, it } from 'vitest';
import { deferred } from './fake-storage.test-helper.js';
import { FifoSemaphore } from './fifo-semaphore.js';

describe('FifoSemaphore', () => {
  it('runs at most its limit at once, and the rest in the order they came', async () => {
    const slots = new FifoSemaphore(2);
    const holds = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    const runs = holds.map((hold, index) =>
      slots.run(async () => {
        started.push(index);
        await hold.promise;
        return index;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect([slots.inFlight, slots.queued]).toEqual([2, 2]);
    holds[1]?.resolve();
    await runs[1];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    holds[0]?.resolve();
    holds[2]?.resolve();
    holds[3]?.resolve();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect(started).toEqual([0, 1, 2, 3]);
    expect([slots.inFlight, slots.queued]).toEqual([0, 0]);
  });

  it('gives the slot of failed work to the next in line', async () => {
    const slots = new FifoSemaphore(1);
    const failing = slots.run(() => Promise.reject(new Error('failed')));
    const next = slots.run(() => Promise.resolve('next'));
    await expect(failing).rejects.toThrow('failed');
    expect(await next).toBe('next');
    expect(slots.inFlight).toBe(0);
  });

  it('refuses a limit that is not a whole number from 1', () => {
    expect(() => new FifoSemaphore(0)).toThrow(RangeError);
    expect(() => new FifoSemaphore(1.5)).toThrow(RangeError);
  });
});
