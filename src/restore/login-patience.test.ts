import { expect, it } from 'vitest';
import { openJustProvisioned } from './login-patience.js';

const refused = (): Error => Object.assign(new Error('login refused'), { kind: 'auth' });

it('tries a refused login again until the new account is known', async () => {
  let calls = 0;
  const opened = await openJustProvisioned(
    async () => {
      if (++calls < 3) throw refused();
      return 'connected';
    },
    { pauseMs: 1 },
  );
  expect(opened).toBe('connected');
  expect(calls).toBe(3);
});

it('gives up after the last attempt, and at once on other errors', async () => {
  let calls = 0;
  await expect(
    openJustProvisioned(
      async () => {
        calls++;
        throw refused();
      },
      { attempts: 4, pauseMs: 1 },
    ),
  ).rejects.toThrow('login refused');
  expect(calls).toBe(4);
  calls = 0;
  await expect(
    openJustProvisioned(async () => {
      calls++;
      throw new Error('connection refused');
    }),
  ).rejects.toThrow('connection refused');
  expect(calls).toBe(1);
});
