import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Catalog } from './catalog.js';
import { migrationProvider } from './migrations.js';
import type { RunRecord } from './run-history.js';

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
    expect(await catalog.runs.run('r1')).toEqual(record);
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
    expect(last.map(({ last, lastOk }) => [last.kind, last.id, lastOk?.getTime() ?? null])).toEqual(
      [
        ['backup', 'b3', T0],
        ['check', 'c1', null],
      ],
    );
    expect(last[0]?.last.error).toBe('disk full');
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
