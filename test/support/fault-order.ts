// What a kill cannot show: SIGKILL leaves the page cache to the kernel, so a file given its real
// name before its bytes were flushed survives a kill intact, and is lost only to a power cut.
// The order of the steps of an uncut run shows it instead (format section 12): a file gets its
// real name (link or rename) only after its last write was flushed (fsync), and the folder it is
// named in is flushed after, so that the name itself survives.
import type { FaultStep } from './fault-run.js';

/** 'repo:data/7a/.tmp-…' -> 'repo:data/7a'. */
function folderOf(where: string): string {
  return where.slice(0, Math.max(where.indexOf(':') + 1, where.lastIndexOf('/')));
}

/** The problems of a run's write order: unflushed files named, names whose folder is not flushed. */
export function writeOrderProblems(steps: readonly FaultStep[]): string[] {
  const problems: string[] = [];
  /** Per path: whether its last write has been flushed. */
  const flushed = new Map<string, boolean>();
  /** Folders that got a name and have not been flushed since: folder -> the step naming. */
  const unflushedFolders = new Map<string, FaultStep>();
  for (const step of steps) {
    if (step.where.startsWith('catalog:')) continue; // SQLite keeps its own order
    if (step.op === 'write' || step.op === 'truncate') flushed.set(step.where, false);
    else if (step.op === 'fsync') {
      flushed.set(step.where, true);
      unflushedFolders.delete(step.where);
    } else if (step.op === 'link' || step.op === 'rename') {
      const [from = '', to = ''] = step.where.split(' -> ');
      if (flushed.get(from) === false)
        problems.push(`step ${step.n}: ${to} named before ${from} was flushed (fsync)`);
      unflushedFolders.set(folderOf(to), step);
    }
  }
  for (const [folder, step] of unflushedFolders)
    problems.push(`step ${step.n} named a file in ${folder}, which was not flushed (fsync) after`);
  return problems;
}
