import type { Logger } from 'pino';
import type { ImapCounters } from '../../imap/connect.js';
import type { ImapEndpoint, ImapLogin } from '../../imap/endpoint.js';
import {
  ImapTargetReader,
  type BodyHashes,
  type PresentMessage,
  type TargetFolder,
} from './imap-target-reader.js';
import { ImapWriter, type AppendMessage, type AppendOutcome } from './imap-writer.js';

/**
 * An IMAP account as a restore target: imapflow reads what is there, the writer adds what is
 * missing (two connections, so a long fetch never holds up an append).
 */
export class ImapRestoreTarget {
  private constructor(
    private readonly reader: ImapTargetReader,
    private readonly writer: ImapWriter,
  ) {}

  static async open(
    endpoint: ImapEndpoint,
    login: ImapLogin,
    options: { log?: Logger; counters?: ImapCounters } = {},
  ): Promise<ImapRestoreTarget> {
    const reader = await ImapTargetReader.open(endpoint, login, options);
    try {
      return new ImapRestoreTarget(
        reader,
        await ImapWriter.open(endpoint, login, options.counters),
      );
    } catch (error) {
      await reader.close();
      throw error;
    }
  }

  get where(): string {
    return this.reader.where;
  }

  get delimiter(): string {
    return this.reader.delimiter;
  }

  /** APPEND commands that may be in flight at once (pipelined when the server allows it). */
  get appendsInFlight(): number {
    return this.writer.pipelines ? 2 : 1;
  }

  get capabilities(): ReadonlySet<string> {
    return this.writer.capabilities;
  }

  folders(): Promise<TargetFolder[]> {
    return this.reader.folders();
  }

  present(path: string): Promise<PresentMessage[]> {
    return this.reader.present(path);
  }

  bodyHashes(path: string, uids: readonly number[]): Promise<Map<number, BodyHashes>> {
    return this.reader.bodyHashes(path, uids);
  }

  create(path: string, specialUse: string | null): Promise<boolean> {
    return this.writer.create(path, specialUse);
  }

  subscribe(path: string): Promise<void> {
    return this.writer.subscribe(path);
  }

  append(path: string, messages: readonly AppendMessage[]): Promise<AppendOutcome> {
    return this.writer.append(path, messages);
  }

  async close(): Promise<void> {
    await Promise.all([this.reader.close(), this.writer.logout()]);
  }
}
