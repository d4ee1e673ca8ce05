import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { ImapCounters } from '../../imap/connect.js';
import type { ImapEndpoint } from '../../imap/endpoint.js';
import { ImapError } from '../../imap/imap-error.js';
import { parseStatus, ResponseReader, type ServerResponse } from './response-reader.js';
import { checkOk } from './wire-format.js';

interface Waiter {
  tag: string;
  resolve: (response: ServerResponse) => void;
  reject: (error: Error) => void;
}

/**
 * A literal written as it is read (a large message): its length is known before its first byte
 * is, and whether it holds a NUL byte (then it goes as a literal8, RFC 3516). `pieces` may throw
 * before giving all its bytes; the command is then never completed (see CommandChannel.stream).
 */
export interface StreamedLiteral {
  readonly size: number;
  readonly holdsNul: boolean;
  pieces(): AsyncIterable<Buffer>;
}

/** A piece of a command: text, or a literal's bytes (in one buffer, several, or a stream). */
export type CommandPiece = string | { literal: Buffer | readonly Buffer[] | StreamedLiteral };

export function isStreamedLiteral(
  literal: Buffer | readonly Buffer[] | StreamedLiteral,
): literal is StreamedLiteral {
  return !Buffer.isBuffer(literal) && !Array.isArray(literal);
}

/**
 * One connection to an IMAP server as a channel for commands: tags, literals (LITERAL+ where
 * offered, synchronising otherwise), pipelining, the server's answers, TLS and STARTTLS. It knows
 * no command but the few its own set-up needs.
 */
