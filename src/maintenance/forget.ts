/**
 * `forget`: applies the retention policy to the repository's snapshots. What a snapshot file
 * stands for goes with the file; an entry of a run file (an account found unchanged) goes by
 * writing the run file again without it, the new file saved before the old one is removed, so
 * that a forget interrupted at any moment never loses a snapshot it meant to keep (at worst an
 * entry is in both files, which readers take once: its id is the same).
 *
 * With `retention.deletedItems`, the kept snapshots that still hold items deleted from the server
 * longer ago are written again without them (deleted-items.ts); the new snapshot files are saved
 * before the old ones go, and name the one they replace, so that a forget interrupted between
 * the two is finished by the next.
 *
 * Forgetting removes only the small files that name trees; the objects no snapshot needs any
 * more stay until `prune`.
 */
import type { Repository } from '../repository/repository.js';
import { expandRunFile } from '../repository/snapshot/run-file.js';
import type { Snapshot } from '../repository/snapshot/snapshot.js';
import { refuseUnknownKinds } from '../repository/snapshot/snapshot-kind.js';
import { purgeDeletedItems, type SnapshotPurge } from './deleted-items.js';
import {
  compileLegalHold,
  planRetention,
  type GroupPlan,
  type RetentionOptions,
  type RetentionPolicy,
} from '../retention/retention-plan.js';

export interface ForgetDecision {
  id: string;
  time: string;
  keep: boolean;
  reasons: string[];
  /**
   * The run files that hold it, for an unchanged account's snapshot (one, or two after a
   * rewrite was interrupted); absent for a snapshot file.
   */
  runFiles?: string[];
}

export interface ForgetGroup {
  source: string;
  kind: string;
  name: string;
  /** Newest first. */
  decisions: ForgetDecision[];
}

export interface ForgetPlan {
  groups: ForgetGroup[];
  /** Snapshot and run files that cannot be read: left alone, and named. */
  unreadable: Array<{ file: string; error: string }>;
  /** Every snapshot found, by id (not part of the printed plan). */
  snapshots: ReadonlyMap<string, Snapshot>;
}

/** The kept snapshots of one account written again without items deleted long ago. */
export interface AccountPurge {
  source: string;
  name: string;
  snapshots: SnapshotPurge[];
}

export interface ForgetOutcome {
  snapshotFilesRemoved: number;
  snapshotFilesRewritten: number;
  runFilesRewritten: number;
  runFilesRemoved: number;
}

const REPLACED = 'replaced by its rewrite without deleted items';

/**
 * Which snapshots the policy keeps and why; reads the snapshot and run files, changes nothing.
 * Refuses (UnknownSnapshotKindError) when a snapshot is of a kind this mailvault does not know.
 */
export async function planForget(
  repository: Repository,
  policy: RetentionPolicy,
  options: RetentionOptions,
): Promise<ForgetPlan> {
  const unreadable: ForgetPlan['unreadable'] = [];
  const found = new Map<string, { snapshot: Snapshot; runFiles: string[] }>();
  for await (const { id, snapshot, runFile } of repository.snapshots((file, error) =>
    unreadable.push({ file: `${file.kind}/${file.name}`, error: error.message }),
  )) {
    // An entry in two run files (a rewrite interrupted) is one snapshot.
    const entry = found.get(id) ?? { snapshot, runFiles: [] };
    if (runFile !== undefined) entry.runFiles.push(runFile);
    found.set(id, entry);
  }
  refuseUnknownKinds(
    'forget',
    [...found].map(([id, { snapshot }]) => ({ id, snapshot })),
    'How the retention policy applies to a kind it does not know (what such a snapshot keeps, and what keeps it) cannot be told, so forget could remove what must stay',
  );
  // A snapshot whose rewrite was saved by a forget interrupted before it removed the old one.
  const replaced = new Set<string>();
  for (const { snapshot } of found.values()) {
    const from = snapshot.rewritten?.from;
    if (from !== undefined && found.has(from)) replaced.add(from);
  }
  const candidates = [...found]
    .filter(([id]) => !replaced.has(id))
    .map(([id, { snapshot }]) => ({
      id,
      source: snapshot.source,
      kind: snapshot.kind,
      name: snapshot.name,
      time: new Date(snapshot.time),
    }));
  const groups = planRetention(candidates, policy, options).map((group: GroupPlan) => ({
    ...group,
    decisions: group.decisions.map((decision) => {
      const entry = found.get(decision.id);
      return {
        ...decision,
        time: entry?.snapshot.time ?? '',
        ...(entry?.runFiles.length ? { runFiles: entry.runFiles } : {}),
      };
    }),
  }));
  for (const id of replaced) {
    const entry = found.get(id);
    const group = groups.find(
      (g) => g.source === entry?.snapshot.source && g.name === entry.snapshot.name,
    );
    group?.decisions.push({
      id,
      time: entry?.snapshot.time ?? '',
      keep: false,
      reasons: [REPLACED],
      ...(entry?.runFiles.length ? { runFiles: entry.runFiles } : {}),
    });
  }
  const snapshots = new Map([...found].map(([id, { snapshot }]) => [id, snapshot]));
  return { groups, unreadable, snapshots };
}

