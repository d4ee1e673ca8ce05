import type { ImapFlow, ListResponse } from 'imapflow';
import type { Logger } from 'pino';
import { connectImap, closeQuietly, type ImapCounters } from '../../imap/connect.js';
import type { ImapEndpoint, ImapLogin } from '../../imap/endpoint.js';
import { normalizeFlags } from '../../imap/flags.js';
import { classifyImapError } from '../../imap/imap-error.js';
import { isSubscribed, readSubscriptions } from '../../imap/subscriptions.js';
import { isBodyWithNul, mayHideNul, sha256 } from '../../imap/nul-bytes.js';
import type { SpoolFile } from '../../spool/spool-file.js';
import { fetchToSpool, type SpoolOptions } from './spooled-fetch.js';
import { toUidSet, uidSetBatches } from './uid-set.js';

/** A folder as the server lists it, with the status that tells whether it changed. */
export interface FolderStatus {
  path: string;
  delimiter: string | null;
  specialUse: string | null;
  attributes: string[];
  subscribed: boolean;
  selectable: boolean;
  uidValidity: string | null;
  uidNext: number | null;
  highestModseq: string | null;
  messages: number | null;
}

interface FetchedHead {
  uid: number;
  flags: string[];
  /** INTERNALDATE as ISO 8601 UTC. */
  date: string;
  /**
   * Why these bytes may not be the message as the server holds it (NUL bytes it could only send
   * as something else), for the backup report; absent when they are.
   */
  altered?: string;
}

/** A message read whole into memory (the usual case). */
export interface BufferedMessage extends FetchedHead {
  raw: Buffer;
  spool?: undefined;
}

/**
 * A message of at least LARGE_MESSAGE_BYTES, read in ranges into a spool file that only this
 * process can read. The spool is the reader's: it stays open until the consumer asks for the
 * next message (or stops), so the consumer stores it before then and does not close it.
 */
export interface SpooledFetchedMessage extends FetchedHead {
  raw?: undefined;
  spool: SpoolFile;
}

export type FetchedMessage = BufferedMessage | SpooledFetchedMessage;

/**
 * Where and from what size messages are read in ranges into a spool file (see spooled-fetch.ts);
 * without these options every message is read whole. The backup passes LARGE_MESSAGE_BYTES.
 */
export interface LargeMessageOptions extends SpoolOptions {
  /** Messages of at least this many bytes (RFC822.SIZE) are spooled. */
  threshold: number;
}

/** The state a folder was last backed up in, to ask only for what changed since. */
export interface FolderSince {
  uidValidity: string;
  highestModseq: string | null;
}

export interface FolderChanges {
  uidValidity: string;
  uidNext: number;
  highestModseq: string | null;
  /** Messages in the folder when it was opened. */
  exists: number;
  /**
   * complete: `flags` holds every message of the folder; anything else is gone.
   * incremental: `flags` holds only messages changed or added since, `vanished` those expunged.
   */
  mode: 'complete' | 'incremental';
  flags: Map<number, string[]>;
  vanished: number[];
  /** Incremental without QRESYNC: every UID present now (what went is the rest). */
  present: Set<number> | null;
}

/** A message whose BODY[] answer may hide NUL bytes, waiting to be asked for with BINARY. */
interface Suspect {
  uid: number;
  flags: string[];
  date: string;
  bodySha256: string;
}

const ALTERED_NO_BINARY =
  'may hold NUL bytes the server sent as 0x80: it does not offer BINARY (RFC 3516), the only way to read them; kept as the server sent it';
const ALTERED_BINARY_DECODES =
  'may hold NUL bytes the server sent as 0x80, and its BINARY answer was not the same message with them back (it decodes transfer encodings); kept as the server sent it';

const STATUS_QUERY = {
  messages: true,
  uidNext: true,
  uidValidity: true,
  highestModseq: true,
} as const;

/**
 * Reads one account over IMAP: its folder tree in one round trip (LIST-STATUS where offered),
 * what changed in a folder since a known state (CONDSTORE/QRESYNC where offered, a UID/FLAGS
 * scan otherwise), and message bytes as a stream.
 */
export class ImapAccountReader {
  private constructor(
    private readonly client: ImapFlow,
    readonly where: string,
    private readonly large: LargeMessageOptions,
  ) {}

  static async open(
    endpoint: ImapEndpoint,
    login: ImapLogin,
    options: { log?: Logger; counters?: ImapCounters; large?: LargeMessageOptions } = {},
  ): Promise<ImapAccountReader> {
    const client = await connectImap(endpoint, login, options);
    return new ImapAccountReader(
      client,
      `${login.account} on ${endpoint.server}`,
      options.large ?? { threshold: Infinity },
    );
  }

