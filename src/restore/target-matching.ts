import { createHash } from 'node:crypto';
import { sameFlags } from '../imap/flags.js';
import type { MessageEntry } from '../mailbox/folder-listing.js';
import { loadMessage, readManifest } from '../mailbox/message-store.js';
import type { Repository } from '../repository/repository.js';
import { looseSha256 } from '../targets/imap/imap-target-reader.js';
import { servedSha256 } from '../imap/nul-bytes.js';
import { isLargeMessage } from '../mailbox/message-stream.js';
import { streamedWholeHashes, type WholeHashes } from './streamed-hashes.js';
import type { BodyHashes, PresentMessage, RestoreTarget } from './restore-target.js';

/**
 * Which backed-up messages a target folder already holds. Each message on the target can stand
 * for one backed-up message only, so two identical copies need two on the target.
 *
 * Copies are paired in two rounds: first a backed-up message with a target message of the same
 * bytes and the same flags, then with one of the same bytes whatever its flags (a copy read or
 * flagged since the backup is still that message, and is left as it is). So of two identical
 * messages with different flags, the one missing is the one whose flags no copy on the target has,
 * and it goes back with its own flags.
 *
 * In each round, "the same bytes" is decided in steps, cheapest first:
 * 1. Same size and same header block carrying a Message-ID, Date or Received field: the same
 *    message (those fields differ between any two real messages). A header without any of them
 *    proves nothing, and goes to the next step.
 * 2. Same size, different header cut (servers cut malformed headers differently): compare the
 *    SHA-256 of the whole messages.
 * 3. No match, but a header equal once CR bytes are ignored: the server rewrote line endings when it
 *    stored the earlier copy (Dovecot drops a final bare CR); compare whole messages the same way.
 *    A message with CR-only lines has no header end for the server, whose header is then the whole
 *    message: those are compared whole, CR bytes ignored.
 * A message holding NUL bytes is served by a server without them (Dovecot sends 0x80 in their
 * place unless asked with BINARY): it is compared as the server serves it too.
 */
export async function findMissing(
  repository: Repository,
  target: RestoreTarget,
  destination: string,
  entries: readonly MessageEntry[],
  present: readonly PresentMessage[],
  largeMessageBytes?: number,
): Promise<{ missing: MessageEntry[]; alreadyPresent: number }> {
  if (present.length === 0) return { missing: [...entries], alreadyPresent: 0 };
  const matcher = new Matcher(repository, target, destination, present, largeMessageBytes);
  const unmatched = await matcher.match(entries, (entry, message) =>
    sameFlags(entry.flags, message.flags),
  );
  const missing = await matcher.match(unmatched, () => true);
  return { missing: missing.sort((a, b) => a.uid - b.uid), alreadyPresent: matcher.claimed };
}

type Accepts = (entry: MessageEntry, message: PresentMessage) => boolean;

/** The target folder's messages, each claimed by at most one backed-up message. */
class Matcher {
  claimed = 0;
  private readonly used = new Set<number>();
  private readonly bySize: Map<string, PresentMessage[]>;
  private readonly byLooseHeader: Map<string, PresentMessage[]>;
  private readonly headerless: PresentMessage[];
  private readonly headers = new Map<string, Buffer>();
  private readonly wholeHashes = new Map<string, WholeHashes>();
  private readonly bodyHashes = new Map<number, BodyHashes>();

  constructor(
    private readonly repository: Repository,
    private readonly target: RestoreTarget,
    private readonly destination: string,
    present: readonly PresentMessage[],
    /** Messages at least this large are hashed as a stream (default LARGE_MESSAGE_BYTES). */
    private readonly largeMessageBytes?: number,
  ) {
    this.bySize = groupBy(present, (message) => String(message.size));
    this.byLooseHeader = groupBy(present, (message) => message.headerLooseSha256);
    this.headerless = present.filter((message) => message.headerIsWhole);
  }

