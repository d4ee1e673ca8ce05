/**
 * The kinds of snapshot this mailvault reads, and what it does with the others. A repository may
 * hold snapshots of a kind added by a newer mailvault (format section 9.3): their trees reference
 * objects in ways this one cannot know. Reading and writing the kinds it knows is safe beside
 * them; what decides that objects or snapshots are no longer needed (prune, forget, check
 * --repair) is not, and refuses.
 */
import type { Snapshot } from './snapshot.js';

export const KNOWN_SNAPSHOT_KINDS = ['account', 'files', 'command'] as const;
export type SnapshotKind = (typeof KNOWN_SNAPSHOT_KINDS)[number];

const known: ReadonlySet<string> = new Set(KNOWN_SNAPSHOT_KINDS);

export function isKnownKind(kind: string): kind is SnapshotKind {
  return known.has(kind);
}

/**
 * One entry for each kind this mailvault knows. Code that must treat each kind in its own way
 * (walking a snapshot's objects, tracing items) gives one of these instead of a chain of
 * `snapshot.kind === ...`, so that a new kind does not compile until every such place handles it.
 */
export type PerKind<T> = { readonly [K in SnapshotKind]: T };

/** The entry for the snapshot's kind; undefined for a kind this mailvault does not know. */
export function forKind<T>(snapshot: Pick<Snapshot, 'kind'>, entries: PerKind<T>): T | undefined {
  return isKnownKind(snapshot.kind) ? entries[snapshot.kind] : undefined;
}

/** A snapshot with its id, as Repository.snapshots() gives them. */
export interface IdentifiedSnapshot {
  id: string;
  snapshot: Snapshot;
}

/** Why a snapshot cannot be read here: its kind, and who wrote it. */
export function unknownKindReason(snapshot: Snapshot): string {
  const by = snapshot.program ? ` (${snapshot.program})` : '';
  return `its kind ${JSON.stringify(snapshot.kind)} is unknown to this mailvault: a newer mailvault${by} wrote it`;
}

/** Which snapshot, of which kind, written by what: what a user needs to act. */
export function describeUnknownKind({ id, snapshot }: IdentifiedSnapshot): string {
  return `snapshot ${id.slice(0, 8)} (${snapshot.source}/${snapshot.name}, ${snapshot.time}): ${unknownKindReason(snapshot)}`;
}

/** How many snapshots a refusal names before it only counts the rest. */
const NAMED = 5;

/** A command that cannot be carried out safely beside snapshots of a kind it does not know. */
export class UnknownSnapshotKindError extends Error {
  constructor(
    readonly command: string,
    readonly snapshots: readonly IdentifiedSnapshot[],
    /** Why the command cannot go on: what it would get wrong. */
    why: string,
  ) {
    const named = snapshots
      .slice(0, NAMED)
      .map(({ id, snapshot }) => {
        const by = snapshot.program ? `, by ${snapshot.program}` : '';
        return `${id.slice(0, 8)} (${snapshot.source}/${snapshot.name}, ${snapshot.time}, kind ${JSON.stringify(snapshot.kind)}${by})`;
      })
      .join(', ');
    const more = snapshots.length > NAMED ? ` and ${snapshots.length - NAMED} more` : '';
    const which =
      snapshots.length === 1
        ? describeUnknownKind(snapshots[0] as IdentifiedSnapshot)
        : `${snapshots.length} snapshots are of kinds unknown to this mailvault, written by a newer mailvault: ${named}${more}`;
    super(
      `${command} refused: ${which}. ${why}; run ${command} with that mailvault (or a newer one)`,
    );
    this.name = 'UnknownSnapshotKindError';
  }
}

/** Throws UnknownSnapshotKindError when any of `snapshots` is of a kind this mailvault does not know. */
export function refuseUnknownKinds(
  command: string,
  snapshots: Iterable<IdentifiedSnapshot>,
  why: string,
): void {
  const unknown = [...snapshots].filter(({ snapshot }) => !isKnownKind(snapshot.kind));
  if (unknown.length > 0) throw new UnknownSnapshotKindError(command, unknown, why);
}
