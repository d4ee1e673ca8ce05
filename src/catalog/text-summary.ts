// The summary (from, to, subject...) the catalog lists and searches a message by, when the backup
// did not hand it over: the one stored in its manifest. Manifests written before encoded words
// were decoded in every charset kept UTF-7 words as written and turned an unknown charset into
// replacement characters; such a summary is made again from the stored header, so that a
// `catalog rebuild` lists and finds older backups as it does new ones. The repository stays as it
// is (its files are never rewritten).
import { readManifest } from '../mailbox/message-store.js';
import { summarizeHeader, type HeaderSummary } from '../mime/header-summary.js';
import type { Repository } from '../repository/repository.js';

/** Whether a summary may read better made again: an encoded word left, or a character lost. */
export function mayDecodeBetter(summary: HeaderSummary): boolean {
  return [summary.from, summary.to, summary.cc, summary.subject].some(
    (field) => field.includes('=?') || field.includes('\uFFFD'),
  );
}

export async function storedSummary(
  repository: Repository,
  manifestId: string,
): Promise<HeaderSummary> {
  const manifest = await readManifest(repository, manifestId);
  if (!mayDecodeBetter(manifest.summary)) return manifest.summary;
  try {
    return summarizeHeader(await repository.readObject(Buffer.from(manifest.header, 'hex')));
  } catch {
    // A damaged header object: check names it; the stored summary is still worth listing.
    return manifest.summary;
  }
}
