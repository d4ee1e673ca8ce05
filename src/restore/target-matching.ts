import { createHash } from 'node:crypto';
import type { MessageEntry } from '../mailbox/folder-listing.js';
import { loadMessage, readManifest } from '../mailbox/message-store.js';
import type { Repository } from '../repository/repository.js';
import { looseSha256 } from '../targets/imap/imap-target-reader.js';
import type { PresentMessage, RestoreTarget } from './restore-target.js';

/**
 * Which backed-up messages a target folder already holds. Each message on the target can stand
 * for one backed-up message only, so two identical copies need two on the target.
 *
 * 1. Same size and same header block carrying a Message-ID, Date or Received field: the same
 *    message (those fields differ between any two real messages). A header without any of them
 *    proves nothing, and goes to the next step.
 * 2. Same size, different header cut (servers cut malformed headers differently): compare the
 *    SHA-256 of the whole messages.
 * 3. No match, but a header equal once CR bytes are ignored: the server rewrote line endings when it
 *    stored the earlier copy (Dovecot drops a final bare CR); compare whole messages the same way.
 *    A message with CR-only lines has no header end for the server, whose header is then the whole
 *    message: those are compared whole, CR bytes ignored.
 */
export async function findMissing(
  repository: Repository,
  target: RestoreTarget,
  destination: string,
  entries: readonly MessageEntry[],
  present: readonly PresentMessage[],
): Promise<{ missing: MessageEntry[]; alreadyPresent: number }> {
  if (present.length === 0) return { missing: [...entries], alreadyPresent: 0 };
  const used = new Set<number>();
  const bySize = groupBy(present, (message) => String(message.size));
  let alreadyPresent = 0;
  const claim = (uid: number): void => {
    used.add(uid);
    alreadyPresent++;
  };
  const headers = new Map<string, Buffer>();
  const headerOf = async (entry: MessageEntry): Promise<Buffer> => {
    let header = headers.get(entry.manifest);
    if (!header) {
      const manifest = await readManifest(repository, entry.manifest);
      header = await repository.readObject(Buffer.from(manifest.header, 'hex'));
      headers.set(entry.manifest, header);
    }
    return header;
  };

  const unmatched: Array<{ entry: MessageEntry; sameSize: PresentMessage[] }> = [];
  for (const entry of entries) {
    const sameSize = (bySize.get(String(entry.size)) ?? []).filter(
      (message) => !used.has(message.uid),
    );
    if (sameSize.length === 0) {
      unmatched.push({ entry, sameSize });
      continue;
    }
    const header = await headerOf(entry);
    const headerSha256 = createHash('sha256').update(header).digest('hex');
    const match = isDistinctive(header)
      ? sameSize.find((message) => message.headerSha256 === headerSha256)
      : undefined;
    if (match) claim(match.uid);
    else unmatched.push({ entry, sameSize });
  }

  const missing: MessageEntry[] = [];
  const byLooseHeader = groupBy(present, (message) => message.headerLooseSha256);
  const candidatesOf = async (item: {
    entry: MessageEntry;
    sameSize: PresentMessage[];
  }): Promise<PresentMessage[]> => {
    const loose = byLooseHeader.get(looseSha256(await headerOf(item.entry))) ?? [];
    return [...new Set([...item.sameSize, ...loose])].filter((message) => !used.has(message.uid));
  };
  const pending: Array<{ entry: MessageEntry; candidates: PresentMessage[] }> = [];
  const headerless = present.filter((message) => message.headerIsWhole);
  for (const item of unmatched) {
    const candidates = await candidatesOf(item);
    if (candidates.length > 0) {
      pending.push({ entry: item.entry, candidates });
      continue;
    }
    const unclaimed = headerless.filter((message) => !used.has(message.uid));
    const loose =
      unclaimed.length > 0 ? looseSha256(await loadMessage(repository, item.entry.manifest)) : '';
    const match = unclaimed.find((message) => message.headerLooseSha256 === loose);
    if (match) claim(match.uid);
    else missing.push(item.entry);
  }
  if (pending.length > 0) {
    const uids = [
      ...new Set(pending.flatMap((item) => item.candidates.map((message) => message.uid))),
    ];
    const hashes = await target.bodyHashes(destination, uids);
    for (const { entry, candidates } of pending) {
      let match = candidates.find(
        (message) => !used.has(message.uid) && hashes.get(message.uid)?.sha256 === entry.sha256,
      );
      if (!match) {
        const loose = looseSha256(await loadMessage(repository, entry.manifest));
        match = candidates.find(
          (message) => !used.has(message.uid) && hashes.get(message.uid)?.looseSha256 === loose,
        );
      }
      if (match) claim(match.uid);
      else missing.push(entry);
    }
  }
  return { missing: missing.sort((a, b) => a.uid - b.uid), alreadyPresent };
}

function groupBy<T>(values: readonly T[], key: (value: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const value of values) {
    const k = key(value);
    const group = groups.get(k);
    if (group) group.push(value);
    else groups.set(k, [value]);
  }
  return groups;
}

/** Whether a header block carries a field that tells one real message from another. */
function isDistinctive(header: Buffer): boolean {
  return /^(message-id|date|received)[ \t]*:/im.test(header.toString('latin1'));
}
