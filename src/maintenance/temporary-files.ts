/**
 * Temporary files (format section 12): every save writes its file under a `.tmp-` name and gives
 * it its real name once whole, so one left under a temporary name belongs to a save that never
 * finished (its process killed, its machine down, its connection lost). Readers pass over them;
 * `prune` deletes them.
 *
 * A save writes its temporary file from start to end and renames it at once, so the file's time
 * is its last write. One last written longer ago than prune's grace period is no running save's:
 * a backup may not run longer than that (format section 8.1), let alone one of its saves. A
 * younger one may be a save in progress on another machine, and is left for a later prune.
 */
import type { Storage } from '../storage/storage.js';

export interface TemporaryFilesPlan {
  /** Last written before the grace period began: deleted. */
  remove: Array<{ path: string; bytes: number; modified: Date }>;
  /** Written within the grace period (a save may be writing one now): left. */
  waiting: number;
}

export async function planTemporaryFiles(
  storage: Storage,
  due: number,
): Promise<TemporaryFilesPlan> {
  const plan: TemporaryFilesPlan = { remove: [], waiting: 0 };
  for await (const file of storage.temporaryFiles()) {
    if (file.modified.getTime() <= due)
      plan.remove.push({ path: file.path, bytes: file.size, modified: file.modified });
    else plan.waiting++;
  }
  return plan;
}

export async function removeTemporaryFiles(
  storage: Storage,
  plan: TemporaryFilesPlan,
): Promise<{ files: number; bytes: number }> {
  let bytes = 0;
  for (const file of plan.remove) {
    await storage.removeTemporary(file.path);
    bytes += file.bytes;
  }
  return { files: plan.remove.length, bytes };
}
