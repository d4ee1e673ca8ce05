// A minimal IMAP connection for the harness: waiting for a server's greeting, checking a
// login, and MULTIAPPEND with LITERAL+ (imapflow appends one message a command, which is
// about twenty times slower for filling test mailboxes). Not a client for the product.
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface RawResponse {
  /** The response line, with each literal replaced by its `{n}` marker. */
  text: string;
  /** The literals of the response, in order. */
  literals: Buffer[];
}

export interface TaggedResult {
  status: 'OK' | 'NO' | 'BAD';
  /** The text of the tagged response after the status. */
  text: string;
  untagged: RawResponse[];
}

export interface RawConnectOptions {
  host: string;
  port: number;
  tls?: boolean;
  /** Inactivity limit for the greeting and each command. */
  timeoutMs?: number;
}

interface Pending {
  tag: string;
  untagged: RawResponse[];
  resolve: (result: TaggedResult) => void;
  reject: (error: Error) => void;
}

export class RawImap {
  greeting = '';
  private buffer: Buffer = Buffer.alloc(0);
  private current: RawResponse | null = null;
  private literalLeft = -1;
  private literalParts: Buffer[] = [];
  private pending: Pending | null = null;
  private greeted: { resolve: () => void; reject: (error: Error) => void } | null = null;
  private closedError: Error | null = null;
  private nextTag = 1;

  private constructor(private readonly socket: Socket) {}

  /** Connects and resolves once the server's `* OK` greeting has arrived. */
  static async connect(options: RawConnectOptions): Promise<RawImap> {
    const socket = options.tls
      ? tlsConnect({
          host: options.host,
          port: options.port,
          rejectUnauthorized: false,
          servername: 'localhost',
        })
      : netConnect({ host: options.host, port: options.port });
    const client = new RawImap(socket);
    socket.setTimeout(options.timeoutMs ?? 30_000);
    const greeting = new Promise<void>((resolve, reject) => {
      client.greeted = { resolve, reject };
    });
    socket.on('data', (chunk: Buffer) => client.onData(chunk));
    socket.on('timeout', () => client.fail(new Error('IMAP connection timed out')));
    socket.on('error', (error) => client.fail(error));
    socket.on('close', () => client.fail(new Error('IMAP connection closed')));
    try {
      await greeting;
    } catch (error) {
      socket.destroy();
      throw error;
    }
    return client;
  }

  /**
   * Sends one command (without its tag; pieces are concatenated, so literals can be given as
   * bytes) and resolves with the tagged result, whatever its status.
   */
  command(...pieces: Array<string | Uint8Array>): Promise<TaggedResult> {
    if (this.closedError) return Promise.reject(this.closedError);
    if (this.pending) return Promise.reject(new Error('RawImap runs one command at a time'));
    const tag = `T${this.nextTag++}`;
    const result = new Promise<TaggedResult>((resolve, reject) => {
      this.pending = { tag, untagged: [], resolve, reject };
    });
    const buffers = [Buffer.from(`${tag} `, 'latin1')];
    for (const piece of pieces) {
      buffers.push(typeof piece === 'string' ? Buffer.from(piece, 'utf8') : Buffer.from(piece));
    }
    buffers.push(Buffer.from('\r\n', 'latin1'));
    this.socket.write(Buffer.concat(buffers));
    return result;
  }

  /** Like command(), but rejects unless the server answers OK. */
  async ok(...pieces: Array<string | Uint8Array>): Promise<TaggedResult> {
    const result = await this.command(...pieces);
    if (result.status !== 'OK') {
      const shown = pieces
        .map((piece) => (typeof piece === 'string' ? piece : `<${piece.length} bytes>`))
        .join('');
      throw new Error(`IMAP ${shown.slice(0, 200)} failed: ${result.status} ${result.text}`);
    }
    return result;
  }

  async logout(): Promise<void> {
    try {
      await this.command('LOGOUT');
    } catch {
      // the server may close before the tagged OK arrives
    }
    this.close();
  }

  close(): void {
    this.socket.destroy();
  }

