/**
 * Copies snapshots to a repository that shares the source's master key, sending only the objects
 * the destination lacks. Each snapshot's trees are walked in the source (as check walks them);
 * every object found neither on the destination nor already queued is queued; queued objects
 * are copied and indexed in batches, and only then are the snapshots of the batch written, as
 * their files are, so the destination is valid after a crash at any moment (format section 12).
 * Unchanged accounts of run files go last: a run file whose every entry was copied is written as
 * it is, under its own name; of one copied in part, the entries copied make a new run file.
 */
import { SnapshotWalker, type WalkVisitor } from '../maintenance/snapshot-walk.js';
import type { Repository } from '../repository/repository.js';
import {
  unchangedSnapshotId,
  type RunFile,
  type UnchangedEntry,
} from '../repository/snapshot/run-file.js';
import type { Snapshot } from '../repository/snapshot/snapshot.js';
import { isKnownKind, unknownKindReason } from '../repository/snapshot/snapshot-kind.js';
import { StorageError } from '../storage/storage.js';
import { PackCopier, type CopyStats } from './pack-copier.js';

/** A batch's snapshots are written once this many objects are queued (or at the end). */
const BATCH_OBJECTS = 200_000;

export type SnapshotToCopy =
  | {
      /** The snapshot file's name. */
      name: string;
      snapshot: Snapshot;
      /** The snapshot file as stored: copied byte for byte, so it keeps its name. */
      sealed: Buffer;
    }
  | {
      /** The id of the snapshot an entry of a run file stands for. */
      name: string;
      snapshot: Snapshot;
      entry: UnchangedEntry;
      /** The source's run file that holds it. */
      runFile: SourceRunFile;
    };

/** A run file of the source, as stored. */
export interface SourceRunFile {
  name: string;
  file: RunFile;
  sealed: Buffer;
}

export interface CopyFailure {
  snapshot: string;
  account: string;
  time: string;
  error: string;
}

export interface CopyProgress {
  snapshotsDone: number;
  objectsQueued: number;
  stats: CopyStats;
}

export interface CopyOutcome {
  copied: string[];
  failed: CopyFailure[];
  stats: CopyStats;
}

/** One snapshot's account as the CLI names accounts: the set or account, with its source. */
export function accountOf(snapshot: Snapshot): string {
  return `${snapshot.source}/${snapshot.name}`;
}

/**
 * Copies `snapshots` (oldest first, so each new one finds most of its objects sent with its
 * parent). A snapshot whose objects cannot all be found or read in the source is not written to
 * the destination and is reported; the others are copied.
 */
export async function copySnapshots(
  source: Repository,
  destination: Repository,
  snapshots: readonly SnapshotToCopy[],
  onProgress: (progress: CopyProgress) => void = () => undefined,
): Promise<CopyOutcome> {
  const run = new CopyRun(source, destination, onProgress);
  for (const snapshot of snapshots) await run.add(snapshot);
  await run.finishBatch();
  await run.writeRunFiles();
  return { copied: run.copied, failed: run.failed, stats: run.copier.stats };
}

class CopyRun {
  readonly copier: PackCopier;
  readonly copied: string[] = [];
  readonly failed: CopyFailure[] = [];
  /** Snapshots whose objects are all queued, waiting for the batch to be written. */
  private pending: SnapshotToCopy[] = [];
  private walker: SnapshotWalker;
  /** What went wrong in the walk of the snapshot being walked. */
  private problems: string[] = [];
  private snapshotsDone = 0;
  private visits = 0;
  /** Entries of run files whose objects are on the destination, by source run file. */
  private readonly unchanged = new Map<SourceRunFile, UnchangedEntry[]>();

  constructor(
    private readonly source: Repository,
    private readonly destination: Repository,
    private readonly onProgress: (progress: CopyProgress) => void,
  ) {
    this.copier = new PackCopier(source, destination);
    this.walker = this.newWalker();
  }

