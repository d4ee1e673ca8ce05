import type { FileHandle } from 'node:fs/promises';

/** writev until every byte is written (one call may write less). */
export async function writeAll(file: FileHandle, parts: Buffer[]): Promise<void> {
  let rest = parts;
  while (rest.length > 0) {
    const { bytesWritten } = await file.writev(rest);
    let skip = bytesWritten;
    const next: Buffer[] = [];
    for (const part of rest) {
      if (skip >= part.length) skip -= part.length;
      else {
        next.push(skip > 0 ? part.subarray(skip) : part);
        skip = 0;
      }
    }
    rest = next;
  }
}