  get usable(): boolean {
    return this.client.usable;
  }

  get condstore(): boolean {
    return this.client.enabled.has('CONDSTORE') || this.client.capabilities.has('CONDSTORE');
  }

  async folders(): Promise<{ folders: FolderStatus[]; orphanSubscriptions: string[] }> {
    let listed: ListResponse[];
    let subscriptions: Awaited<ReturnType<typeof readSubscriptions>>;
    try {
      listed = await this.client.list({ statusQuery: STATUS_QUERY });
      subscriptions = await readSubscriptions(this.client);
    } catch (error) {
      throw classifyImapError(error, `${this.where}: listing folders`);
    }
    const subscribed = (entry: ListResponse): boolean =>
      subscriptions ? isSubscribed(subscriptions, entry) : Boolean(entry.subscribed);
    const folders: FolderStatus[] = [];
    const orphanSubscriptions = new Set<string>();
    for (const entry of listed) {
      const attributes = [...entry.flags]
        .filter((flag) => !isSpecialUse(flag) && !isVolatile(flag))
        .sort();
      if (entry.flags.has('\\NonExistent')) {
        if (subscribed(entry)) orphanSubscriptions.add(entry.path);
        continue;
      }
      const status = entry.status;
      folders.push({
        path: entry.path,
        delimiter: entry.delimiter || null,
        // imapflow also guesses special-use from names; only the server's own word counts here.
        specialUse: entry.specialUseSource === 'extension' ? (entry.specialUse ?? null) : null,
        attributes,
        subscribed: subscribed(entry),
        selectable: !entry.flags.has('\\Noselect'),
        uidValidity: status?.uidValidity !== undefined ? String(status.uidValidity) : null,
        uidNext: status?.uidNext ?? null,
        highestModseq:
          status?.highestModseq !== undefined && status.highestModseq > 0n
            ? String(status.highestModseq)
            : null,
        messages: status?.messages ?? null,
      });
    }
    // Without LIST-EXTENDED the listing holds no names of folders that are gone: those come from
    // the subscriptions alone.
    const listedPaths = new Set(listed.map((entry) => entry.path));
    for (const name of subscriptions?.decoded ?? [])
      if (!listedPaths.has(name)) orphanSubscriptions.add(name);
    folders.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { folders, orphanSubscriptions: [...orphanSubscriptions].sort() };
  }

  /** What changed in a folder since `since` (everything, when since is null or UIDVALIDITY moved). */
  async changes(path: string, since: FolderSince | null): Promise<FolderChanges> {
    const where = `${this.where}: folder ${path}`;
    try {
      const mailbox = await this.client.mailboxOpen(path, { readOnly: true });
      const uidValidity = String(mailbox.uidValidity);
      const highestModseq =
        !mailbox.noModseq && mailbox.highestModseq ? String(mailbox.highestModseq) : null;
      const base = { uidValidity, uidNext: mailbox.uidNext, highestModseq, exists: mailbox.exists };
      if (mailbox.exists === 0)
        return { ...base, mode: 'complete', flags: new Map(), vanished: [], present: null };
      const incremental =
        since &&
        since.uidValidity === uidValidity &&
        since.highestModseq &&
        highestModseq &&
        this.client.enabled.has('CONDSTORE');
      if (!incremental)
        return {
          ...base,
          mode: 'complete',
          flags: await this.allFlags(),
          vanished: [],
          present: null,
        };

      const vanished: number[] = [];
      const onExpunge = (event: { path?: string; uid?: number; vanished?: boolean }): void => {
        if (event.vanished && event.uid !== undefined) vanished.push(event.uid);
      };
      const flags = new Map<number, string[]>();
      this.client.on('expunge', onExpunge);
      try {
        const changedSince = BigInt(since.highestModseq ?? '0');
        for await (const message of this.client.fetch(
          '1:*',
          { uid: true, flags: true },
          { uid: true, changedSince },
        )) {
          flags.set(message.uid, normalizeFlags(message.flags));
        }
      } finally {
        this.client.off('expunge', onExpunge);
      }
      if (!this.client.enabled.has('QRESYNC')) {
        // CONDSTORE without QRESYNC says what changed but not what went: compare the UID lists.
        const present = new Set((await this.client.search({ all: true }, { uid: true })) || []);
        return { ...base, mode: 'incremental', flags, vanished: [], present };
      }
      return { ...base, mode: 'incremental', flags, vanished, present: null };
    } catch (error) {
      throw classifyImapError(error, where);
    }
  }

