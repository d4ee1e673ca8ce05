import type { Session } from '../session.js';

/** The repository in numbers: what the backups hold, what is stored, and the ratios between. */
export interface RepositoryStats {
  accounts: number;
  snapshots: number;
  /** Items and bytes in each account's latest snapshot. */
  latestItems: number;
  latestBytes: number;
  allSnapshotsBytes: number;
  objects: number;
  /** Bytes of the unique objects before compression, and as stored. */
  uniqueBytes: number;
  storedObjectBytes: number;
  packs: number;
  packBytes: number;
  deduplicationRatio: number;
  compressionRatio: number;
  /** The repository's size over the latest snapshots' mail. */
  repositoryToLatest: number;
}

export async function repositoryStats(session: Session): Promise<RepositoryStats> {
  const repository = await session.repository();
  const catalog = await session.catalog();
  const snapshots = await catalog.snapshots();
  const latest = new Map<string, (typeof snapshots)[number]>();
  for (const snapshot of snapshots) latest.set(`${snapshot.source}/${snapshot.account}`, snapshot);
  let objectBytes = 0;
  let rawObjectBytes = 0;
  for (const [, location] of repository.index.entries()) {
    objectBytes += location.length;
    rawObjectBytes += location.rawLength;
  }
  let packBytes = 0;
  let packs = 0;
  for await (const file of repository.storage.list('data')) {
    packBytes += file.size;
    packs++;
  }
  const allBytes = snapshots.reduce((sum, s) => sum + s.bytes, 0);
  const latestBytes = [...latest.values()].reduce((sum, s) => sum + s.bytes, 0);
  const stats: RepositoryStats = {
    accounts: latest.size,
    snapshots: snapshots.length,
    latestItems: [...latest.values()].reduce((sum, s) => sum + s.items, 0),
    latestBytes,
    allSnapshotsBytes: allBytes,
    objects: repository.index.size,
    uniqueBytes: rawObjectBytes,
    storedObjectBytes: objectBytes,
    packs,
    packBytes,
    deduplicationRatio: rawObjectBytes > 0 ? allBytes / rawObjectBytes : 0,
    compressionRatio: objectBytes > 0 ? rawObjectBytes / objectBytes : 0,
    repositoryToLatest: latestBytes > 0 ? packBytes / latestBytes : 0,
  };
  return stats;
}