  private fail(error: Error): void {
    if (this.closedError) return;
    this.closedError = error;
    this.greeted?.reject(error);
    this.greeted = null;
    this.pending?.reject(error);
    this.pending = null;
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.literalLeft >= 0) {
        if (this.buffer.length < this.literalLeft) {
          this.literalParts.push(this.buffer);
          this.literalLeft -= this.buffer.length;
          this.buffer = Buffer.alloc(0);
          return;
        }
        this.literalParts.push(this.buffer.subarray(0, this.literalLeft));
        this.buffer = this.buffer.subarray(this.literalLeft);
        this.current?.literals.push(Buffer.concat(this.literalParts));
        this.literalParts = [];
        this.literalLeft = -1;
      }
      const end = this.buffer.indexOf('\r\n');
      if (end < 0) return;
      const line = this.buffer.subarray(0, end).toString('latin1');
      this.buffer = this.buffer.subarray(end + 2);
      const response = this.current ?? { text: '', literals: [] };
      response.text += line;
      const literal = /\{(\d+)\+?\}$/.exec(line);
      if (literal) {
        this.current = response;
        this.literalLeft = Number(literal[1]);
        continue;
      }
      this.current = null;
      this.onResponse(response);
    }
  }

  private onResponse(response: RawResponse): void {
    if (this.greeted) {
      const greeted = this.greeted;
      this.greeted = null;
      this.greeting = response.text;
      if (response.text.startsWith('* OK')) greeted.resolve();
      else greeted.reject(new Error(`unexpected IMAP greeting: ${response.text}`));
      return;
    }
    const pending = this.pending;
    if (!pending) return;
    if (response.text.startsWith(`${pending.tag} `)) {
      this.pending = null;
      const rest = response.text.slice(pending.tag.length + 1);
      const space = rest.indexOf(' ');
      const status = (space < 0 ? rest : rest.slice(0, space)).toUpperCase();
      const text = space < 0 ? '' : rest.slice(space + 1);
      if (status === 'OK' || status === 'NO' || status === 'BAD') {
        pending.resolve({ status, text, untagged: pending.untagged });
      } else {
        pending.reject(new Error(`unexpected tagged response: ${response.text}`));
      }
      return;
    }
    // Continuation requests ('+') are not expected: literals are sent as LITERAL+.
    pending.untagged.push(response);
  }
}

/** An IMAP quoted string (the harness only quotes names and passwords it controls). */
export function quoted(value: string): string {
  if (/[\r\n\0]/.test(value)) throw new Error(`cannot quote ${JSON.stringify(value)}`);
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** RFC 3501 modified UTF-7 for mailbox names, since Dovecot 2.3 has no UTF8=ACCEPT. */
export function encodeMailboxName(name: string): string {
  let out = '';
  let pending = '';
  const flush = (): void => {
    if (pending === '') return;
    const utf16 = Buffer.alloc(pending.length * 2);
    for (let i = 0; i < pending.length; i++) utf16.writeUInt16BE(pending.charCodeAt(i), i * 2);
    out += `&${utf16.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`;
    pending = '';
  };
  for (const char of name) {
    const code = char.codePointAt(0) ?? 0;
    if (code >= 0x20 && code <= 0x7e) {
      flush();
      out += char === '&' ? '&-' : char;
    } else {
      pending += char;
    }
  }
  flush();
  return out;
}

/** RFC 3501 modified UTF-7 to Unicode. */
export function decodeMailboxName(name: string): string {
  return name.replace(/&([^-]*)-/g, (_, encoded: string) => {
    if (encoded === '') return '&';
    const bytes = Buffer.from(encoded.replace(/,/g, '/'), 'base64');
    let out = '';
    for (let i = 0; i + 1 < bytes.length; i += 2) out += String.fromCharCode(bytes.readUInt16BE(i));
    return out;
  });
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** An IMAP date-time in UTC, e.g. "05-Mar-2021 14:03:09 +0000". */
export function imapDateTime(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${pad(date.getUTCDate())}-${MONTHS[date.getUTCMonth()]}-${date.getUTCFullYear()} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}
