import { describe, expect, it } from 'vitest';
import type { AccountReport, RunReport } from '../../backup/backup-run.js';
import type { SetReport } from '../../backup/set-job.js';
import { backupOutcome, backupRunRecord, runSnapshots } from './history.js';

// One reading of a backup report for the exit code, the run history and the hook: they must
// never disagree on whether a run failed.

function account(name: string, error: string | null = null): AccountReport {
  return {
    source: 'mail1',
    account: name,
    ok: error === null,
    snapshot: error === null ? `snap-${name}` : null,
    unchanged: false,
    error,
    folders: 1,
    items: 10,
    newItems: 2,
    bytesRead: 100,
    bytesAdded: 50,
  };
}

function fileSet(name: string, error: string | null = null): SetReport {
  return {
    kind: 'files',
    name,
    ok: error === null,
    snapshot: error === null ? `snap-${name}` : null,
    unchanged: true,
    error,
    items: 3,
    newItems: 0,
    bytesRead: 0,
    bytesAdded: 0,
  };
}

function report(accounts: AccountReport[], sets: SetReport[] = [], unreadable = 0): RunReport {
  return {
    run: '20261123T010000-0a1b2c3d',
    started: new Date('2026-11-23T01:00:00Z'),
    finished: new Date('2026-11-23T01:01:00Z'),
    accounts,
    sets,
    failures: Array.from({ length: unreadable }, (_, i) => ({
      source: 'mail1',
      account: 'alice',
      folder: 'INBOX',
      uid: i + 1,
      reason: 'unreadable',
    })),
    warnings: [],
    totals: {
      accounts: accounts.length,
      failedAccounts: accounts.filter((a) => !a.ok).length,
      fileSets: sets.length,
      failedFileSets: sets.filter((s) => !s.ok).length,
      commands: 0,
      failedCommands: 0,
      failedSets: sets.filter((s) => !s.ok).length,
      items: 20,
      newItems: 4,
      bytesRead: 200,
      bytesAdded: 100,
      packs: 1,
      davRequests: 0,
    },
  };
}

describe('backupOutcome', () => {
  it('is ok when everything asked for was backed up, or nothing was asked for', () => {
    expect(backupOutcome(report([account('alice')], [fileSet('etc')]))).toBe('ok');
    expect(backupOutcome(report([]))).toBe('ok');
  });

  it('is partial when some of it failed, or some items could not be read', () => {
    expect(backupOutcome(report([account('alice'), account('bob', 'login refused')]))).toBe(
      'partial',
    );
    expect(backupOutcome(report([account('alice')], [fileSet('etc', 'denied')]))).toBe('partial');
    expect(backupOutcome(report([account('alice')], [], 2))).toBe('partial');
  });

  it('is failed when everything asked for failed', () => {
    expect(backupOutcome(report([account('bob', 'login refused')]))).toBe('failed');
  });
});

describe('backupRunRecord', () => {
  it('records the counts, each account and set, and the reason of a failed run', () => {
    const { run, parts } = backupRunRecord(
      report([account('bob', 'login refused'), account('carol', 'timeout')]),
      'failed',
    );
    expect(run).toMatchObject({
      id: '20261123T010000-0a1b2c3d',
      kind: 'backup',
      outcome: 'failed',
      error: 'login refused (also failed: mail1/carol)',
      hook: null,
    });
    expect(run.counts).toMatchObject({ accounts: 2, failedAccounts: 2, snapshots: 0 });
    expect(parts).toEqual([
      { source: 'mail1', name: 'bob', ok: false, error: 'login refused', snapshot: null },
      { source: 'mail1', name: 'carol', ok: false, error: 'timeout', snapshot: null },
    ]);
  });

  it('names what failed in a partial run, and gives file sets the source "files"', () => {
    const partial = report(
      [account('alice'), account('bob', 'login refused')],
      [fileSet('etc')],
      1,
    );
    const { run, parts } = backupRunRecord(partial, 'partial');
    expect(run.error).toBe('mail1/bob: login refused; 1 item unreadable');
    expect(run.counts).toMatchObject({ failedItems: 1, snapshots: 2, bytesAdded: 100 });
    expect(parts.at(-1)).toEqual({
      source: 'files',
      name: 'etc',
      ok: true,
      error: null,
      snapshot: 'snap-etc',
    });
    expect(runSnapshots(partial)).toEqual(['snap-alice', 'snap-etc']);
  });

  it('records no error for a run that went well', () => {
    expect(backupRunRecord(report([account('alice')]), 'ok').run.error).toBeNull();
  });

  it('names the folders and parts of accounts that failed, apart from the unreadable items', () => {
    const partial = report([account('alice')], [], 2);
    partial.failures.push(
      {
        source: 'mail1',
        account: 'alice',
        folder: 'Work',
        reason: 'folder not backed up: the server refused',
      },
      { source: 'mail1', account: 'bob', reason: 'mail not backed up: connection refused' },
    );
    expect(backupRunRecord(partial, 'partial').run.error).toBe(
      'mail1/alice folder Work: folder not backed up: the server refused; mail1/bob: mail not backed up: connection refused; 2 items unreadable',
    );
  });
});
