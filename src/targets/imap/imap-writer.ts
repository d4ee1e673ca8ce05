import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import iconv from 'iconv-lite';
import { backoff, delay, type ImapCounters } from '../../imap/connect.js';
import type { ImapEndpoint, ImapLogin } from '../../imap/endpoint.js';
import { ImapError } from '../../imap/imap-error.js';
import { parseStatus, ResponseReader, type ServerResponse } from './response-reader.js';

export interface AppendMessage {
  flags: string[];
  date: Date;
  /** The message's bytes, in one buffer or as consecutive pieces. */
  raw: Buffer | readonly Buffer[];
}

export interface AppendOutcome {
  /** UIDs given by APPENDUID (UIDPLUS), in message order, when the server said. */
  uids: number[] | null;
}

interface Waiter {
  tag: string;
  resolve: (response: ServerResponse) => void;
  reject: (error: Error) => void;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** INTERNALDATE as APPEND wants it: "dd-Mon-yyyy hh:mm:ss +0000". */
export function imapDate(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}-${MONTHS[date.getUTCMonth()]}-${date.getUTCFullYear()} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** A mailbox name on the wire: modified UTF-7 (RFC 3501), quoted. */
export function mailboxName(path: string): string {
  return quote(iconv.encode(path, 'utf7imap').toString('latin1'));
}

function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** A flag or keyword that can be sent as an atom: no specials, spaces or controls (RFC 3501 atom). */
function isAtom(flag: string): boolean {
  if (flag.length === 0) return false;
  for (let i = flag.startsWith('\\') ? 1 : 0; i < flag.length; i++) {
    const code = flag.charCodeAt(i);
    if (code <= 0x20 || code >= 0x7f || '(){%*"\\]'.includes(flag[i] ?? '')) return false;
  }
  return flag !== '\\';
}

/**
 * A minimal IMAP client for writing: login, CREATE, SUBSCRIBE and APPEND. It speaks MULTIAPPEND
 * (RFC 3502) with LITERAL+ (RFC 7888), so a batch of messages costs one round trip instead of one
 * per message; without them it falls back to one APPEND per message and synchronising literals.
 */
export class ImapWriter {
  readonly capabilities = new Set<string>();
  private readonly waiters: Waiter[] = [];
  private continuation: ((response: ServerResponse) => void) | null = null;
  private nextTag = 1;
  private closed: Error | null = null;
  private greeting: ((response: ServerResponse) => void) | null = null;
  /** The command whose turn it is, when commands cannot be pipelined. */
  private turn: Promise<void> = Promise.resolve();

  private constructor(
    private socket: Socket | TLSSocket,
    readonly where: string,
    private readonly counters?: ImapCounters,
  ) {}

