import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { parseKeyFile } from '../repository/crypto/key-file.js';
import type { PackGroup } from '../repository/index/object-index.js';
import {
  DamagedFileError,
  type Repository,
  type UnreadableFile,
} from '../repository/repository.js';
import type { Snapshot } from '../repository/snapshot/snapshot.js';
import {
  describeUnknownKind,
  isKnownKind,
  refuseUnknownKinds,
} from '../repository/snapshot/snapshot-kind.js';
import { traceItems, type AffectedItem } from './item-trace.js';
import { checkPackHeaders, headerDamageMessage, type HeaderDamage } from './pack-headers.js';
import { SnapshotWalker } from './snapshot-walk.js';

export interface CheckOptions {
  /** Read every pack and authenticate every object. */
  readData: boolean;
  /**
   * With readData: which of the repository's packs to read (check --read-data-subset), given
   * the names the check lists anyway.
   */
  readPacks?: (packs: readonly string[]) => ReadonlySet<string>;
  log: Logger;
  onProgress?: (phase: string, done: number, total: number) => void;
  /**
   * The check is for a repair (check --repair): a snapshot of a kind this mailvault does not
   * know refuses it (UnknownSnapshotKindError) before anything else is read.
   */
  repair?: boolean;
}

/** A message (or other item) that cannot be restored as it was backed up. */
export type DamagedItem = AffectedItem;

/** A pack no readable index file lists, whose own header said what it holds. */
export interface UnindexedPack {
  pack: string;
  /** Objects its header lists that no indexed pack holds. */
  objects: number;
  /** A snapshot needs one of them: the index must list it again (check --repair). */
  needed: boolean;
}

export interface CheckReport {
  ok: boolean;
  errors: string[];
  warnings: string[];
  damagedObjects: string[];
  damagedItems: DamagedItem[];
  /** Index files (errors) and condemned files (warnings) that could not be read. */
  unreadableFiles: UnreadableFile[];
  /** Key files whose content does not match their name. */
  damagedKeys: string[];
  /** Packs in no readable index file, read from their headers. */
  unindexedPacks: UnindexedPack[];
  /** Packs in no readable index file whose header cannot be read either. */
  unreadablePacks: Array<{ pack: string; error: string }>;
  /** Items that are intact, but only in packs no readable index file lists. */
  unindexedItems: DamagedItem[];
  /** Indexed packs whose header cannot be read (their objects read through the index). */
  damagedHeaders: HeaderDamage[];
  /** Snapshot and run files that cannot be read; `damaged`: their bytes do not match their name. */
  unreadableSnapshotFiles: Array<{
    kind: 'snapshots' | 'runs';
    name: string;
    error: string;
    damaged: boolean;
  }>;
  stats: {
    keys: number;
    indexes: number;
    packs: number;
    snapshots: number;
    objects: number;
    packsRead: number;
    bytesRead: number;
  };
}

/** How many packs a message names before it only counts the rest. */
const NAMED_PACKS = 5;

/**
 * Verifies a repository. The structural check reads keys, indexes, pack headers and every tree
 * that a snapshot reaches, and makes sure every object a snapshot needs is indexed in a pack that
 * exists. Packs no readable index file lists are read from their own headers, so that what only
 * they hold is found and named (check --repair lists them again). With readData it also reads
 * every pack, checks its hash and authenticates every object. Damaged, missing or unindexed
 * objects are traced back to the messages they belong to.
 */
