import { describe, expect, it } from 'vitest';
import { StorageError } from '../storage.js';
import { RemoteHealth } from './remote-health.js';

describe('RemoteHealth', () => {
  it('is down from a failure until a success, and recently so for a while', () => {
    let now = 1_000;
    const health = new RemoteHealth(500, () => now, 'sftp://host/repo');
    expect(health.error).toBeUndefined();
    health.failed(new StorageError('sftp://host/repo: cannot connect: ECONNREFUSED', 'io'));
    expect(health.error).toBe('cannot connect: ECONNREFUSED');
    expect(health.recentlyDown()).toBe(true);
    now += 400;
    health.failed(new Error('timed out'));
    now += 400;
    // Asked again 400 ms ago: still recent; down for 800 ms since the first failure.
    expect(health.recentlyDown()).toBe(true);
    expect(health.downFor()).toBe(800);
    now += 200;
    expect(health.recentlyDown()).toBe(false);
    health.succeeded();
    expect(health.error).toBeUndefined();
    expect(health.downFor()).toBe(0);
  });
});