  static async open(
    endpoint: ImapEndpoint,
    login: ImapLogin,
    counters?: ImapCounters,
  ): Promise<ImapWriter> {
    const where = `${endpoint.server} (${endpoint.host}:${endpoint.port}) as ${login.account}`;
    for (let attempt = 0; ; attempt++) {
      try {
        const writer = await ImapWriter.connect(endpoint, where, counters);
        try {
          await writer.login(login);
        } catch (error) {
          writer.destroy();
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

  private static async connect(
    endpoint: ImapEndpoint,
    where: string,
    counters?: ImapCounters,
  ): Promise<ImapWriter> {
    const tlsOptions = {
      rejectUnauthorized: endpoint.verifyCertificate,
      servername: endpoint.host,
      ...(endpoint.ca ? { ca: endpoint.ca } : {}),
    };
    const socket: Socket | TLSSocket =
      endpoint.tls === 'implicit'
        ? tlsConnect({ host: endpoint.host, port: endpoint.port, ...tlsOptions })
        : netConnect({ host: endpoint.host, port: endpoint.port });
    const writer = new ImapWriter(socket, where, counters);
    writer.attach(endpoint.timeout);
    const greeting = await writer.waitGreeting();
    if (parseStatus(greeting.text).status === 'BYE')
      throw new ImapError(
        'unreachable',
        `${where}: the server refused the connection: ${greeting.text}`,
      );
    await writer.refreshCapabilities(greeting.text);
    if (endpoint.tls === 'starttls') {
      if (!writer.capabilities.has('STARTTLS'))
        throw new ImapError('auth', `${where}: the server does not offer STARTTLS`);
      await writer.command('STARTTLS');
      const secured = tlsConnect({ socket: writer.socket, ...tlsOptions });
      await new Promise<void>((resolve, reject) => {
        secured.once('secureConnect', resolve);
        secured.once('error', reject);
      });
      writer.socket = secured;
      writer.attach(endpoint.timeout);
      writer.capabilities.clear();
      await writer.refreshCapabilities('');
    }
    return writer;
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

  private async refreshCapabilities(statusText: string): Promise<void> {
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
  private async send(
    pieces: Array<string | { literal: Buffer | readonly Buffer[] }>,
    what: string,
  ): Promise<ServerResponse> {
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

  private async sendNow(
    pieces: Array<string | { literal: Buffer | readonly Buffer[] }>,
    what: string,
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
      queued.push(this.write(data));
    };
    // Corked, the pieces leave as one writev instead of a small packet per literal header.
    this.socket.cork();
    let line = `${tag} `;
    for (const piece of pieces) {
      if (typeof piece === 'string') {
        line += piece;
        continue;
      }
      const parts = Buffer.isBuffer(piece.literal) ? [piece.literal] : piece.literal;
      const length = parts.reduce((sum, part) => sum + part.length, 0);
      const binary = this.capabilities.has('BINARY') && parts.some((part) => part.includes(0));
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
      for (const part of parts) send(part);
      line = '';
    }
    send(`${line}\r\n`);
    this.socket.uncork();
    await Promise.all(queued);
    return checkOk(await done, this.where, what);
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

  private async login(login: ImapLogin): Promise<void> {
    let response: ServerResponse;
    try {
      if (login.mode === 'master') {
        response = await this.send(
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
        response = await this.authenticatePlain(token);
      }
    } catch (error) {
      if (error instanceof ImapError && error.kind === 'refused')
        throw new ImapError(
          'auth',
          `${this.where}: login refused: ${error.message.split(': ').pop()}`,
        );
      throw error;
    }
    await this.refreshCapabilities(response.text);
  }

  private async authenticatePlain(token: string): Promise<ServerResponse> {
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

  /** Creates a folder; true if created, false if it already existed. */
  async create(path: string, specialUse: string | null): Promise<boolean> {
    const use =
      specialUse && this.capabilities.has('CREATE-SPECIAL-USE') ? ` (USE (${specialUse}))` : '';
    try {
      await this.command(`CREATE ${mailboxName(path)}${use}`);
      return true;
    } catch (error) {
      if (error instanceof ImapError && /ALREADYEXISTS/i.test(error.message)) return false;
      throw error;
    }
  }

  async subscribe(path: string): Promise<void> {
    await this.command(`SUBSCRIBE ${mailboxName(path)}`);
  }

  /** Appends messages in one MULTIAPPEND command where the server offers it (atomic: all or none). */
  async append(path: string, messages: readonly AppendMessage[]): Promise<AppendOutcome> {
    if (messages.length > 1 && !this.capabilities.has('MULTIAPPEND')) {
      const uids: number[] = [];
      for (const message of messages)
        uids.push(...((await this.append(path, [message])).uids ?? []));
      return { uids: uids.length === messages.length ? uids : null };
    }
    const pieces: Array<string | { literal: Buffer | readonly Buffer[] }> = [
      `APPEND ${mailboxName(path)}`,
    ];
    for (const message of messages) {
      const flags = message.flags.filter(
        (flag) => isAtom(flag) && flag.toLowerCase() !== '\\recent',
      );
      pieces.push(` (${flags.join(' ')}) "${imapDate(message.date)}" `, { literal: message.raw });
    }
    const response = await this.send(pieces, `APPEND to ${path}`);
    return { uids: parseAppendUid(parseStatus(response.text).code) };
  }

  async logout(): Promise<void> {
    try {
      if (!this.closed) await this.command('LOGOUT');
    } catch {
      // The server may close before answering; either way we are done.
    } finally {
      this.destroy();
    }
  }

  destroy(): void {
    this.closed ??= new ImapError('dropped', `${this.where}: closed`);
    this.socket.destroy();
  }
}

function checkOk(response: ServerResponse, where: string, what: string): ServerResponse {
  const { status, code, detail } = parseStatus(response.text);
  if (status === 'OK') return response;
  const reason = `${code ? `[${code}] ` : ''}${detail}`;
  throw new ImapError('refused', `${where}: ${what} refused: ${reason}`);
}

/** "APPENDUID 38505 3955:3957,3960" -> [3955, 3956, 3957, 3960]. */
export function parseAppendUid(code: string | null): number[] | null {
  const match = code ? /^APPENDUID \d+ ([\d:,]+)$/i.exec(code) : null;
  if (!match) return null;
  const uids: number[] = [];
  for (const range of (match[1] ?? '').split(',')) {
    const [from, to] = range.split(':').map(Number);
    if (from === undefined) continue;
    const last = to ?? from;
    for (let uid = Math.min(from, last); uid <= Math.max(from, last); uid++) uids.push(uid);
  }
  return uids;
}
