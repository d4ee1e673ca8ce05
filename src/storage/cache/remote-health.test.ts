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

  it('stays down when a request begun before the failure succeeds after it', () => {
    let now = 1_000;
    const health = new RemoteHealth(500, () => now);
    // An upload in flight as the remote goes away: the next one fails, then the first is answered.
    const inFlight = now;
    now += 100;
    health.failed(new Error('connection reset'));
    now += 100;
    health.succeeded(inFlight);
    expect(health.error).toBe('connection reset');
    expect(health.downFor()).toBe(100);
    // A request begun after the failure that succeeds: the remote answers again.
    const later = now;
    now += 50;
    health.succeeded(later);
    expect(health.error).toBeUndefined();
  });
});