  private async allFlags(): Promise<Map<number, string[]>> {
    const flags = new Map<number, string[]>();
    for await (const message of this.client.fetch(
      '1:*',
      { uid: true, flags: true },
      { uid: true },
    )) {
      flags.set(message.uid, normalizeFlags(message.flags));
    }
    return flags;
  }

  /**
   * Streams the messages with these UIDs from the open folder. UIDs the server does not return
   * (expunged meanwhile, or undeliverable) are simply absent; the caller compares.
   *
   * Messages are read with BODY[], which is every message's bytes as stored, except that a server
   * cannot send NUL there (see imap/nul-bytes.ts). A message whose answer may hide NUL bytes is
   * asked for again with BINARY where the server has it, after its batch, and kept in that form
   * when it is the same message with NUL bytes back in place; otherwise it is kept as served and
   * marked as possibly altered.
   */
  async *messages(path: string, uids: readonly number[]): AsyncGenerator<FetchedMessage> {
    const where = `${this.where}: folder ${path}`;
    try {
      if (this.client.mailbox === false || this.client.mailbox.path !== path)
        await this.client.mailboxOpen(path, { readOnly: true });
      for (const set of uidSetBatches(uids)) {
        const suspects: Suspect[] = [];
        const { small, large } = await this.bySize(set);
        if (small !== null) yield* this.smallMessages(small, suspects);
        for (const uid of large) yield* this.largeMessage(uid, suspects);
        yield* this.withNulBytes(suspects);
      }
    } catch (error) {
      throw classifyImapError(error, where);
    }
  }

  /**
   * The batch's UIDs parted by RFC822.SIZE (a cheap answer): those read whole as a set (null when
   * none), and those read in ranges. UIDs missing from the answer were expunged meanwhile. A
   * server that refuses the sizes is asked for the whole set as before.
   */
  private async bySize(set: string): Promise<{ small: string | null; large: number[] }> {
    if (this.large.threshold === Infinity) return { small: set, large: [] };
    const small: number[] = [];
    const large: number[] = [];
    try {
      for await (const message of this.client.fetch(set, { uid: true, size: true }, { uid: true }))
        ((message.size ?? 0) >= this.large.threshold ? large : small).push(message.uid);
    } catch (error) {
      if (!isRefusal(error)) throw error;
      return { small: set, large: [] };
    }
    large.sort((a, b) => a - b);
    return { small: small.length > 0 ? toUidSet(small) : null, large };
  }

  private async *smallMessages(set: string, suspects: Suspect[]): AsyncGenerator<FetchedMessage> {
    const delivered = new Set<number>();
    try {
      for await (const message of this.fetchBodies(set)) {
        delivered.add(message.uid);
        const screened = this.screen(message, suspects);
        if (screened) yield screened;
      }
    } catch (error) {
      if (!isRefusal(error)) throw error;
      // The server refused part of the batch (a message it cannot read): ask for the rest one
      // by one, so that only the unreadable ones are missing; the caller reports those.
      for (const uid of uidsIn(set)) {
        if (delivered.has(uid)) continue;
        try {
          for await (const message of this.fetchBodies(String(uid))) {
            const screened = this.screen(message, suspects);
            if (screened) yield screened;
          }
        } catch (single) {
          if (!isRefusal(single)) throw single;
        }
      }
    }
  }

  /**
   * A large message through a spool file, closed once the consumer moves on. One that may hide
   * NUL bytes on a server with BINARY joins the suspects, which are read whole (withNulBytes):
   * rare enough that keeping today's fidelity matters more than its memory.
   */
  private async *largeMessage(uid: number, suspects: Suspect[]): AsyncGenerator<FetchedMessage> {
    let spooled: Awaited<ReturnType<typeof fetchToSpool>>;
    try {
      spooled = await fetchToSpool(this.client, uid, this.large);
    } catch (error) {
      if (!isRefusal(error)) throw error;
      return;
    }
    if (!spooled) return;
    const { spool, mayHideNul: suspect, ...head } = spooled;
    try {
      if (suspect) {
        if (this.client.capabilities.has('BINARY')) {
          suspects.push({ ...head, bodySha256: spool.sha256() });
          return;
        }
        yield { ...head, spool, altered: ALTERED_NO_BINARY };
        return;
      }
      yield { ...head, spool };
    } finally {
      await spool.close();
    }
  }