export class CommandChannel {
  readonly capabilities = new Set<string>();
  private readonly waiters: Waiter[] = [];
  private continuation: ((response: ServerResponse) => void) | null = null;
  private nextTag = 1;
  private closed: Error | null = null;
  private greeting: ((response: ServerResponse) => void) | null = null;
  /** The command whose turn it is, when commands cannot be pipelined. */
  private turn: Promise<void> = Promise.resolve();
  /**
   * The command whose bytes are being written: a streamed literal takes many turns of the event
   * loop, and a pipelined command must not slip its bytes in between.
   */
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private socket: Socket | TLSSocket,
    readonly where: string,
    private readonly counters?: ImapCounters,
  ) {}

  static async connect(
    endpoint: ImapEndpoint,
    where: string,
    counters?: ImapCounters,
  ): Promise<CommandChannel> {
    const tlsOptions = {
      rejectUnauthorized: endpoint.verifyCertificate,
      servername: endpoint.host,
      ...(endpoint.ca ? { ca: endpoint.ca } : {}),
    };
    const socket: Socket | TLSSocket =
      endpoint.tls === 'implicit'
        ? tlsConnect({ host: endpoint.host, port: endpoint.port, ...tlsOptions })
        : netConnect({ host: endpoint.host, port: endpoint.port });
    const channel = new CommandChannel(socket, where, counters);
    channel.attach(endpoint.timeout);
    const greeting = await channel.waitGreeting();
    if (parseStatus(greeting.text).status === 'BYE')
      throw new ImapError(
        'unreachable',
        `${where}: the server refused the connection: ${greeting.text}`,
      );
    await channel.refreshCapabilities(greeting.text);
    if (endpoint.tls === 'starttls') {
      if (!channel.capabilities.has('STARTTLS'))
        throw new ImapError('tls', `${where}: the server does not offer STARTTLS`);
      await channel.command('STARTTLS');
      const secured = tlsConnect({ socket: channel.socket, ...tlsOptions });
      await new Promise<void>((resolve, reject) => {
        secured.once('secureConnect', resolve);
        secured.once('error', reject);
      });
      channel.socket = secured;
      channel.attach(endpoint.timeout);
      channel.capabilities.clear();
      await channel.refreshCapabilities('');
    }
    return channel;
  }
  private attach(timeoutSeconds: number): void {
    // Nagle's algorithm would hold back the short line that ends each command until the server
    // acknowledges the literal before it: a delayed-ACK stall on every batch.
    this.socket.setNoDelay(true);
    const reader = new ResponseReader((response) => this.dispatch(response));
    this.socket.removeAllListeners('data');
    this.socket.on('data', (data: Buffer) => reader.push(data));
    this.socket.setTimeout(timeoutSeconds * 1000, () =>
      this.fail(new ImapError('dropped', `${this.where}: the server stopped answering`)),
    );
    this.socket.once('error', (error: NodeJS.ErrnoException) => {
      const kind = [
        'ECONNREFUSED',
        'ENOTFOUND',
        'EHOSTUNREACH',
        'ENETUNREACH',
        'EAI_AGAIN',
      ].includes(error.code ?? '')
        ? 'unreachable'
        : 'dropped';
      this.fail(
        new ImapError(
          kind,
          `${this.where}: ${kind === 'unreachable' ? 'cannot connect' : 'connection lost'}: ${error.code ?? error.message}`,
          { cause: error },
        ),
      );
    });
    this.socket.once('close', () =>
      this.fail(new ImapError('dropped', `${this.where}: connection closed by the server`)),
    );
  }
  private waitGreeting(): Promise<ServerResponse> {
    return new Promise((resolve, reject) => {
      this.greeting = resolve;
      this.waiters.push({ tag: '', resolve, reject });
    });
  }
  private dispatch(response: ServerResponse): void {
    if (this.greeting && response.tag === '*') {
      const resolve = this.greeting;
      this.greeting = null;
      this.waiters.shift();
      resolve(response);
      return;
    }
    if (response.tag === '+') {
      this.continuation?.(response);
      return;
    }
    if (response.tag === '*') {
      const capability = /^CAPABILITY (.*)$/i.exec(response.text);
      if (capability) this.setCapabilities(capability[1] ?? '');
      return;
    }
    const index = this.waiters.findIndex((waiter) => waiter.tag === response.tag);
    if (index < 0) return;
    const [waiter] = this.waiters.splice(index, 1);
    waiter?.resolve(response);
  }
  private fail(error: Error): void {
    if (this.closed) return;
    this.closed = error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    this.socket.destroy();
  }
  private setCapabilities(list: string): void {
    this.capabilities.clear();
    for (const capability of list.trim().split(/\s+/))
      if (capability) this.capabilities.add(capability.toUpperCase());
  }
  async refreshCapabilities(statusText: string): Promise<void> {
    const code = parseStatus(statusText).code;
    if (code && /^CAPABILITY /i.test(code)) this.setCapabilities(code.slice('CAPABILITY '.length));
    else await this.command('CAPABILITY');
  }
  private write(data: string | Buffer): Promise<void> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      this.socket.write(data, (error) => (error ? reject(error) : resolve()));
    });
  }
  /** Sends a command made of pieces (strings and literal bodies) and waits for its tagged answer. */
  async send(pieces: CommandPiece[], what: string): Promise<ServerResponse> {
    if (this.pipelines) return this.sendNow(pieces, what);
    const previous = this.turn;
    let release = (): void => undefined;
    this.turn = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      return await this.sendNow(pieces, what);
    } finally {
      release();
    }
  }
  private async sendNow(pieces: CommandPiece[], what: string): Promise<ServerResponse> {
    if (this.closed) throw this.closed;
    const previous = this.writing;
    let written = (): void => undefined;
    this.writing = new Promise<void>((resolve) => (written = resolve));
    await previous;
    try {
      return await this.writeCommand(pieces, what, written);
    } finally {
      written();
    }
  }
  /** Writes one command (calling `written` once its last byte is handed over) and waits for its answer. */
  private async writeCommand(
    pieces: CommandPiece[],
    what: string,
    written: () => void,
  ): Promise<ServerResponse> {
    if (this.closed) throw this.closed;
    const tag = `W${this.nextTag++}`;
    const done = new Promise<ServerResponse>((resolve, reject) =>
      this.waiters.push({ tag, resolve, reject }),
    );
    done.catch(() => undefined);
    if (this.counters) this.counters.commands++;
    const literalPlus = this.capabilities.has('LITERAL+');
    // With LITERAL+ nothing needs an answer before the end: the whole command is handed to the
    // socket at once, and the event loop is free to prepare the next batch meanwhile.
    const queued: Array<Promise<void>> = [];
    const send = (data: string | Buffer): void => {
      const write = this.write(data);
      // Awaited below, unless the command is abandoned half-written (see stream).
      write.catch(() => undefined);
      queued.push(write);
    };
    // Corked, the pieces leave as one writev instead of a small packet per literal header.
    this.socket.cork();
    let line = `${tag} `;
    for (const piece of pieces) {
      if (typeof piece === 'string') {
        line += piece;
        continue;
      }
      const streamed = isStreamedLiteral(piece.literal) ? piece.literal : null;
      const parts = streamed
        ? []
        : Buffer.isBuffer(piece.literal)
          ? [piece.literal]
          : (piece.literal as readonly Buffer[]);
      const length = streamed ? streamed.size : parts.reduce((sum, part) => sum + part.length, 0);
      const holdsNul = streamed ? streamed.holdsNul : parts.some((part) => part.includes(0));
      const binary = this.capabilities.has('BINARY') && holdsNul;
      const prefix = binary ? '~' : '';
      if (literalPlus) {
        send(`${line}${prefix}{${length}+}\r\n`);
      } else {
        const ready = new Promise<ServerResponse>((resolve, reject) => {
          this.continuation = resolve;
          done.then(resolve, reject); // a refusal instead of a continuation ends the wait
        });
        send(`${line}${prefix}{${length}}\r\n`);
        this.socket.uncork();
        const answer = await ready;
        this.socket.cork();
        this.continuation = null;
        if (answer.tag !== '+') {
          this.socket.uncork();
          return checkOk(answer, this.where, what);
        }
      }
      if (streamed) await this.stream(streamed);
      else for (const part of parts) send(part);
      line = '';
    }
    send(`${line}\r\n`);
    this.socket.uncork();
    written();
    await Promise.all(queued);
    return checkOk(await done, this.where, what);
  }
  /**
   * Writes a streamed literal, waiting for the socket to drain whenever its buffer is full, so no
   * more than a piece or two of the message is held at a time. Should the pieces fail or fall
   * short, the command cannot be completed, and an APPEND left unfinished is never carried out:
   * the connection is closed, so nothing of the message is stored.
   */
  private async stream(literal: StreamedLiteral): Promise<void> {
    this.socket.uncork();
    let sent = 0;
    try {
      for await (const piece of literal.pieces()) {
        if (this.closed) throw this.closed;
        sent += piece.length;
        if (sent > literal.size)
          throw new Error(`the literal holds more than ${literal.size} bytes`);
        if (!this.socket.write(piece)) await this.drained();
      }
      if (sent !== literal.size)
        throw new Error(`the literal holds ${sent} bytes, not ${literal.size}`);
    } catch (error) {
      this.fail(
        new ImapError(
          'dropped',
          `${this.where}: connection closed in the middle of a message: ${(error as Error).message}`,
          { cause: error },
        ),
      );
      throw error;
    }
    this.socket.cork();
  }
  private drained(): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        if (this.closed) reject(this.closed);
        else resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }
  /**
   * Whether commands may be sent before the previous one is answered: with LITERAL+ a command is
   * written in one go and cannot interleave with another. Without it a literal waits for the
   * server's go-ahead, and commands must take turns.
   */
  get pipelines(): boolean {
    return this.capabilities.has('LITERAL+');
  }
  async command(text: string): Promise<ServerResponse> {
    return this.send([text], text.split(' ')[0] ?? text);
  }
  async authenticatePlain(token: string): Promise<ServerResponse> {
    if (this.capabilities.has('SASL-IR'))
      return this.send([`AUTHENTICATE PLAIN ${token}`], 'AUTHENTICATE');
    const tag = `W${this.nextTag++}`;
    const done = new Promise<ServerResponse>((resolve, reject) =>
      this.waiters.push({ tag, resolve, reject }),
    );
    const ready = new Promise<ServerResponse>((resolve) => {
      this.continuation = resolve;
      void done.then(resolve, () => undefined);
    });
    await this.write(`${tag} AUTHENTICATE PLAIN\r\n`);
    const answer = await ready;
    this.continuation = null;
    if (answer.tag === '+') await this.write(`${token}\r\n`);
    return checkOk(await done, this.where, 'AUTHENTICATE');
  }
  get isClosed(): boolean {
    return this.closed !== null;
  }

  destroy(): void {
    this.closed ??= new ImapError('dropped', `${this.where}: closed`);
    this.socket.destroy();
  }
}
