// A bare IMAP connection for the benchmark's ceilings: it streams literals past without keeping
// them (a gigabyte of FETCH goes to /dev/null) and sends MULTIAPPEND with LITERAL+ as one write.
// Deliberately nothing like the product's client: these figures are what the server can do.
import { connect } from 'node:net';
import type { Socket } from 'node:net';

export interface StreamResult {
  status: 'OK' | 'NO' | 'BAD';
  text: string;
  /** Untagged responses (literals left out), unless the command asked not to keep them. */
  lines: string[];
  /** Untagged responses seen. */
  responses: number;
  /** Literal bytes received. */
  literalBytes: number;
}

interface Pending {
  tag: string;
  keep: boolean;
  result: StreamResult;
  resolve: (result: StreamResult) => void;
  reject: (error: Error) => void;
}

const LITERAL = /\{(\d+)\}$/;

export class StreamImap {
  private pendingLine: Buffer[] = [];
  private literalLeft = 0;
  private current = '';
  private pending: Pending | null = null;
  private greeted: ((line: string) => void) | null = null;
  private failure: Error | null = null;
  private nextTag = 1;

  private constructor(private readonly socket: Socket) {}

  static async connect(host: string, port: number): Promise<StreamImap> {
    const socket = connect({ host, port });
    socket.setNoDelay(true);
    const client = new StreamImap(socket);
    const greeting = new Promise<string>((resolve, reject) => {
      client.greeted = resolve;
      socket.once('error', reject);
    });
    socket.on('data', (chunk: Buffer) => client.onData(chunk));
    socket.on('error', (error) => client.fail(error));
    socket.on('close', () => client.fail(new Error('IMAP connection closed')));
    const line = await greeting;
    if (!line.startsWith('* OK')) throw new Error(`unexpected greeting ${line}`);
    return client;
  }

  /** LOGIN as `user*master` (Dovecot's master-user login). */
  async masterLogin(user: string, master: string, password: string): Promise<void> {
    await this.ok([`LOGIN "${user}*${master}" "${password}"`]);
  }

  /** Sends one command (pieces concatenated; Buffers are literal bodies) and awaits its tagged answer. */
  command(pieces: Array<string | Buffer>, keep = true): Promise<StreamResult> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending) return Promise.reject(new Error('one command at a time'));
    const tag = `B${this.nextTag++}`;
    const done = new Promise<StreamResult>((resolve, reject) => {
      this.pending = {
        tag,
        keep,
        result: { status: 'OK', text: '', lines: [], responses: 0, literalBytes: 0 },
        resolve,
        reject,
      };
    });
    this.socket.cork();
    this.socket.write(`${tag} `);
    for (const piece of pieces) this.socket.write(piece);
    this.socket.write('\r\n');
    this.socket.uncork();
    return done;
  }

  async ok(pieces: Array<string | Buffer>, keep = true): Promise<StreamResult> {
    const result = await this.command(pieces, keep);
    if (result.status !== 'OK') {
      const first = typeof pieces[0] === 'string' ? pieces[0].slice(0, 80) : 'command';
      throw new Error(`IMAP ${first} failed: ${result.status} ${result.text}`);
    }
    return result;
  }

  async logout(): Promise<void> {
    try {
      await this.command(['LOGOUT']);
    } catch {
      // the server closes the connection as it answers
    }
    this.socket.destroy();
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.pending?.reject(error);
    this.pending = null;
  }

  private onData(data: Buffer): void {
    let chunk = data;
    while (chunk.length > 0) {
      if (this.literalLeft > 0) {
        const take = Math.min(this.literalLeft, chunk.length);
        this.literalLeft -= take;
        if (this.pending) this.pending.result.literalBytes += take;
        chunk = chunk.subarray(take);
        continue;
      }
      const end = chunk.indexOf(10);
      if (end < 0) {
        this.pendingLine.push(chunk);
        return;
      }
      let lineBytes = chunk.subarray(0, end + 1);
      if (this.pendingLine.length > 0) {
        lineBytes = Buffer.concat([...this.pendingLine, lineBytes]);
        this.pendingLine = [];
      }
      chunk = chunk.subarray(end + 1);
      const line = lineBytes.toString('latin1').replace(/\r?\n$/, '');
      this.current += line;
      const literal = LITERAL.exec(line);
      if (literal) {
        this.literalLeft = Number(literal[1]);
        continue;
      }
      const response = this.current;
      this.current = '';
      this.onResponse(response);
    }
  }

  private onResponse(response: string): void {
    if (this.greeted) {
      const greeted = this.greeted;
      this.greeted = null;
      greeted(response);
      return;
    }
    const pending = this.pending;
    if (!pending) return;
    if (response.startsWith(`${pending.tag} `)) {
      const rest = response.slice(pending.tag.length + 1);
      const space = rest.indexOf(' ');
      const status = (space < 0 ? rest : rest.slice(0, space)).toUpperCase();
      pending.result.status = status === 'OK' || status === 'NO' ? status : 'BAD';
      pending.result.text = space < 0 ? '' : rest.slice(space + 1);
      this.pending = null;
      pending.resolve(pending.result);
      return;
    }
    if (response.startsWith('+')) return;
    pending.result.responses++;
    if (pending.keep) pending.result.lines.push(response);
  }
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

export function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