export async function checkRepository(
  repository: Repository,
  options: CheckOptions,
): Promise<CheckReport> {
  const report: CheckReport = {
    ok: true,
    errors: [],
    warnings: [],
    damagedObjects: [],
    damagedItems: [],
    unreadableFiles: [],
    damagedKeys: [],
    unindexedPacks: [],
    unreadablePacks: [],
    unindexedItems: [],
    damagedHeaders: [],
    unreadableSnapshotFiles: [],
    stats: { keys: 0, indexes: 0, packs: 0, snapshots: 0, objects: 0, packsRead: 0, bytesRead: 0 },
  };
  const error = (message: string): void => {
    report.errors.push(message);
  };
  const storage = repository.storage;

  // Snapshot and run files first, so that a repair refuses before the long part; their problems
  // are reported where they always were, after the packs'.
  const snapshots: Array<{ id: string; snapshot: Snapshot }> = [];
  const label = { snapshots: 'snapshot', runs: 'run file' } as const;
  for await (const entry of repository.snapshots((file, failure) =>
    report.unreadableSnapshotFiles.push({
      ...file,
      // The message names the file when it comes from reading it, not always from loading it.
      error: failure.message.includes(file.name)
        ? failure.message
        : `${label[file.kind]} ${file.name}: ${failure.message}`,
      damaged: failure instanceof DamagedFileError,
    }),
  ))
    snapshots.push(entry);
  if (options.repair)
    refuseUnknownKinds(
      'check --repair',
      snapshots,
      'What a snapshot of a kind it does not know needs cannot be told, so check --repair can neither find its damage nor repair it',
    );

  await checkKeys(repository, report);

  // Indexes: which pack holds what, loaded as every command loads them (superseded files left
  // out, condemned packs noted); an unreadable index file is an error, a condemned file a warning.
  const loaded = await repository.loadIndex();
  report.stats.indexes = loaded.files;
  report.unreadableFiles = loaded.damaged;
  for (const file of loaded.damaged) {
    if (file.kind === 'index') error(unreadableIndexMessage(file));
    else report.warnings.push(unreadableCondemnedMessage(file));
  }

  const packSizes = new Map<string, number>();
  for await (const file of storage.list('data')) packSizes.set(file.name, file.size);
  report.stats.packs = packSizes.size;
  // Every pack no readable index file lists, from its own header (loading did so for some).
  const triedAlready = new Set(loaded.fromHeaders.unreadable.map((entry) => entry.pack));
  const fromHeaders = await repository.indexFromHeaders(
    [...packSizes].flatMap(([name, size]) => (triedAlready.has(name) ? [] : [{ name, size }])),
  );
  report.unreadablePacks = [...loaded.fromHeaders.unreadable, ...fromHeaders.unreadable];

  // A pack at a time, by entry number: an object per indexed object would take hundreds of
  // megabytes at a million objects, gigabytes at tens of millions.
  const { index } = repository;
  const packsInIndex = index.packGroups();
  report.stats.objects = index.size;
  const headers = await checkPackHeaders(repository, packsInIndex, packSizes, (done, total) =>
    options.onProgress?.('pack headers', done, total),
  );
  report.errors.push(...headers.errors);
  report.damagedHeaders = headers.headers;
  for (const damage of headers.headers) error(headerDamageMessage(damage));
  const damaged = headers.damaged;

  if (options.readData)
    await readData(repository, packsInIndex, packSizes, options, report, damaged);

  // Snapshots: everything they reach must be indexed (and, after a data read, undamaged).
  for (const file of report.unreadableSnapshotFiles)
    error(
      file.damaged
        ? `${file.error}: check --repair writes it again from this machine's catalog, if the catalog recorded it`
        : file.error,
    );
  report.stats.snapshots = snapshots.length;
  // A kind this mailvault does not know is a problem it cannot check; the others are checked.
  const walkable = snapshots.filter((entry) => {
    if (isKnownKind(entry.snapshot.kind)) return true;
    error(`${describeUnknownKind(entry)}; what it needs was not checked`);
    return false;
  });
  const missing = new Set<string>();
  /** Objects snapshots need that only packs known from their headers hold. */
  const unindexed = new Set<string>();
  const neededPacks = new Set<string>();
  const walker = new SnapshotWalker(repository, {
    object: (id) => {
      const location = index.get(Buffer.from(id, 'hex'));
      if (!location) missing.add(id);
      else if (repository.packsFromHeaders.has(location.pack)) {
        unindexed.add(id);
        neededPacks.add(location.pack);
      }
    },
    unreadable: (id, use, failure) => {
      damaged.add(id);
      const where = `${use.snapshot.source}/${use.snapshot.name}${use.folder ? `, folder ${use.folder}` : ''}${use.item ? `, ${use.item}` : ''}`;
      if (!missing.has(id)) error(`${where}: tree ${id} is unreadable: ${failure.message}`);
    },
  });
  let done = 0;
  for (const { snapshot } of walkable) {
    options.onProgress?.('snapshots', ++done, walkable.length);
    await walker.walk(snapshot);
  }
  for (const id of missing) error(`object ${id} is needed by a snapshot but is in no index`);

  reportUnindexedPacks(repository, report, neededPacks, missing.size > 0);

  const bad = new Set([...damaged, ...missing]);
  report.damagedObjects = [...bad].sort();
  if (bad.size > 0) report.damagedItems = await traceItems(repository, walkable, bad);
  for (const id of bad) unindexed.delete(id);
  if (unindexed.size > 0) report.unindexedItems = await traceItems(repository, walkable, unindexed);
  report.ok = report.errors.length === 0;
  return report;
}

/**
 * Key files: each must parse, and its content must match its name (a key file is named by the
 * SHA-256 of its bytes): one damaged where the passphrase's key is sealed fails as a wrong
 * passphrase would, and only this tells the two apart.
 */
