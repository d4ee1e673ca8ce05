import { createHash } from 'node:crypto';
import type { ImapFlow } from 'imapflow';
import type { Logger } from 'pino';
import { closeQuietly, connectImap, type ImapCounters } from '../../imap/connect.js';
import type { ImapEndpoint, ImapLogin } from '../../imap/endpoint.js';
import { classifyImapError } from '../../imap/imap-error.js';
import { normalizeFlags } from '../../imap/flags.js';
import { isSubscribed, readSubscriptions } from '../../imap/subscriptions.js';

export interface TargetFolder {
  path: string;
  delimiter: string | null;
  subscribed: boolean;
  selectable: boolean;
}

/** Enough of a message already in a target folder to recognise a copy of it cheaply. */
export interface PresentMessage {
  uid: number;
  size: number;
  /** Flags and keywords, sorted, without \\Recent: which of two identical copies is which. */
  flags: string[];
  /** SHA-256 of the header block as the server cuts it (BODY[HEADER]). */
  headerSha256: string;
  /** The same without CR bytes: servers that rewrite line endings keep this one. */
  headerLooseSha256: string;
  /** The server found no end of header (a message with CR-only lines): the header is the whole message. */
  headerIsWhole: boolean;
}

export interface BodyHashes {
  sha256: string;
  looseSha256: string;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** SHA-256 of the bytes without any CR: equal for copies that differ only in line endings. */
export function looseSha256(bytes: Uint8Array): string {
  const hash = createHash('sha256');
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0d) {
      if (i > start) hash.update(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  if (start < bytes.length) hash.update(bytes.subarray(start));
  return hash.digest('hex');
}

/**
 * Reads what a restore target already holds, so that a restore adds only what is missing and can
 * be repeated or resumed without duplicates.
 */
export class ImapTargetReader {
  private constructor(
    private readonly client: ImapFlow,
    readonly where: string,
  ) {}

  static async open(
    endpoint: ImapEndpoint,
    login: ImapLogin,
    options: { log?: Logger; counters?: ImapCounters } = {},
  ): Promise<ImapTargetReader> {
    return new ImapTargetReader(
      await connectImap(endpoint, login, { ...options, qresync: false }),
      `${login.account} on ${endpoint.server}`,
    );
  }

  /** The hierarchy separator of the personal namespace. */
  get delimiter(): string {
    return this.client.namespace?.delimiter || '/';
  }

  async folders(): Promise<TargetFolder[]> {
    try {
      const listed = await this.client.list();
      // imapflow calls INBOX subscribed whatever the server says: ask the server itself, or a
      // restore would never subscribe an INBOX it finds unsubscribed.
      const subscriptions = await readSubscriptions(this.client);
      return listed
        .filter((entry) => !entry.flags.has('\\NonExistent'))
        .map((entry) => ({
          path: entry.path,
          delimiter: entry.delimiter || null,
          subscribed: subscriptions
            ? isSubscribed(subscriptions, entry)
            : Boolean(entry.subscribed),
          selectable: !entry.flags.has('\\Noselect'),
        }));
    } catch (error) {
      throw classifyImapError(error, `${this.where}: listing folders`);
    }
  }

  async present(path: string): Promise<PresentMessage[]> {
    return this.inFolder(path, async (exists) => {
      const found: PresentMessage[] = [];
      if (exists === 0) return found;
      const query = { uid: true, size: true, flags: true, headers: true } as const;
      for await (const message of this.client.fetch('1:*', query, { uid: true })) {
        const header = message.headers ?? Buffer.alloc(0);
        const size = message.size ?? -1;
        found.push({
          uid: message.uid,
          size,
          flags: normalizeFlags(message.flags),
          headerSha256: sha256(header),
          headerLooseSha256: looseSha256(header),
          headerIsWhole: header.length === size,
        });
      }
      return found;
    });
  }

  /** SHA-256 of the full bytes of these messages, for telling apart two with the same size and header. */
  async bodyHashes(path: string, uids: readonly number[]): Promise<Map<number, BodyHashes>> {
    const hashes = new Map<number, BodyHashes>();
    if (uids.length === 0) return hashes;
    return this.inFolder(path, async () => {
      for await (const message of this.client.fetch(
        uids.join(','),
        { uid: true, source: true },
        { uid: true },
      )) {
        if (message.source)
          hashes.set(message.uid, {
            sha256: sha256(message.source),
            looseSha256: looseSha256(message.source),
          });
      }
      return hashes;
    });
  }

  /**
   * Runs work with the folder open read-only, and closes it afterwards: a session that keeps a
   * folder open is told of, and processes, every message the restore then appends to it, which
   * costs the server several times the work of storing them.
   */
  private async inFolder<T>(path: string, work: (exists: number) => Promise<T>): Promise<T> {
    try {
      const mailbox = await this.client.mailboxOpen(path, { readOnly: true });
      try {
        return await work(mailbox.exists);
      } finally {
        if (this.client.usable) await this.client.mailboxClose().catch(() => undefined);
      }
    } catch (error) {
      throw classifyImapError(error, `${this.where}: folder ${path}`);
    }
  }

  async close(): Promise<void> {
    await closeQuietly(this.client);
  }
}
