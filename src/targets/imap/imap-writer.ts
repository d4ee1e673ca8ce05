import { backoff, delay, type ImapCounters } from '../../imap/connect.js';
import type { ImapEndpoint, ImapLogin } from '../../imap/endpoint.js';
import { ImapError } from '../../imap/imap-error.js';
import { holdsNul } from '../../imap/nul-bytes.js';
import {
  CommandChannel,
  isStreamedLiteral,
  type CommandPiece,
  type StreamedLiteral,
} from './command-channel.js';
import { parseStatus, type ServerResponse } from './response-reader.js';
import { imapDate, isAtom, mailboxName, parseAppendUid, quote } from './wire-format.js';

export interface AppendMessage {
  flags: string[];
  date: Date;
  /**
   * The message's bytes, in one buffer or as consecutive pieces, or streamed (a large message,
   * alone in its APPEND).
   */
  raw: Buffer | readonly Buffer[] | StreamedLiteral;
}

export type { StreamedLiteral };

export interface AppendOutcome {
  /** UIDs given by APPENDUID (UIDPLUS), in message order, when the server said. */
  uids: number[] | null;
}

/**
 * A minimal IMAP client for writing: login, CREATE, SUBSCRIBE and APPEND. It speaks MULTIAPPEND
 * (RFC 3502) with LITERAL+ (RFC 7888), so a batch of messages costs one round trip instead of one
 * per message; without them it falls back to one APPEND per message and synchronising literals.
 */
export class ImapWriter {
  private constructor(private readonly channel: CommandChannel) {}

  get capabilities(): ReadonlySet<string> {
    return this.channel.capabilities;
  }

  /** Whether APPEND commands may be pipelined (see CommandChannel.pipelines). */
  get pipelines(): boolean {
    return this.channel.pipelines;
  }

  static async open(
    endpoint: ImapEndpoint,
    login: ImapLogin,
    counters?: ImapCounters,
  ): Promise<ImapWriter> {
    const where = `${endpoint.server} (${endpoint.host}:${endpoint.port}) as ${login.account}`;
    for (let attempt = 0; ; attempt++) {
      try {
        const writer = new ImapWriter(await CommandChannel.connect(endpoint, where, counters));
        try {
          await writer.login(login);
        } catch (error) {
          writer.channel.destroy();
          throw error;
        }
        return writer;
      } catch (error) {
        const failure =
          error instanceof ImapError
            ? error
            : new ImapError(
                'unreachable',
                `${where}: cannot connect: ${(error as Error).message}`,
                { cause: error },
              );
        if (!failure.retryable || attempt >= endpoint.retries) throw failure;
        await delay(backoff(attempt));
      }
    }
  }
  private async login(login: ImapLogin): Promise<void> {
    let response: ServerResponse;
    try {
      if (login.mode === 'master') {
        response = await this.channel.send(
          [
            `LOGIN ${quote(`${login.account}${login.separator}${login.admin}`)} ${quote(login.password)}`,
          ],
          'LOGIN',
        );
      } else {
        const user = login.mode === 'authzid' ? login.admin : login.account;
        const authzid = login.mode === 'authzid' ? login.account : '';
        const token = Buffer.from(`${authzid}\0${user}\0${login.password}`, 'utf8').toString(
          'base64',
        );
        response = await this.channel.authenticatePlain(token);
      }
    } catch (error) {
      if (error instanceof ImapError && error.kind === 'refused')
        throw new ImapError(
          'auth',
          `${this.channel.where}: login refused: ${error.message.split(': ').pop()}`,
        );
      throw error;
    }
    await this.channel.refreshCapabilities(response.text);
  }
  /** Creates a folder; true if created, false if it already existed. */
  async create(path: string, specialUse: string | null): Promise<boolean> {
    const use =
      specialUse && this.channel.capabilities.has('CREATE-SPECIAL-USE')
        ? ` (USE (${specialUse}))`
        : '';
    try {
      await this.channel.command(`CREATE ${mailboxName(path)}${use}`);
      return true;
    } catch (error) {
      if (error instanceof ImapError && /ALREADYEXISTS/i.test(error.message)) return false;
      throw error;
    }
  }
  async subscribe(path: string): Promise<void> {
    await this.channel.command(`SUBSCRIBE ${mailboxName(path)}`);
  }
  /** Appends messages in one MULTIAPPEND command where the server offers it (atomic: all or none). */
  async append(path: string, messages: readonly AppendMessage[]): Promise<AppendOutcome> {
    if (messages.length > 1 && !this.channel.capabilities.has('MULTIAPPEND')) {
      const uids: number[] = [];
      for (const message of messages)
        uids.push(...((await this.append(path, [message])).uids ?? []));
      return { uids: uids.length === messages.length ? uids : null };
    }
    if (!this.channel.capabilities.has('BINARY')) {
      // Without BINARY a NUL byte cannot travel (RFC 3501 literals exclude it): the server would
      // refuse the message or store something else. Refused here, the message is reported.
      const withNul = messages.findIndex((message) =>
        isStreamedLiteral(message.raw) ? message.raw.holdsNul : pieces(message.raw).some(holdsNul),
      );
      if (withNul >= 0)
        throw new ImapError(
          'refused',
          `${this.channel.where}: APPEND to ${path} refused: the message holds NUL bytes, which this server cannot take: it does not offer BINARY (RFC 3516)`,
        );
    }
    const command: CommandPiece[] = [`APPEND ${mailboxName(path)}`];
    for (const message of messages) {
      const flags = message.flags.filter(
        (flag) => isAtom(flag) && flag.toLowerCase() !== '\\recent',
      );
      command.push(` (${flags.join(' ')}) "${imapDate(message.date)}" `, { literal: message.raw });
    }
    const response = await this.channel.send(command, `APPEND to ${path}`);
    return { uids: parseAppendUid(parseStatus(response.text).code) };
  }
  async logout(): Promise<void> {
    try {
      if (!this.channel.isClosed) await this.channel.command('LOGOUT');
    } catch {
      // The server may close before answering; either way we are done.
    } finally {
      this.channel.destroy();
    }
  }
}

function pieces(raw: Buffer | readonly Buffer[]): readonly Buffer[] {
  return Buffer.isBuffer(raw) ? [raw] : raw;
}
