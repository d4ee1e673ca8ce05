/**
 * A run file records what one backup run found unchanged: accounts (and file sets, commands)
 * whose tree was the same as their last snapshot's. Writing a snapshot file for each of them
 * would cost a remote request per account per run, for nothing but a time stamp; a run file
 * holds them all, so a no-change run of a thousand accounts writes one file.
 *
 * Each entry is still a snapshot in every sense that matters (a moment, a standalone tree), and
 * readers expand it into one: its id is derived from what it records, so it stays the same
 * whichever file holds it. Readers that predate run files (they live in a folder of their own)
 * see fewer moments, never wrong ones: the tree an entry names is the one of a snapshot file.
 * Format: docs/repository-format.md, section 9.1.
 */
import { createHash } from 'node:crypto';
import type { Snapshot } from './snapshot.js';

/** One unchanged account or set: a snapshot without the members its file gives once. */
export type UnchangedEntry = Pick<
  Snapshot,
  'kind' | 'source' | 'name' | 'time' | 'tree' | 'parent' | 'summary'
>;

export interface RunFile {
  version: 1;
  /** The run that wrote it. */
  run: string;
  hostname: string;
  program: string;
  unchanged: UnchangedEntry[];
}

export function encodeRunFile(file: RunFile): Buffer {
  return Buffer.from(JSON.stringify(file));
}

export function decodeRunFile(bytes: Buffer, name: string): RunFile {
  let parsed: RunFile;
  try {
    parsed = JSON.parse(bytes.toString('utf8')) as RunFile;
  } catch {
    throw new Error(`run file ${name} is not valid JSON`);
  }
  if (parsed.version !== 1)
    throw new Error(`run file ${name} has unsupported version ${String(parsed.version)}`);
  if (typeof parsed.run !== 'string') throw new Error(`run file ${name} lacks run`);
  if (!Array.isArray(parsed.unchanged)) throw new Error(`run file ${name} lacks unchanged`);
  parsed.unchanged.forEach((entry, i) => {
    for (const field of ['kind', 'source', 'name', 'time', 'tree'] as const) {
      if (typeof entry?.[field] !== 'string')
        throw new Error(`run file ${name}: entry ${i} lacks ${field}`);
    }
  });
  return parsed;
}

/**
 * The id of the snapshot an entry stands for: the SHA-256 of what identifies it (never of the
 * file holding it, so that a file rewritten with fewer entries keeps the others' ids).
 */
export function unchangedSnapshotId(entry: UnchangedEntry): string {
  const identity = JSON.stringify([entry.kind, entry.source, entry.name, entry.time, entry.tree]);
  return createHash('sha256').update(`mailvault unchanged\n${identity}`).digest('hex');
}

/** The snapshots a run file stands for, with their ids. */
export function expandRunFile(file: RunFile): Array<{ id: string; snapshot: Snapshot }> {
  return file.unchanged.map((entry) => ({
    id: unchangedSnapshotId(entry),
    snapshot: {
      version: 1,
      kind: entry.kind,
      source: entry.source,
      name: entry.name,
      time: entry.time,
      run: file.run,
      tree: entry.tree,
      parent: entry.parent ?? null,
      hostname: file.hostname,
      program: file.program,
      summary: entry.summary ?? {},
    },
  }));
}