  /** Claims a target message for each entry it can; returns the entries left without one. */
  async match(entries: readonly MessageEntry[], accepts: Accepts): Promise<MessageEntry[]> {
    const free = (entry: MessageEntry) => (message: PresentMessage) =>
      !this.used.has(message.uid) && accepts(entry, message);
    const unmatched: Array<{ entry: MessageEntry; sameSize: PresentMessage[] }> = [];
    for (const entry of entries) {
      const sameSize = (this.bySize.get(String(entry.size)) ?? []).filter(free(entry));
      if (sameSize.length === 0) {
        unmatched.push({ entry, sameSize });
        continue;
      }
      const header = await this.headerOf(entry);
      const headerSha256 = createHash('sha256').update(header).digest('hex');
      const match = isDistinctive(header)
        ? sameSize.find((message) => message.headerSha256 === headerSha256)
        : undefined;
      if (match) this.claim(match);
      else unmatched.push({ entry, sameSize });
    }

    const missing: MessageEntry[] = [];
    const pending: Array<{ entry: MessageEntry; candidates: PresentMessage[] }> = [];
    for (const { entry, sameSize } of unmatched) {
      const loose = this.byLooseHeader.get(looseSha256(await this.headerOf(entry))) ?? [];
      const candidates = [...new Set([...sameSize, ...loose])].filter(free(entry));
      if (candidates.length > 0) {
        pending.push({ entry, candidates });
        continue;
      }
      const unclaimed = this.headerless.filter(free(entry));
      const whole = unclaimed.length > 0 ? await this.wholeOf(entry) : null;
      const match = unclaimed.find((message) => message.headerLooseSha256 === whole?.loose);
      if (match) this.claim(match);
      else missing.push(entry);
    }
    if (pending.length > 0) {
      const hashes = await this.hashesOf(pending.flatMap((item) => item.candidates));
      for (const { entry, candidates } of pending) {
        const open = candidates.filter(free(entry));
        let match = open.find((message) => hashes.get(message.uid)?.sha256 === entry.sha256);
        if (!match && open.length > 0) {
          const whole = await this.wholeOf(entry);
          match = open.find(
            (message) =>
              hashes.get(message.uid)?.looseSha256 === whole.loose ||
              (whole.served !== null && hashes.get(message.uid)?.sha256 === whole.served),
          );
        }
        if (match) this.claim(match);
        else missing.push(entry);
      }
    }
    return missing;
  }

  private claim(message: PresentMessage): void {
    this.used.add(message.uid);
    this.claimed++;
  }

  private async headerOf(entry: MessageEntry): Promise<Buffer> {
    let header = this.headers.get(entry.manifest);
    if (!header) {
      const manifest = await readManifest(this.repository, entry.manifest);
      header = await this.repository.readObject(Buffer.from(manifest.header, 'hex'));
      this.headers.set(entry.manifest, header);
    }
    return header;
  }

  /** Hashes of a backed-up message as a server may have rewritten it (line endings, NUL bytes). */
  private async wholeOf(entry: MessageEntry): Promise<WholeHashes> {
    let whole = this.wholeHashes.get(entry.manifest);
    if (!whole) {
      // A large message is hashed as it is read, never held whole.
      if (isLargeMessage(entry.size, this.largeMessageBytes)) {
        whole = await streamedWholeHashes(this.repository, entry.manifest);
      } else {
        const raw = await loadMessage(this.repository, entry.manifest);
        whole = { loose: looseSha256(raw), served: servedSha256(raw) };
      }
      this.wholeHashes.set(entry.manifest, whole);
    }
    return whole;
  }

  /** Whole-message hashes of target messages, each fetched once over both rounds. */
  private async hashesOf(messages: readonly PresentMessage[]): Promise<Map<number, BodyHashes>> {
    const wanted = [...new Set(messages.map((message) => message.uid))].filter(
      (uid) => !this.bodyHashes.has(uid),
    );
    if (wanted.length > 0)
      for (const [uid, hashes] of await this.target.bodyHashes(this.destination, wanted))
        this.bodyHashes.set(uid, hashes);
    return this.bodyHashes;
  }
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
