/**
 * The repository a copy goes to: created as a replica of the source when the location is empty,
 * else opened with its own passphrase and accepted only if it shares the source's master key,
 * the one condition under which sealed objects can be copied as they are.
 */
import { timingSafeEqual } from 'node:crypto';
import type { MasterKey } from '../repository/crypto/master-key.js';
import { Repository, type UnreadableFile } from '../repository/repository.js';
import type { Storage } from '../storage/storage.js';

/** A destination that cannot take copies from this source: bad usage, nothing was written. */
export class CopyRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CopyRefusedError';
  }
}

export interface Destination {
  repository: Repository;
  /** True when this run created it. */
  created: boolean;
  /** Index files of the destination that could not be read (their objects are sent again). */
  damagedIndexes: UnreadableFile[];
}

/**
 * Opens the repository at `storage` if there is one (nothing is written): null when the location
 * holds none yet, for createDestination once the copy is known to be possible.
 */
export async function openDestination(
  source: Repository,
  storage: Storage,
  passphrase: string,
): Promise<Destination | null> {
  if (storage.location === source.storage.location)
    throw new CopyRefusedError(
      `the destination ${storage.location} is the source repository itself`,
    );
  if (!(await holdsConfig(storage))) return null;
  // The format version first, as for the source: a newer one should say so before a passphrase.
  await Repository.readConfig(storage);
  const repository = await Repository.open(storage, passphrase);
  if (!sameMasterKey(repository.key, source.key))
    throw new CopyRefusedError(
      `the repository at ${storage.location} has another master key than this one, so objects cannot be copied into it as they are; ` +
        'copy to an empty location instead (`mailvault copy --to NEW-LOCATION` creates a copy destination there)',
    );
  const { damaged } = await repository.loadIndex();
  return { repository, created: false, damagedIndexes: damaged };
}

/** A new repository at `storage` sharing the source's master key, under its own passphrase. */
export async function createDestination(
  source: Repository,
  storage: Storage,
  options: { passphrase: string; scryptCost: number },
): Promise<Destination> {
  const repository = await Repository.init(storage, options.passphrase, {
    scryptCost: options.scryptCost,
    replicaOf: { key: source.key, config: source.config },
  });
  return { repository, created: true, damagedIndexes: [] };
}

async function holdsConfig(storage: Storage): Promise<boolean> {
  try {
    await storage.stat({ kind: 'config', name: 'config' });
    return true;
  } catch (error) {
    if (storage.isNotFound(error)) return false;
    throw error;
  }
}

/** Ids and sealing both come from the master key: all three parts must agree. */
function sameMasterKey(a: MasterKey, b: MasterKey): boolean {
  return (
    timingSafeEqual(a.id, b.id) &&
    timingSafeEqual(a.encryption, b.encryption) &&
    timingSafeEqual(a.chunker, b.chunker)
  );
}
