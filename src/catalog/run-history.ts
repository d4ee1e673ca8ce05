import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { CatalogSchema } from './schema.js';
import { processLiveness, type Liveness } from './run-history-liveness.js';

/**
 * The history of runs: every backup (and, as they record themselves, check, forget, prune and
 * copy) with its outcome and counts, and for a backup how each account it was asked for went.
 * A run that failed writes nothing to the repository, so this is the only place it is seen.
 *
 * A run is recorded when it starts (running), and again when it ends. One that never recorded its
 * end (killed, its machine stopped) reads back as interrupted once its process is gone: see
 * run-history-liveness.ts.
 */

/** How a run that ended went. */
export type RunOutcome = 'ok' | 'partial' | 'failed';

/** Where a run stands: ended (its outcome), still running, or interrupted before its end. */
export type RunState = RunOutcome | 'running' | 'interrupted';

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

/** A run as the history gives it back: ended, running, or interrupted. */
export interface RunEntry extends Omit<RunRecord, 'finished' | 'outcome'> {
  outcome: RunState;
  /** Null while it runs, and when it was interrupted. */
  finished: Date | null;
  /** The machine and process that ran it (null for runs recorded before these were). */
  host: string | null;
  pid: number | null;
  /** When it last said it was running (null once it ended, or when never said). */
  lastSeen: Date | null;
}

/** A run starting: who runs it, so that its death can be told from its running. */
export interface RunStart {
  id: string;
  kind: string;
  started: Date;
  host: string;
  pid: number;
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
  constructor(
    private readonly db: Kysely<CatalogSchema>,
    private readonly liveness: Liveness = processLiveness,
  ) {}

  /** Records a run as it starts: running, until record() gives its end. */
  async start(run: RunStart): Promise<void> {
    const started = run.started.getTime();
    await this.db
      .insertInto('runs')
      .values({
        id: run.id,
        kind: run.kind,
        started,
        finished: started,
        outcome: 'running',
        counts: '{}',
        error: null,
        hook: null,
        host: run.host,
        pid: run.pid,
        heartbeat: started,
      })
      .execute();
  }

  /** A running run says it still runs. */
  async beat(id: string, at: Date): Promise<void> {
    await this.db
      .updateTable('runs')
      .set({ heartbeat: at.getTime() })
      .where('id', '=', id)
      .where('outcome', '=', 'running')
      .execute();
  }

  /**
   * A run that will never record its end (its process was stopped): interrupted, with why. A run
   * that recorded its end meanwhile is left as it is.
   */
  async interrupt(id: string, at: Date, reason: string): Promise<void> {
    await this.db
      .updateTable('runs')
      .set({ outcome: 'interrupted', finished: at.getTime(), error: reason, heartbeat: null })
      .where('id', '=', id)
      .where('outcome', '=', 'running')
      .execute();
  }

