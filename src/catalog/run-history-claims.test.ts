import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Catalog } from './catalog.js';
import { BackupClaims } from './run-history-claims.js';
import type { Liveness } from './run-history-liveness.js';
import { RunHistory } from './run-history.js';

// Backup runs sharing a catalog take turns per account: one holds it until its snapshot is
// recorded; a run that ended, or whose process is gone, holds nothing.

const T0 = new Date(Date.UTC(2026, 11, 7, 1, 0, 0));

describe('BackupClaims', () => {
  let dir: string;
  let catalog: Catalog;
  const gone = new Set<number>();
  const liveness: Liveness = {
    goneReason: ({ pid }) => (pid !== null && gone.has(pid) ? 'gone' : null),
  };
  let runs: RunHistory;
  const claimsOf = (run: string) => new BackupClaims(catalog.db, run, liveness);
  const start = (id: string, pid: number) =>
    runs.start({ id, kind: 'backup', started: T0, host: 'backup1', pid });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailvault-claims-'));
    catalog = await Catalog.open(join(dir, 'catalog.sqlite'));
    runs = new RunHistory(catalog.db, liveness);
    gone.clear();
    await start('r1', 101);
    await start('r2', 102);
  });
  afterEach(async () => {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives an account to one run at a time, and names the holder to the other', async () => {
    const first = claimsOf('r1');
    const second = claimsOf('r2');
    expect(await first.take('mail1', 'alice', T0)).toBeNull();
    expect(await second.take('mail1', 'alice')).toEqual({
      run: 'r1',
      host: 'backup1',
      pid: 101,
      since: T0,
    });
    // Another account, and the same one again for its holder, are free.
    expect(await second.take('mail1', 'bob')).toBeNull();
    expect(await first.take('mail1', 'alice')).toBeNull();
    await first.release('mail1', 'alice');
    expect(await second.take('mail1', 'alice')).toBeNull();
    expect((await first.take('mail1', 'alice'))?.run).toBe('r2');
  });

  it('releases only its own holds', async () => {
    await claimsOf('r1').take('mail1', 'alice');
    await claimsOf('r2').release('mail1', 'alice');
    await claimsOf('r2').releaseAll();
    expect((await claimsOf('r2').take('mail1', 'alice'))?.run).toBe('r1');
    await claimsOf('r1').releaseAll();
    expect(await claimsOf('r2').take('mail1', 'alice')).toBeNull();
  });

  it('takes over from a run whose process is gone, or that recorded its end', async () => {
    await claimsOf('r1').take('mail1', 'alice');
    await claimsOf('r2').take('files', 'etc');
    gone.add(101);
    expect(await claimsOf('r3').take('mail1', 'alice')).toBeNull();
    await runs.record({
      id: 'r2',
      kind: 'backup',
      started: T0,
      finished: T0,
      outcome: 'failed',
      counts: {},
      error: 'stopped',
      hook: null,
    });
    expect(await claimsOf('r3').take('files', 'etc')).toBeNull();
  });

  it('takes over from a run the history does not know', async () => {
    await claimsOf('never-started').take('mail1', 'alice');
    expect(await claimsOf('r1').take('mail1', 'alice')).toBeNull();
  });
});
