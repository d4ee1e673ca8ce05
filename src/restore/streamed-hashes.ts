import { createHash, type Hash } from 'node:crypto';
import { NUL_STAND_IN } from '../imap/nul-bytes.js';
import { verifyMessage } from '../mailbox/message-stream.js';
import type { Repository } from '../repository/repository.js';

/** A message's hashes as a server may have rewritten it (see target-matching.ts). */
export interface WholeHashes {
  /** SHA-256 without any CR byte (looseSha256). */
  loose: string;
  /** SHA-256 with each NUL as the stand-in a server without BINARY serves; null without NUL. */
  served: string | null;
}

/**
 * The same hashes as looseSha256 and servedSha256 of the whole message, taken piece by piece in
 * the verifying pass of a large message: both drop or replace single bytes, so the cuts between
 * pieces do not matter, and the message is never held whole.
 */
export async function streamedWholeHashes(
  repository: Repository,
  manifestId: string,
): Promise<WholeHashes> {
  const loose = createHash('sha256');
  const served = createHash('sha256');
  const verified = await verifyMessage(repository, manifestId, (piece) => {
    updateWithout(loose, piece, 0x0d);
    served.update(piece.includes(0) ? withStandIn(piece) : piece);
  });
  return {
    loose: loose.digest('hex'),
    served: verified.holdsNul ? served.digest('hex') : null,
  };
}

function updateWithout(hash: Hash, bytes: Buffer, dropped: number): void {
  let start = 0;
  for (let at = bytes.indexOf(dropped); at >= 0; at = bytes.indexOf(dropped, start)) {
    if (at > start) hash.update(bytes.subarray(start, at));
    start = at + 1;
  }
  if (start < bytes.length) hash.update(bytes.subarray(start));
}

function withStandIn(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  for (let at = copy.indexOf(0); at >= 0; at = copy.indexOf(0, at + 1)) copy[at] = NUL_STAND_IN;
  return copy;
}
