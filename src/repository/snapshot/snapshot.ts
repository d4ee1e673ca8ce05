/**
 * A snapshot file records one account (or file set, or command output) as it was at one moment:
 * who, when, and the id of its root tree object. It stands alone: everything it references is
 * reachable from its tree, whatever happened to earlier snapshots. Stored sealed, as JSON;
 * named by the SHA-256 of the stored bytes.
 */
export interface Snapshot {
  version: 1;
  /** What the tree describes: 'account' (mail folders and, later, calendars and contacts). */
  kind: string;
  /** The configured source (server) name. */
  source: string;
  /** The account (or set) name on that source. */
  name: string;
  /** When the source was read (ISO 8601, UTC). */
  time: string;
  /** The run that made it. */
  run: string;
  /** Hex id of the root tree object. */
  tree: string;
  /** The snapshot this one was made incrementally from, for information only. */
  parent: string | null;
  hostname: string;
  program: string;
  /** Counts for listings without reading the tree (items, bytes, newItems, bytesAdded...). */
  summary: Record<string, number>;
  /** Present when this snapshot was written again in place of another (format section 9.2). */
  rewritten?: RewriteNote;
}

/** What a snapshot written again without items deleted long ago says of it. */
export interface RewriteNote {
  /** The id of the snapshot it replaces. */
  from: string;
  reason: 'deletedItems';
  /** Items gone from the server before this moment were left out. */
  deletedBefore: string;
  /** Messages, calendar and contact items left out, and their bytes. */
  items: number;
  bytes: number;
}

export function encodeSnapshot(snapshot: Snapshot): Buffer {
  return Buffer.from(JSON.stringify(snapshot));
}

export function decodeSnapshot(bytes: Buffer, name: string): Snapshot {
  let parsed: Snapshot;
  try {
    parsed = JSON.parse(bytes.toString('utf8')) as Snapshot;
  } catch {
    throw new Error(`snapshot ${name} is not valid JSON`);
  }
  if (parsed.version !== 1)
    throw new Error(`snapshot ${name} has unsupported version ${String(parsed.version)}`);
  for (const field of ['kind', 'source', 'name', 'time', 'tree'] as const) {
    if (typeof parsed[field] !== 'string') throw new Error(`snapshot ${name} lacks ${field}`);
  }
  return parsed;
}