/**
 * Applies `retention.deletedItems` to the snapshots the plan keeps: finds, per account not under
 * legal hold, those holding items gone from the server before `cutoff`, and unless `dryRun`
 * writes their replacements' objects (flushed here; applyForget saves the snapshot files).
 */
export async function planDeletedItems(
  repository: Repository,
  plan: ForgetPlan,
  cutoff: Date,
  options: { legalHold: readonly string[]; dryRun: boolean },
): Promise<AccountPurge[]> {
  const held = compileLegalHold(options.legalHold);
  const writer = options.dryRun ? null : repository.writer({ workers: 0 });
  const purges: AccountPurge[] = [];
  try {
    for (const group of plan.groups) {
      if (group.kind !== 'account' || held(group.name) !== undefined) continue;
      const kept = group.decisions.flatMap((decision) => {
        const snapshot = plan.snapshots.get(decision.id);
        return decision.keep && snapshot ? [{ id: decision.id, snapshot }] : [];
      });
      const snapshots = await purgeDeletedItems(repository, kept, cutoff, writer);
      if (snapshots.length > 0) purges.push({ source: group.source, name: group.name, snapshots });
    }
    await writer?.flush();
  } finally {
    await writer?.close();
  }
  return purges;
}

/**
 * Saves the rewritten snapshots, then removes what the plan forgets and what the rewrites
 * replace: snapshot files, and entries of run files.
 */
export async function applyForget(
  repository: Repository,
  plan: ForgetPlan,
  purges: readonly AccountPurge[] = [],
): Promise<ForgetOutcome> {
  const outcome: ForgetOutcome = {
    snapshotFilesRemoved: 0,
    snapshotFilesRewritten: 0,
    runFilesRewritten: 0,
    runFilesRemoved: 0,
  };
  const gone: Array<{ id: string; runFiles?: string[] }> = [];
  for (const group of plan.groups)
    for (const decision of group.decisions) if (!decision.keep) gone.push(decision);
  const runFilesOf = new Map(
    plan.groups.flatMap((group) => group.decisions.map((d) => [d.id, d.runFiles] as const)),
  );
  for (const { snapshots } of purges) {
    for (const purge of snapshots) {
      if (!purge.replacement) continue;
      await repository.saveSnapshot(purge.replacement);
      outcome.snapshotFilesRewritten++;
      const runFiles = runFilesOf.get(purge.id);
      gone.push({ id: purge.id, ...(runFiles ? { runFiles } : {}) });
    }
  }

  const forgottenEntries = new Map<string, Set<string>>();
  for (const decision of gone) {
    if (decision.runFiles === undefined) {
      await repository.storage.remove({ kind: 'snapshots', name: decision.id });
      outcome.snapshotFilesRemoved++;
      continue;
    }
    for (const runFile of decision.runFiles) {
      const ids = forgottenEntries.get(runFile) ?? new Set<string>();
      ids.add(decision.id);
      forgottenEntries.set(runFile, ids);
    }
  }
  for (const [name, forgotten] of forgottenEntries) {
    const file = await repository.loadRunFile(name);
    const ids = expandRunFile(file).map(({ id }) => id);
    const kept = file.unchanged.filter((_, i) => !forgotten.has(ids[i] ?? ''));
    if (kept.length > 0) {
      await repository.saveRunFile({ ...file, unchanged: kept });
      outcome.runFilesRewritten++;
    } else outcome.runFilesRemoved++;
    await repository.storage.remove({ kind: 'runs', name });
  }
  return outcome;
}
