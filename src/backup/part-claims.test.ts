import { describe, expect, it } from 'vitest';
import { NO_CLAIMS, TurnQueue, type PartClaims, type PartName } from './part-claims.js';

// A run hands out its accounts as it gets them: one another run holds is passed over, and when
// only such accounts are left, the run writes what it has ready, says it waits, and waits.

function claimsHeldBy(holders: Map<string, string>): PartClaims {
  return {
    ...NO_CLAIMS,
    take: ({ name }) => Promise.resolve(holders.get(name) ?? null),
  };
}

const part = (name: string): PartName => ({ source: 'mail1', name });

describe('TurnQueue', () => {
  it('hands out the free accounts first, then waits for the held ones', async () => {
    const holders = new Map([['alice', 'run X']]);
    const waits: string[] = [];
    let readyWritten = 0;
    const queue = new TurnQueue(['alice', 'bob', 'carol'], part, claimsHeldBy(holders), {
      onWait: ({ name }, holder) => waits.push(`${name}: ${holder}`),
      beforeWait: () => {
        readyWritten++;
        // The other run ends while this one waits.
        holders.delete('alice');
        return Promise.resolve();
      },
    });
    expect(await queue.next()).toBe('bob');
    expect(await queue.next()).toBe('carol');
    expect(readyWritten).toBe(0);
    expect(await queue.next()).toBe('alice');
    expect(readyWritten).toBe(1);
    expect(await queue.next()).toBeUndefined();
    // Said once, though alice was asked for three times.
    expect(waits).toEqual(['alice: run X']);
  });

  it('gives each account to one of the workers that ask at once', async () => {
    const queue = new TurnQueue(['alice', 'bob'], part, NO_CLAIMS, {
      onWait: () => undefined,
      beforeWait: () => Promise.resolve(),
    });
    const got = await Promise.all([queue.next(), queue.next(), queue.next()]);
    expect(got.sort()).toEqual(['alice', 'bob', undefined]);
  });
});
