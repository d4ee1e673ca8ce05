import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Catalog } from './catalog.js';
import { migrationProvider } from './migrations.js';
import { RunHistory, type RunRecord } from './run-history.js';
import type { Liveness } from './run-history-liveness.js';

// The run history answers "how did the last runs go, and each account's last attempt", which
// the snapshots cannot: a failed run leaves none.

const T0 = Date.UTC(2026, 10, 20, 1, 0, 0);
const HOUR = 3_600_000;

function run(id: string, hours: number, overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    kind: 'backup',
    started: new Date(T0 + hours * HOUR),
    finished: new Date(T0 + hours * HOUR + 60_000),
    outcome: 'ok',
    counts: { accounts: 2, items: 10 },
    error: null,
    hook: null,
    ...overrides,
  };
}

/** What an ended run recorded without a start (as before runs were recorded at their start) adds. */
const ended = { host: null, pid: null, lastSeen: null };

const ok = (name: string, snapshot: string) => ({
  source: 'mail1',
  name,
  ok: true,
  error: null,
  snapshot,
});
const failed = (name: string, error: string) => ({
  source: 'mail1',
  name,
  ok: false,
  error,
  snapshot: null,
});

describe('RunHistory', () => {
  let dir: string;
  let catalog: Catalog;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailvault-runs-'));
    catalog = await Catalog.open(join(dir, 'catalog.sqlite'));
  });
  afterEach(async () => {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps a run with its counts, error and parts, and gives it back as recorded', async () => {
    const record = run('r1', 0, {
      outcome: 'partial',
      counts: { accounts: 2, failedAccounts: 1, bytesAdded: 12_345 },
      error: 'mail1/bob: login refused',
    });
    await catalog.runs.record(record, [ok('alice', 's-a'), failed('bob', 'login refused')]);
    expect(await catalog.runs.run('r1')).toEqual({ ...ended, ...record });
    expect(await catalog.runs.parts('r1')).toEqual([
      ok('alice', 's-a'),
      failed('bob', 'login refused'),
    ]);
    expect(await catalog.runs.run('nope')).toBeNull();
  });

  it('replaces a run recorded again under the same id, parts included', async () => {
    await catalog.runs.record(run('r1', 0), [ok('alice', 's-a'), ok('bob', 's-b')]);
    await catalog.runs.record(run('r1', 0, { outcome: 'failed', error: 'gone' }), [
      failed('alice', 'gone'),
    ]);
    expect((await catalog.runs.recent()).map((r) => [r.id, r.outcome])).toEqual([['r1', 'failed']]);
    expect(await catalog.runs.parts('r1')).toEqual([failed('alice', 'gone')]);
  });

  it('adds the hook outcome to a recorded run', async () => {
    await catalog.runs.record(run('r1', 0));
    const hook = { command: 'false', exitCode: 1, error: 'hooks.postBackup exited with code 1' };
    await catalog.runs.setHook('r1', hook);
    expect((await catalog.runs.run('r1'))?.hook).toEqual(hook);
  });

  it('lists the newest runs first, of one kind or all', async () => {
    await catalog.runs.record(run('b1', 0));
    await catalog.runs.record(run('c1', 3, { kind: 'check' }));
    await catalog.runs.record(run('b2', 24));
    expect((await catalog.runs.recent()).map((r) => r.id)).toEqual(['b2', 'c1', 'b1']);
    expect((await catalog.runs.recent({ kind: 'backup', limit: 1 })).map((r) => r.id)).toEqual([
      'b2',
    ]);
  });

  it("gives each kind's latest run and when the latest good one started", async () => {
    await catalog.runs.record(run('b1', 0));
    await catalog.runs.record(run('b2', 24, { outcome: 'partial' }));
    await catalog.runs.record(run('b3', 48, { outcome: 'failed', error: 'disk full' }));
    await catalog.runs.record(run('c1', 3, { kind: 'check', outcome: 'failed' }));
    const last = await catalog.runs.lastOfEachKind();
    expect(
      last.map(({ last, lastOk }) => [last?.kind, last?.id, lastOk?.getTime() ?? null]),
    ).toEqual([
      ['backup', 'b3', T0],
      ['check', 'c1', null],
    ]);
    expect(last[0]?.last?.error).toBe('disk full');
  });

  it("gives each account's latest attempt, whichever run it was in", async () => {
    await catalog.runs.record(run('r1', 0), [ok('alice', 's-a1'), ok('bob', 's-b1')]);
    await catalog.runs.record(run('r2', 24, { outcome: 'partial' }), [
      ok('alice', 's-a2'),
      failed('bob', 'login refused'),
    ]);
    // A run for alice alone: bob's latest attempt is still the failed one.
    await catalog.runs.record(run('r3', 48), [ok('alice', 's-a3')]);
    await catalog.runs.record(run('r4', 72), [
      { source: 'files', name: 'etc', ok: true, error: null, snapshot: 's-f' },
    ]);
    const attempts = await catalog.runs.lastAttempts();
    expect(
      attempts.map((a) => [a.source, a.name, a.run, a.ok, a.error, a.started.getTime()]),
    ).toEqual([
      ['files', 'etc', 'r4', true, null, T0 + 72 * HOUR],
      ['mail1', 'alice', 'r3', true, null, T0 + 48 * HOUR],
      ['mail1', 'bob', 'r2', false, 'login refused', T0 + 24 * HOUR],
    ]);
  });

  it("gives each account's latest snapshot and whether it is gone from its server", async () => {
    const account = async (name: string, gone: number | null): Promise<number> =>
      (
        await catalog.db
          .insertInto('accounts')
          .values({ source: 'mail1', name, first_seen: T0, last_seen: T0, gone_since: gone })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
    const snapshot = (id: string, accountId: number, time: number) =>
      catalog.db
        .insertInto('snapshots')
        .values({
          id,
          account_id: accountId,
          kind: 'account',
          time,
          run: 'r',
          tree: 't',
          parent: null,
          items: 1,
          bytes: 1,
          new_items: 0,
          bytes_added: 0,
          run_file: null,
        })
        .execute();
    const alice = await account('alice', null);
    const bob = await account('bob', T0 + 5 * HOUR);
    await account('carol', null); // no snapshot left: not listed
    await snapshot('a1', alice, T0);
    await snapshot('a2', alice, T0 + 24 * HOUR);
    await snapshot('b1', bob, T0);
    expect(await catalog.runs.lastBackups()).toEqual([
      { source: 'mail1', name: 'alice', time: new Date(T0 + 24 * HOUR), goneSince: null },
      { source: 'mail1', name: 'bob', time: new Date(T0), goneSince: new Date(T0 + 5 * HOUR) },
    ]);
  });
});

