import type { Logger } from 'pino';
import type { ByteTally, ObjectWriter } from '../repository/object-writer.js';
import type { Repository } from '../repository/repository.js';
import type { ItemFailure } from './item-failure.js';

/**
 * A backup of something other than a mail account, which becomes one snapshot of its own kind:
 * a file set ('files') or a command's output ('command'). The run gives it the repository and
 * the shared writer, and writes its snapshot at the next checkpoint, after the objects it needs.
 */
export interface SetJob {
  kind: 'files' | 'command';
  /** Snapshot source: 'files' or 'commands'. */
  source: string;
  /** The set's configured name. */
  name: string;
  /** Id of the set's previous snapshot, for information. */
  parent: string | null;
  /** Its tree: a run that finds the same one records the set as unchanged. */
  parentTree: string | null;
  backup(context: SetBackupContext): Promise<SetResult>;
}

export interface SetBackupContext {
  repository: Repository;
  writer: ObjectWriter;
  log: Logger;
}

export interface SetResult {
  /** Hex id of the root tree object. */
  tree: string;
  /** When the set was read. */
  time: Date;
  /** items, bytes, newItems, bytesRead (bytesAdded is taken from `added` after the flush). */
  summary: Record<string, number>;
  /** Filled in as the set's new objects are sealed. */
  added: ByteTally;
  /** Items that could not be read: the set's snapshot is written without them. */
  failures: ItemFailure[];
}

export interface SetReport {
  kind: SetJob['kind'];
  name: string;
  ok: boolean;
  snapshot: string | null;
  /** Its tree was its last snapshot's: recorded in the run file, not a snapshot file. */
  unchanged: boolean;
  error: string | null;
  items: number;
  /** Files read anew, or 1 for a command output that brought new chunks. */
  newItems: number;
  bytesRead: number;
  bytesAdded: number;
}

/**
 * The set could not be backed up at all (a command that exited non-zero, an include path that
 * cannot be read): no snapshot is written, so its previous one stays the latest.
 */
export class SetFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SetFailedError';
  }
}
