import type { Kysely } from 'kysely';
import type { CatalogSchema } from './schema.js';
import { processLiveness, type Liveness } from './run-history-liveness.js';

/**
 * Backup runs that share a catalog take turns per account, file set and command: two runs at the
 * same moment (two cron lines, a manual run beside the scheduled one) must not read the same
 * account side by side, each storing what the other stores. The run that backs one up holds it
 * here until its snapshot is recorded; another run that wants it meanwhile backs up something
 * else, or waits, and then starts from that snapshot.
 *
 * A hold is only as good as its run: one whose run has recorded its end, or whose process is gone
 * (run-history-liveness.ts), holds nothing, so a killed backup never blocks the next.
 */

// A type, not an interface: withTables wants an index signature.
type ClaimsTable = {
  backup_claims: { source: string; name: string; run_id: string; since: number };
};

type ClaimsDb = Kysely<CatalogSchema & ClaimsTable>;

/** The run that holds a part, and the process that runs it. */
export interface ClaimHolder {
  run: string;
  host: string | null;
  pid: number | null;
  since: Date;
}

export class BackupClaims {
  private readonly db: ClaimsDb;

  constructor(
    db: Kysely<CatalogSchema>,
    /** The run that takes parts. */
    private readonly run: string,
    private readonly liveness: Liveness = processLiveness,
  ) {
    this.db = db.withTables<ClaimsTable>();
  }

  /** Takes the part for this run; when another run holds it, says which (nothing is taken). */
  async take(source: string, name: string, now = new Date()): Promise<ClaimHolder | null> {
    // A look first, without the write lock: a run waiting for a part asks again and again.
    const held = await this.holder(this.db, source, name);
    if (held) return held;
    return this.db.transaction().execute(async (trx) => {
      const holder = await this.holder(trx, source, name);
      if (holder) return holder;
      await trx
        .deleteFrom('backup_claims')
        .where('source', '=', source)
        .where('name', '=', name)
        .execute();
      await trx
        .insertInto('backup_claims')
        .values({ source, name, run_id: this.run, since: now.getTime() })
        .execute();
      return null;
    });
  }

  /** Gives a part back (its snapshot is recorded, or it failed). */
  async release(source: string, name: string): Promise<void> {
    await this.db
      .deleteFrom('backup_claims')
      .where('source', '=', source)
      .where('name', '=', name)
      .where('run_id', '=', this.run)
      .execute();
  }

  /** Gives back whatever this run still holds. */
  async releaseAll(): Promise<void> {
    await this.db.deleteFrom('backup_claims').where('run_id', '=', this.run).execute();
  }

  /** Another run that holds the part and still runs, if any. */
  private async holder(
    db: Pick<ClaimsDb, 'selectFrom'>,
    source: string,
    name: string,
  ): Promise<ClaimHolder | null> {
    const row = await db
      .selectFrom('backup_claims as c')
      .leftJoin('runs as r', 'r.id', 'c.run_id')
      .select(['c.run_id', 'c.since', 'r.outcome', 'r.host', 'r.pid', 'r.heartbeat'])
      .where('c.source', '=', source)
      .where('c.name', '=', name)
      .executeTakeFirst();
    if (!row || row.run_id === this.run || row.outcome !== 'running') return null;
    const run = {
      host: row.host,
      pid: row.pid === null ? null : Number(row.pid),
      heartbeat: row.heartbeat === null ? null : Number(row.heartbeat),
    };
    if (this.liveness.goneReason(run, Date.now()) !== null) return null;
    return { run: row.run_id, host: run.host, pid: run.pid, since: new Date(Number(row.since)) };
  }
}
