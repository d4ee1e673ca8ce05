/** Writes sorted UIDs as an IMAP sequence set: 1,2,3,7,9,10 -> "1:3,7,9:10". */
export function toUidSet(uids: readonly number[]): string {
  const sorted = [...uids].sort((a, b) => a - b);
  const ranges: string[] = [];
  let start = sorted[0];
  let end = start;
  for (let i = 1; i <= sorted.length; i++) {
    const uid = sorted[i];
    if (uid !== undefined && end !== undefined && uid === end + 1) {
      end = uid;
      continue;
    }
    if (uid !== undefined && uid === end) continue;
    if (start !== undefined) ranges.push(start === end ? String(start) : `${start}:${end}`);
    start = uid;
    end = uid;
  }
  return ranges.join(',');
}

/** Splits UIDs into sets short enough for one command line. */
export function uidSetBatches(uids: readonly number[], perBatch = 5000): string[] {
  const sorted = [...uids].sort((a, b) => a - b);
  const batches: string[] = [];
  for (let i = 0; i < sorted.length; i += perBatch)
    batches.push(toUidSet(sorted.slice(i, i + perBatch)));
  return batches;
}
