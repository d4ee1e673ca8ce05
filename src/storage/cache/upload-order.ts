import type { PendingFile } from './pending-folder.js';

/**
 * Which waiting files may start uploading now, at most `room` of them, earliest first.
 *
 * The repository is written packs, then index, then snapshots, so that nothing on it ever refers
 * to a file not there yet (docs/repository-format.md, section 12). The upload keeps that order
 * across the cache: a pack refers to nothing and goes at any time, but any other file (an index,
 * a snapshot, a key, the config) goes only once every file saved before it is on the remote,
 * that is once no file with a lower sequence number waits, uploading or not. Files of other
 * processes with the same number were saved without seeing each other, so neither needs the
 * other.
 */
export function uploadable(
  waiting: readonly PendingFile[],
  uploading: ReadonlySet<string>,
  room: number,
): PendingFile[] {
  const chosen: PendingFile[] = [];
  const earliest = Math.min(...waiting.map((entry) => entry.seq));
  const sorted = [...waiting].sort((a, b) => a.seq - b.seq);
  for (const entry of sorted) {
    if (chosen.length >= room) break;
    if (uploading.has(entry.fileName)) continue;
    if (entry.kind === 'data' || entry.seq === earliest) chosen.push(entry);
  }
  return chosen;
}