async function checkKeys(repository: Repository, report: CheckReport): Promise<void> {
  for await (const name of repository.storage.names('keys')) {
    report.stats.keys++;
    let bytes: Buffer;
    try {
      bytes = await repository.storage.load({ kind: 'keys', name });
      parseKeyFile(bytes, name);
    } catch (failure) {
      report.errors.push(`key ${name}: ${(failure as Error).message}`);
      continue;
    }
    if (createHash('sha256').update(bytes).digest('hex') === name) continue;
    report.damagedKeys.push(name);
    const short = name.slice(0, 12);
    report.errors.push(
      name === repository.keyName
        ? `key ${name}: its content does not match its name (damaged), but it still opens the repository with this passphrase: run mailvault key passwd to write it afresh`
        : `key ${name}: its content does not match its name (damaged): its passphrase may no longer open the repository; if so, remove it (mailvault key remove ${short}) and add that passphrase again (mailvault key add)`,
    );
  }
}

/** Reads every indexed pack whole, checks its hash and authenticates every object. */
async function readData(
  repository: Repository,
  packsInIndex: readonly PackGroup[],
  packSizes: ReadonlyMap<string, number>,
  options: CheckOptions,
  report: CheckReport,
  damaged: Set<string>,
): Promise<void> {
  const { index, storage } = repository;
  const toRead = options.readPacks?.([...packSizes.keys()]);
  let done = 0;
  for (const { pack, entries } of packsInIndex) {
    options.onProgress?.('reading data', ++done, packsInIndex.length);
    if (!packSizes.has(pack) || (toRead && !toRead.has(pack))) continue;
    let bytes: Buffer;
    try {
      bytes = await storage.load({ kind: 'data', name: pack });
    } catch (failure) {
      report.errors.push(`pack ${pack}: cannot read: ${(failure as Error).message}`);
      for (const entry of entries) damaged.add(index.idAt(entry).toString('hex'));
      continue;
    }
    report.stats.packsRead++;
    report.stats.bytesRead += bytes.length;
    if (createHash('sha256').update(bytes).digest('hex') !== pack)
      report.errors.push(`pack ${pack}: its content does not match its name (damaged)`);
    for (const entry of entries) {
      const id = index.idAt(entry);
      const location = index.locationAt(entry);
      try {
        repository.openObject(
          id,
          location,
          bytes.subarray(location.offset, location.offset + location.length),
          true,
        );
      } catch (failure) {
        damaged.add(id.toString('hex'));
        report.errors.push((failure as Error).message);
      }
    }
  }
}

/**
 * What the packs no readable index file lists are: those holding something a snapshot needs are
 * an error (check --repair lists them again); the others are harmless leftovers; those whose
 * header cannot be read are an error only when a snapshot needs objects found nowhere.
 */
function reportUnindexedPacks(
  repository: Repository,
  report: CheckReport,
  neededPacks: ReadonlySet<string>,
  objectsMissing: boolean,
): void {
  const counts = new Map<string, number>();
  for (const { pack, entries } of repository.index.packGroups())
    if (repository.packsFromHeaders.has(pack)) counts.set(pack, entries.length);
  report.unindexedPacks = [...repository.packsFromHeaders].map((pack) => ({
    pack,
    objects: counts.get(pack) ?? 0,
    needed: neededPacks.has(pack),
  }));
  const needed = report.unindexedPacks.filter((entry) => entry.needed);
  if (needed.length > 0) {
    const objects = needed.reduce((sum, entry) => sum + entry.objects, 0);
    report.errors.push(
      `${needed.length} pack(s) that snapshots need are in no readable index file (${named(needed.map((entry) => entry.pack))}); their own headers list ${objects} object(s), and they are read from there: check --repair lists them in the index again`,
    );
  }
  const leftovers = report.unindexedPacks.length - needed.length;
  if (leftovers > 0) {
    const damagedIndex = report.unreadableFiles.some((file) => file.kind === 'index');
    report.warnings.push(
      `${leftovers} pack(s) are in no index and no snapshot needs them (left by an interrupted backup${damagedIndex ? ' or listed only by the unreadable index file' : ''}, or being written by a backup now); harmless: prune removes them`,
    );
  }
  for (const { pack, error } of report.unreadablePacks) {
    const message = `pack ${pack} is in no index, and its header cannot be read (${error})`;
    if (objectsMissing)
      report.errors.push(
        `${message}: it may hold objects that snapshots need and no index lists (named below)`,
      );
    else report.warnings.push(`${message}; no snapshot needs anything only it may hold`);
  }
}

function unreadableIndexMessage(file: UnreadableFile): string {
  return file.damaged
    ? `${file.error}: check --repair rebuilds the index without it, from the packs' own headers`
    : `index ${file.name} cannot be read (${file.error}); its content matches its name (it was written so, by another mailvault or with another key, or the read failed): check --repair leaves it`;
}

function unreadableCondemnedMessage(file: UnreadableFile): string {
  return `${file.error}: the packs it condemned count as live until a prune condemns them again${file.damaged ? '; check --repair removes it' : ''}`;
}

function named(packs: readonly string[]): string {
  const more = packs.length > NAMED_PACKS ? ` and ${packs.length - NAMED_PACKS} more` : '';
  return packs.slice(0, NAMED_PACKS).join(', ') + more;
}