  async add(entry: SnapshotToCopy): Promise<void> {
    this.problems = [];
    // A kind this mailvault does not know cannot be copied whole: which objects it needs is
    // unknown. It is left out and listed; the newer mailvault that wrote it can copy it.
    if (!isKnownKind(entry.snapshot.kind))
      this.problems.push(`${unknownKindReason(entry.snapshot)}; copy it with that mailvault`);
    else await this.walker.walk(entry.snapshot);
    if (this.problems.length > 0) {
      this.fail(entry, this.problems);
      // Trees the failed walk marked as walked would be passed over by the next snapshots,
      // which would then miss the same problem: start the walk afresh.
      this.walker = this.newWalker();
    } else this.pending.push(entry);
    this.snapshotsDone++;
    this.report();
    if (this.copier.queuedObjects >= BATCH_OBJECTS) await this.finishBatch();
  }

  /** Copies the queued objects, then writes the batch's snapshots (unless an object was damaged). */
  async finishBatch(): Promise<void> {
    await this.copier.flush();
    const batch = this.pending;
    this.pending = [];
    const damaged = this.copier.damaged.splice(0);
    if (damaged.length > 0) {
      // Which of the batch's snapshots need them is not tracked: none is written rather than one
      // that cannot be restored. The objects that were copied stay for the next run.
      const why = `the source holds damaged objects this copy needed (${damaged.slice(0, 3).join(', ')}${damaged.length > 3 ? ', …' : ''}); run mailvault check`;
      for (const entry of batch) this.fail(entry, [why]);
      this.walker = this.newWalker();
      return;
    }
    for (const entry of batch) {
      if ('sealed' in entry) {
        await this.saveFile('snapshots', entry.name, entry.sealed);
        this.copied.push(entry.name);
      } else {
        const entries = this.unchanged.get(entry.runFile) ?? [];
        entries.push(entry.entry);
        this.unchanged.set(entry.runFile, entries);
      }
    }
    this.report();
  }

  /** Writes the run files of the entries copied (after every batch: their objects are there). */
  async writeRunFiles(): Promise<void> {
    for (const [source, entries] of this.unchanged) {
      if (entries.length === source.file.unchanged.length)
        await this.saveFile('runs', source.name, source.sealed);
      else await this.destination.saveRunFile({ ...source.file, unchanged: entries });
    }
    for (const entries of this.unchanged.values()) {
      for (const entry of entries) this.copied.push(unchangedSnapshotId(entry));
    }
    this.unchanged.clear();
  }

  private async saveFile(kind: 'snapshots' | 'runs', name: string, sealed: Buffer): Promise<void> {
    try {
      await this.destination.storage.save({ kind, name }, sealed);
    } catch (error) {
      // Written meanwhile by another copy: the name is the hash of the same bytes.
      if (!(error instanceof StorageError && error.code === 'exists')) throw error;
    }
  }

  private fail(entry: SnapshotToCopy, problems: string[]): void {
    const shown = problems.slice(0, 3).join('; ');
    this.failed.push({
      snapshot: entry.name,
      account: accountOf(entry.snapshot),
      time: entry.snapshot.time,
      error: problems.length > 3 ? `${shown}; and ${problems.length - 3} more` : shown,
    });
  }

  private newWalker(): SnapshotWalker {
    const visitor: WalkVisitor = {
      object: (hex) => this.visit(hex),
      unreadable: (id, _use, error) => this.problems.push(`tree ${id}: ${error.message}`),
    };
    return new SnapshotWalker(this.source, visitor);
  }

  /** An object the snapshot needs: queued unless the destination has it or will. */
  private visit(hex: string): void {
    const id = Buffer.from(hex, 'hex');
    if (this.copier.has(id)) return;
    const location = this.source.index.get(id);
    if (!location) this.problems.push(`object ${hex} is not in the source repository's index`);
    else this.copier.queue(id, location);
    if (++this.visits % 1000 === 0) this.report();
  }

  private report(): void {
    this.onProgress({
      snapshotsDone: this.snapshotsDone,
      objectsQueued: this.copier.queuedObjects,
      stats: this.copier.stats,
    });
  }
}