  /** The message to hand on now, or null when it waits in `suspects` to be asked for with BINARY. */
  private screen(message: BufferedMessage, suspects: Suspect[]): BufferedMessage | null {
    if (!mayHideNul(message.raw)) return message;
    if (!this.client.capabilities.has('BINARY')) return { ...message, altered: ALTERED_NO_BINARY };
    suspects.push({
      uid: message.uid,
      flags: message.flags,
      date: message.date,
      bodySha256: sha256(message.raw),
    });
    return null;
  }

  /**
   * The suspects, asked for with BINARY: each answer that is its BODY[] answer with NUL bytes back
   * in place is the message as stored. The others (a server's BINARY[] decodes every part's
   * transfer encoding) are read again with BODY[] and marked.
   */
  private async *withNulBytes(suspects: readonly Suspect[]): AsyncGenerator<FetchedMessage> {
    if (suspects.length === 0) return;
    const byUid = new Map(suspects.map((suspect) => [suspect.uid, suspect]));
    const unresolved = new Set(byUid.keys());
    try {
      for await (const message of this.client.fetch(
        toUidSet([...byUid.keys()]),
        { uid: true, source: true },
        { uid: true, binary: true },
      )) {
        const suspect = byUid.get(message.uid);
        if (!suspect || !message.source || !isBodyWithNul(message.source, suspect.bodySha256))
          continue;
        unresolved.delete(message.uid);
        yield { uid: suspect.uid, flags: suspect.flags, date: suspect.date, raw: message.source };
      }
    } catch (error) {
      if (!isRefusal(error)) throw error;
    }
    if (unresolved.size === 0) return;
    try {
      for await (const message of this.fetchBodies(toUidSet([...unresolved])))
        yield { ...message, altered: ALTERED_BINARY_DECODES };
    } catch (error) {
      // Refused now though read a moment ago: missing, so the caller reports it undelivered.
      if (!isRefusal(error)) throw error;
    }
  }

  private async *fetchBodies(set: string): AsyncGenerator<BufferedMessage> {
    for await (const message of this.client.fetch(
      set,
      { uid: true, flags: true, internalDate: true, source: true },
      { uid: true },
    )) {
      if (!message.source) continue;
      const date =
        message.internalDate instanceof Date
          ? message.internalDate
          : new Date(String(message.internalDate));
      yield {
        uid: message.uid,
        flags: normalizeFlags(message.flags),
        date: date.toISOString(),
        raw: message.source,
      };
    }
  }

  async present(path: string, uids: readonly number[]): Promise<Set<number>> {
    try {
      if (this.client.mailbox === false || this.client.mailbox.path !== path)
        await this.client.mailboxOpen(path, { readOnly: true });
      const found = new Set<number>();
      for (const set of uidSetBatches(uids)) {
        for (const uid of (await this.client.search({ uid: set }, { uid: true })) || [])
          found.add(uid);
      }
      return found;
    } catch (error) {
      throw classifyImapError(error, `${this.where}: folder ${path}`);
    }
  }

  async close(): Promise<void> {
    await closeQuietly(this.client);
  }
}

const SPECIAL_USE = new Set([
  '\\all',
  '\\archive',
  '\\drafts',
  '\\flagged',
  '\\junk',
  '\\sent',
  '\\trash',
  '\\important',
]);

function isSpecialUse(flag: string): boolean {
  return SPECIAL_USE.has(flag.toLowerCase());
}

/** A NO or BAD answer: the connection is fine, the server declined this command. */
function isRefusal(error: unknown): boolean {
  const status = (error as { responseStatus?: string } | null)?.responseStatus;
  return status === 'NO' || status === 'BAD';
}

/** The UIDs of a set as toUidSet writes them (ranges of known UIDs, so no '*'). */
function uidsIn(set: string): number[] {
  const uids: number[] = [];
  for (const range of set.split(',')) {
    const [from, to] = range.split(':').map(Number);
    if (from === undefined || !Number.isFinite(from)) continue;
    for (let uid = from; uid <= (to ?? from); uid++) uids.push(uid);
  }
  return uids;
}

/**
 * \Marked and \Unmarked say whether a folder got mail since it was last selected: the server's
 * bookkeeping of its readers, which changes without any change to the mail (a backup's own
 * reading changes it), and which no client can set back. Kept, they would make every run see
 * every folder changed.
 */
function isVolatile(flag: string): boolean {
  const lower = flag.toLowerCase();
  return lower === '\\marked' || lower === '\\unmarked';
}