describe('RunHistory: runs recorded as they start', () => {
  let dir: string;
  let catalog: Catalog;
  /** Whether the fake liveness takes each run's process for gone, by pid. */
  const gone = new Set<number>();
  const liveness: Liveness = {
    goneReason: ({ pid }) => (pid !== null && gone.has(pid) ? `process ${pid} is gone` : null),
  };
  let runs: RunHistory;
  const start = (id: string, hours: number, pid: number, kind = 'backup') =>
    runs.start({ id, kind, started: new Date(T0 + hours * HOUR), host: 'backup1', pid });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailvault-runs-started-'));
    catalog = await Catalog.open(join(dir, 'catalog.sqlite'));
    runs = new RunHistory(catalog.db, liveness);
    gone.clear();
  });
  afterEach(async () => {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows a started run as running until it records its end, which keeps who ran it', async () => {
    await start('r1', 0, 100);
    expect(await runs.run('r1')).toMatchObject({
      outcome: 'running',
      finished: null,
      host: 'backup1',
      pid: 100,
      lastSeen: new Date(T0),
    });
    await runs.beat('r1', new Date(T0 + HOUR));
    expect((await runs.run('r1'))?.lastSeen).toEqual(new Date(T0 + HOUR));
    await runs.record(run('r1', 0, { outcome: 'partial', error: 'bob: login refused' }));
    expect(await runs.run('r1')).toMatchObject({
      outcome: 'partial',
      finished: new Date(T0 + 60_000),
      error: 'bob: login refused',
      host: 'backup1',
      pid: 100,
      lastSeen: null,
    });
  });

  it('reads a started run whose process is gone as interrupted, saying why', async () => {
    await start('r1', 0, 100);
    gone.add(100);
    expect(await runs.run('r1')).toMatchObject({
      outcome: 'interrupted',
      finished: null,
      error: 'process 100 is gone',
    });
  });

  it('marks a run interrupted when told, but never one that recorded its end', async () => {
    await start('r1', 0, 100);
    await runs.interrupt('r1', new Date(T0 + HOUR), 'stopped by SIGTERM');
    expect(await runs.run('r1')).toMatchObject({
      outcome: 'interrupted',
      finished: null,
      error: 'stopped by SIGTERM',
    });
    await start('r2', 1, 101);
    await runs.record(run('r2', 1));
    await runs.interrupt('r2', new Date(T0 + 2 * HOUR), 'stopped by SIGTERM');
    expect((await runs.run('r2'))?.outcome).toBe('ok');
  });

  it('forgets a discarded start', async () => {
    await start('r1', 0, 100);
    await runs.discard('r1');
    expect(await runs.run('r1')).toBeNull();
  });

  it('gives, per kind, the last run that is over (an interrupted one included) and the one running', async () => {
    await runs.record(run('b1', 0));
    await start('b2', 24, 102);
    expect(await runs.lastOfEachKind()).toMatchObject([
      { kind: 'backup', last: { id: 'b1', outcome: 'ok' }, running: { id: 'b2' } },
    ]);
    gone.add(102);
    expect(await runs.lastOfEachKind()).toMatchObject([
      { kind: 'backup', last: { id: 'b2', outcome: 'interrupted' }, running: null },
    ]);
    await start('c1', 30, 103, 'check');
    const [, check] = await runs.lastOfEachKind();
    expect(check).toMatchObject({ kind: 'check', last: null, running: { id: 'c1' } });
  });

  it('takes a run of a process on this machine that has ended for interrupted', async () => {
    const real = new RunHistory(catalog.db);
    const ended = spawnSync(process.execPath, ['-e', '']);
    await real.start({
      id: 'r1',
      kind: 'backup',
      started: new Date(),
      host: hostname(),
      pid: ended.pid as number,
    });
    await real.start({
      id: 'r2',
      kind: 'backup',
      started: new Date(),
      host: hostname(),
      pid: process.pid,
    });
    expect((await real.run('r1'))?.outcome).toBe('interrupted');
    expect((await real.run('r1'))?.error).toMatch(
      new RegExp(
        `^interrupted: its process \\(${ended.pid} on ${hostname()}\\) ended before the run did`,
      ),
    );
    expect((await real.run('r2'))?.outcome).toBe('running');
  });
});