  /** Forgets a run that started (a command refused as bad usage is no run to remember). */
  async discard(id: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('runs').where('id', '=', id).execute();
      await trx.deleteFrom('run_accounts').where('run_id', '=', id).execute();
    });
  }

  /** Records a run that ended; recording the same id again replaces it (its start included). */
  async record(run: RunRecord, parts: readonly RunPart[] = []): Promise<void> {
    const started = run.started.getTime();
    await this.db.transaction().execute(async (trx) => {
      const startedAs = await trx
        .selectFrom('runs')
        .select(['host', 'pid'])
        .where('id', '=', run.id)
        .executeTakeFirst();
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
          host: startedAs?.host ?? null,
          pid: startedAs?.pid ?? null,
          heartbeat: null,
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

  async run(id: string): Promise<RunEntry | null> {
    const row = await this.db
      .selectFrom('runs')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? this.toEntry(row) : null;
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
  async recent(options: { kind?: string; limit?: number } = {}): Promise<RunEntry[]> {
    let query = this.db
      .selectFrom('runs')
      .selectAll()
      .orderBy('started', 'desc')
      .orderBy('id', 'desc')
      .limit(options.limit ?? 20);
    if (options.kind !== undefined) query = query.where('kind', '=', options.kind);
    return (await query.execute()).map((row) => this.toEntry(row));
  }

  /**
   * For each kind of run: the latest that is over (ended, or interrupted), when the latest that
   * went well (ok) started, and the one running now, if any. A run in progress does not hide how
   * the one before it went.
   */
  async lastOfEachKind(): Promise<KindHistory[]> {
    const kinds = await this.db.selectFrom('runs').select('kind').distinct().execute();
    const result: KindHistory[] = [];
    for (const { kind } of kinds.sort((a, b) => a.kind.localeCompare(b.kind))) {
      const ended = await this.db
        .selectFrom('runs')
        .selectAll()
        .where('kind', '=', kind)
        .where('outcome', '!=', 'running')
        .orderBy('started', 'desc')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      // Runs that have not recorded their end: running, or interrupted without a word.
      const unended = await this.db
        .selectFrom('runs')
        .selectAll()
        .where('kind', '=', kind)
        .where('outcome', '=', 'running')
        .orderBy('started', 'desc')
        .orderBy('id', 'desc')
        .execute();
      const entries = unended.map((row) => this.toEntry(row));
      const running = entries.find((entry) => entry.outcome === 'running') ?? null;
      const over = [...entries.filter((entry) => entry.outcome !== 'running')];
      if (ended) over.push(this.toEntry(ended));
      over.sort((a, b) => b.started.getTime() - a.started.getTime());
      const ok = await this.db
        .selectFrom('runs')
        .select('started')
        .where('kind', '=', kind)
        .where('outcome', '=', 'ok')
        .orderBy('started', 'desc')
        .limit(1)
        .executeTakeFirst();
      result.push({
        kind,
        last: over[0] ?? null,
        lastOk: ok ? new Date(Number(ok.started)) : null,
        running,
      });
    }
    return result;
  }

  /** For each kind of run, when the latest that ran to its end (whatever its outcome) started. */
  async lastEnded(): Promise<Map<string, Date>> {
    const rows = await this.db
      .selectFrom('runs')
      .select((eb) => ['kind', eb.fn.max('started').as('started')])
      .where('outcome', 'in', ['ok', 'partial', 'failed'])
      .groupBy('kind')
      .execute();
    return new Map(rows.map((row) => [row.kind, new Date(Number(row.started))]));
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

  /** A row as the history tells it: a run whose process is gone reads as interrupted. */
  private toEntry(row: RunRow): RunEntry {
    const heartbeat = row.heartbeat === null ? null : Number(row.heartbeat);
    const entry: RunEntry = {
      id: row.id,
      kind: row.kind,
      started: new Date(Number(row.started)),
      finished:
        row.outcome === 'running' || row.outcome === 'interrupted'
          ? null
          : new Date(Number(row.finished)),
      outcome: row.outcome,
      counts: JSON.parse(row.counts) as Record<string, number>,
      error: row.error,
      hook: row.hook === null ? null : (JSON.parse(row.hook) as HookRecord),
      host: row.host,
      pid: row.pid === null ? null : Number(row.pid),
      lastSeen: heartbeat === null ? null : new Date(heartbeat),
    };
    if (row.outcome !== 'running') return entry;
    const gone = this.liveness.goneReason(
      { host: row.host, pid: entry.pid, heartbeat },
      Date.now(),
    );
    return gone === null ? entry : { ...entry, outcome: 'interrupted', error: gone };
  }
}

/** A kind of run's latest: what `status` says of it. */
export interface KindHistory {
  kind: string;
  /** The latest run that is over: it ended, or was interrupted (null: none yet). */
  last: RunEntry | null;
  /** When the latest that went well started. */
  lastOk: Date | null;
  /** The one in progress now. */
  running: RunEntry | null;
}

/** A run's id, as backup runs are named: its start (UTC, to the second) and 8 random hex digits. */
export function newRunId(started: Date): string {
  const stamp = started.toISOString().replace(/[-:]/g, '').slice(0, 15);
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}
