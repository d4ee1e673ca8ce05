import type { AccountJob } from '../../backup/account-backup.js';
import type { PartClaims } from '../../backup/part-claims.js';
import type { SetJob } from '../../backup/set-job.js';
import type { Catalog } from '../../catalog/catalog.js';
import type { ClaimHolder } from '../../catalog/run-history-claims.js';
import type { Repository } from '../../repository/repository.js';

/** How a part's job is made, from its latest snapshot in the catalog. */
export interface JobMaker<J> {
  /** The id of the part's latest snapshot (null: none yet). */
  latest(): Promise<string | null>;
  make(): Promise<J>;
}

/**
 * Turns taken through the catalog with the other backup runs that share it (see
 * run-history-claims.ts). A job made before its part was taken may start from a snapshot older
 * than the part's latest (another run recorded one meanwhile): it is made again from the latest,
 * once the index has learnt what that run stored, so that none of it is stored again.
 */
export async function catalogClaims(
  catalog: Catalog,
  repository: Repository,
  run: string,
  makers: { accounts: Map<AccountJob, JobMaker<AccountJob>>; sets: Map<SetJob, JobMaker<SetJob>> },
): Promise<PartClaims> {
  const { BackupClaims } = await import('../../catalog/run-history-claims.js');
  const claims = new BackupClaims(catalog.db, run);
  const current = async <J>(job: J, parent: string | null, maker?: JobMaker<J>): Promise<J> => {
    if (!maker || (await maker.latest()) === parent) return job;
    await repository.refreshIndex();
    return maker.make();
  };
  return {
    take: async ({ source, name }) => {
      const holder = await claims.take(source, name);
      return holder === null ? null : describeHolder(holder);
    },
    release: ({ source, name }) => claims.release(source, name),
    releaseAll: () => claims.releaseAll(),
    currentAccount: (job) => current(job, job.parent?.id ?? null, makers.accounts.get(job)),
    currentSet: (job) => current(job, job.parent, makers.sets.get(job)),
  };
}

/** "backup run 20261207T010000-1a2b3c4d (process 4242 on backup1, since 2026-12-07T01:00:03.000Z)" */
function describeHolder(holder: ClaimHolder): string {
  const process =
    holder.pid === null ? '' : `process ${holder.pid} on ${holder.host ?? 'an unknown host'}, `;
  return `backup run ${holder.run} (${process}since ${holder.since.toISOString()})`;
}
