/**
 * `forget`: applies the retention policy to the repository's snapshots. What a snapshot file
 * stands for goes with the file; an entry of a run file (an account found unchanged) goes by
 * writing the run file again without it, the new file saved before the old one is removed, so
 * that a forget interrupted at any moment never loses a snapshot it meant to keep (at worst an
 * entry is in both files, which readers take once: its id is the same).
 *
 * Forgetting removes only the small files that name trees; the objects no snapshot needs any
 * more stay until `prune`.
 */
import type { Repository } from '../repository/repository.js';
import { expandRunFile } from '../repository/snapshot/run-file.js';
import type { Snapshot } from '../repository/snapshot/snapshot.js';
import {
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
}

export interface ForgetOutcome {
  snapshotFilesRemoved: number;
  runFilesRewritten: number;
  runFilesRemoved: number;
}

/** Which snapshots the policy keeps and why; reads the snapshot and run files, changes nothing. */
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
  const candidates = [...found].map(([id, { snapshot }]) => ({
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
  return { groups, unreadable };
}

/** Removes what the plan forgets: snapshot files, and entries of run files. */
export async function applyForget(
  repository: Repository,
  plan: ForgetPlan,
): Promise<ForgetOutcome> {
  const outcome: ForgetOutcome = {
    snapshotFilesRemoved: 0,
    runFilesRewritten: 0,
    runFilesRemoved: 0,
  };
  const forgottenEntries = new Map<string, Set<string>>();
  for (const group of plan.groups) {
    for (const decision of group.decisions) {
      if (decision.keep) continue;
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