it('0009-runs-in-progress keeps the runs recorded before it, as ended', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mailvault-runs-migration-'));
  const db = new Kysely<unknown>({
    dialect: new SqliteDialect({ database: new Database(join(dir, 'c.sqlite')) }),
  });
  try {
    const migrator = new Migrator({ db, provider: migrationProvider });
    expect((await migrator.migrateTo('0008-run-history')).error).toBeUndefined();
    await sql`INSERT INTO runs (id, kind, started, finished, outcome, counts, error, hook)
              VALUES ('r1', 'backup', ${T0}, ${T0 + 60_000}, 'failed', '{}', 'disk full', NULL)`.execute(
      db,
    );
    expect((await migrator.migrateToLatest()).error).toBeUndefined();
  } finally {
    await db.destroy();
  }
  const catalog = await Catalog.open(join(dir, 'c.sqlite'));
  try {
    expect(await catalog.runs.run('r1')).toMatchObject({
      outcome: 'failed',
      finished: new Date(T0 + 60_000),
      error: 'disk full',
      host: null,
      pid: null,
    });
  } finally {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  }
});

it('0008-run-history adds the history to a catalog made before it, leaving what is there', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mailvault-runs-migration-'));
  const db = new Kysely<unknown>({
    dialect: new SqliteDialect({ database: new Database(join(dir, 'c.sqlite')) }),
  });
  try {
    const migrator = new Migrator({ db, provider: migrationProvider });
    expect((await migrator.migrateTo('0007-run-files')).error).toBeUndefined();
    await sql`INSERT INTO accounts (source, name, first_seen, last_seen) VALUES ('mail1', 'alice', 1, 2)`.execute(
      db,
    );
    expect((await migrator.migrateToLatest()).error).toBeUndefined();
  } finally {
    await db.destroy();
  }
  const catalog = await Catalog.open(join(dir, 'c.sqlite'));
  try {
    await catalog.runs.record(run('r1', 0), [ok('alice', 's')]);
    expect((await catalog.runs.lastAttempts()).map((a) => a.name)).toEqual(['alice']);
    expect((await catalog.accounts()).map((a) => a.name)).toEqual(['alice']);
  } finally {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  }
});
