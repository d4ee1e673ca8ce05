import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { CatalogSchema } from './schema.js';

/**
 * The history of runs: every backup (and, as they record themselves, check, forget, prune and
 * copy) with its outcome and counts, and for a backup how each account it was asked for went.
 * A run that failed writes nothing to the repository, so this is the only place it is seen.
 */

export type RunOutcome = 'ok' | 'partial' | 'failed';

/** How a command run after the run (the postBackup hook) went: exitCode 0 and no error is success. */
export interface HookRecord {
  command: string;
  /** Null when it could not start, or a signal ended it. */
  exitCode: number | null;
  error: string | null;
}

export interface RunRecord {
  id: string;
  kind: string;
  started: Date;
  finished: Date;
  outcome: RunOutcome;
  /** Whatever the kind of run counts: accounts, failedAccounts, items, newItems, bytesAdded... */
  counts: Record<string, number>;
  error: string | null;
  hook: HookRecord | null;
}

/** One account, file set ("files") or command ("commands") that a run was asked for. */
export interface RunPart {
  source: string;
  name: string;
  ok: boolean;
  error: string | null;
  snapshot: string | null;
}

/** The latest run that was asked for an account, and how it went for it. */
export interface LastAttempt extends RunPart {
  run: string;
  started: Date;
}

/** An account's latest snapshot (from any run, on any machine writing to the repository). */
export interface LastBackup {
  source: string;
  name: string;
  time: Date;
  goneSince: Date | null;
}

/** Rows per insert: well below SQLite's limit on bound values. */
const PARTS_PER_INSERT = 500;

type RunRow = CatalogSchema['runs'];

export class RunHistory {
  constructor(private readonly db: Kysely<CatalogSchema>) {}

  /** Records a run that ended; recording the same id again replaces it. */
  async record(run: RunRecord, parts: readonly RunPart[] = []): Promise<void> {
    const started = run.started.getTime();
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('runs').where('id', '=', run.id).execute();
      await trx.deleteFrom('run_accounts').where('run_id', '=', run.id).execute();
      await trx
        .insertInto('runs')
        .values({
          id: run.id,
          kind: run.kind,
          started,
          finished: run.finished.getTime(),
          outcome: run.outcome,
          counts: JSON.stringify(run.counts),
          error: run.error,
          hook: run.hook ? JSON.stringify(run.hook) : null,
        })
        .execute();
      for (let from = 0; from < parts.length; from += PARTS_PER_INSERT) {
        await trx
          .insertInto('run_accounts')
          .values(
            parts.slice(from, from + PARTS_PER_INSERT).map((part) => ({
              run_id: run.id,
              source: part.source,
              name: part.name,
              started,
              ok: part.ok ? 1 : 0,
              error: part.error,
              snapshot: part.snapshot,
            })),
          )
          .execute();
      }
    });
  }

  /** Adds how the hook after a recorded run went. */
  async setHook(id: string, hook: HookRecord): Promise<void> {
    await this.db
      .updateTable('runs')
      .set({ hook: JSON.stringify(hook) })
      .where('id', '=', id)
      .execute();
  }

  async run(id: string): Promise<RunRecord | null> {
    const row = await this.db
      .selectFrom('runs')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toRunRecord(row) : null;
  }

  /** The accounts a run was asked for, in the order recorded. */
  async parts(id: string): Promise<RunPart[]> {
    const rows = await this.db
      .selectFrom('run_accounts')
      .select(['source', 'name', 'ok', 'error', 'snapshot'])
      .where('run_id', '=', id)
      .execute();
    return rows.map((row) => ({ ...row, ok: row.ok === 1 }));
  }

  /** The newest runs first, of one kind or all. */
  async recent(options: { kind?: string; limit?: number } = {}): Promise<RunRecord[]> {
    let query = this.db
      .selectFrom('runs')
      .selectAll()
      .orderBy('started', 'desc')
      .orderBy('id', 'desc')
      .limit(options.limit ?? 20);
    if (options.kind !== undefined) query = query.where('kind', '=', options.kind);
    return (await query.execute()).map(toRunRecord);
  }

  /** For each kind of run: the latest, and when the latest that went well (ok) started. */
  async lastOfEachKind(): Promise<Array<{ last: RunRecord; lastOk: Date | null }>> {
    const kinds = await this.db.selectFrom('runs').select('kind').distinct().execute();
    const result: Array<{ last: RunRecord; lastOk: Date | null }> = [];
    for (const { kind } of kinds.sort((a, b) => a.kind.localeCompare(b.kind))) {
      const [last] = await this.recent({ kind, limit: 1 });
      const ok = await this.db
        .selectFrom('runs')
        .select('started')
        .where('kind', '=', kind)
        .where('outcome', '=', 'ok')
        .orderBy('started', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (last) result.push({ last, lastOk: ok ? new Date(Number(ok.started)) : null });
    }
    return result;
  }

  /** Each account's latest attempt, by the run's start (one row per account). */
  async lastAttempts(): Promise<LastAttempt[]> {
    const latest = this.db
      .selectFrom('run_accounts')
      .select((eb) => ['source', 'name', eb.fn.max('started').as('started')])
      .groupBy(['source', 'name']);
    const rows = await this.db
      .selectFrom('run_accounts as r')
      .innerJoin(latest.as('m'), (join) =>
        join
          .onRef('m.source', '=', 'r.source')
          .onRef('m.name', '=', 'r.name')
          .onRef('m.started', '=', 'r.started'),
      )
      .select(['r.run_id', 'r.source', 'r.name', 'r.started', 'r.ok', 'r.error', 'r.snapshot'])
      .orderBy('r.source')
      .orderBy('r.name')
      .orderBy('r.run_id')
      .execute();
    // Two runs started in the same millisecond: the later id wins.
    const byAccount = new Map<string, LastAttempt>();
    for (const row of rows) {
      byAccount.set(`${row.source}\0${row.name}`, {
        run: row.run_id,
        source: row.source,
        name: row.name,
        started: new Date(Number(row.started)),
        ok: row.ok === 1,
        error: row.error,
        snapshot: row.snapshot,
      });
    }
    return [...byAccount.values()];
  }

  /** Each account's (and file set's, and command's) latest snapshot. */
  async lastBackups(): Promise<LastBackup[]> {
    const rows = await this.db
      .selectFrom('accounts as a')
      .innerJoin('snapshots as s', 's.account_id', 'a.id')
      .select((eb) => ['a.source', 'a.name', 'a.gone_since', eb.fn.max('s.time').as('time')])
      .groupBy(['a.id', 'a.source', 'a.name', 'a.gone_since'])
      .orderBy('a.source')
      .orderBy('a.name')
      .execute();
    return rows.map((row) => ({
      source: row.source,
      name: row.name,
      time: new Date(Number(row.time)),
      goneSince: row.gone_since === null ? null : new Date(Number(row.gone_since)),
    }));
  }
}

function toRunRecord(row: RunRow): RunRecord {
  return {
    id: row.id,
    kind: row.kind,
    started: new Date(Number(row.started)),
    finished: new Date(Number(row.finished)),
    outcome: row.outcome,
    counts: JSON.parse(row.counts) as Record<string, number>,
    error: row.error,
    hook: row.hook === null ? null : (JSON.parse(row.hook) as HookRecord),
  };
}

/** A run's id, as backup runs are named: its start (UTC, to the second) and 8 random hex digits. */
export function newRunId(started: Date): string {
  const stamp = started.toISOString().replace(/[-:]/g, '').slice(0, 15);
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}
