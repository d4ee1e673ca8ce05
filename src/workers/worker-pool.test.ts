import { describe, expect, it } from 'vitest';
import { WorkerPool } from './worker-pool.js';

const ECHO = new URL('../../test/fixtures/echo-worker.mjs', import.meta.url);

describe('WorkerPool', () => {
  it('starts no thread until asked, and one for requests that come one at a time', async () => {
    const pool = new WorkerPool<{ wait: number }, number>(ECHO, 3, null);
    try {
      expect(pool.started).toBe(0);
      const served = new Set<number>();
      for (let i = 0; i < 5; i++) served.add(await pool.run({ wait: 0 }, []));
      expect(pool.started).toBe(1);
      expect(served.size).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('starts more threads, up to its count, when requests overlap', async () => {
    const pool = new WorkerPool<{ wait: number }, number>(ECHO, 3, null);
    try {
      const replies = await Promise.all(
        Array.from({ length: 6 }, () => pool.run({ wait: 50 }, [])),
      );
      expect(pool.started).toBe(3);
      expect(new Set(replies).size).toBe(3);
    } finally {
      await pool.close();
    }
  });
});
