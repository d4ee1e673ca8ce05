// A real SMTP server on 127.0.0.1 for notification tests: it accepts any sender and recipient
// (with or without AUTH), keeps each message's envelope and exact bytes, and can refuse on cue
// the way a real relay does (a busy server, an unknown recipient). parseMail() reads what came.
import type { AddressInfo } from 'node:net';
import libmime from 'libmime';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMessage {
  mailFrom: string;
  rcptTo: string[];
  /** The login the client used, when it authenticated. */
  auth?: { username: string; password: string; method: string };
  raw: Buffer;
}

export interface SmtpReceiverOptions {
  /** Answer the first N connections with 421 (service not available, try again). */
  busyConnections?: number;
  /** Recipients refused with 550 at RCPT TO. */
  refuse?: string[];
}

export interface SmtpReceiver {
  readonly host: string;
  readonly port: number;
  /** Connections accepted so far, refused ones included. */
  readonly connections: number;
  messages(): ReceivedMessage[];
  /** Resolves once `count` messages have arrived; rejects after timeoutMs saying how many did. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMessage[]>;
  stop(): Promise<void>;
}

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

export async function startSmtpReceiver(options: SmtpReceiverOptions = {}): Promise<SmtpReceiver> {
  const received: ReceivedMessage[] = [];
  const waiters = new Set<() => void>();
  let connections = 0;
  const refused = new Set((options.refuse ?? []).map((a) => a.toLowerCase()));
  const logins = new Map<string, ReceivedMessage['auth']>();

  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    allowInsecureAuth: true,
    // No certificate here: a client that saw STARTTLS would try it and fail verification.
    disabledCommands: ['STARTTLS'],
    onConnect(_session, callback) {
      connections++;
      if (connections <= (options.busyConnections ?? 0))
        return callback(smtpError(421, 'busy, try again later'));
      callback();
    },
    onAuth(auth, session, callback) {
      logins.set(session.id, {
        username: auth.username ?? '',
        password: auth.password ?? '',
        method: auth.method,
      });
      callback(null, { user: auth.username });
    },
    onRcptTo(address, _session, callback) {
      if (refused.has(address.address.toLowerCase()))
        return callback(smtpError(550, `no such user ${address.address}`));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const { mailFrom, rcptTo } = session.envelope;
        const auth = logins.get(session.id);
        received.push({
          mailFrom: mailFrom ? mailFrom.address : '',
          rcptTo: rcptTo.map((r) => r.address),
          ...(auth ? { auth } : {}),
          raw: Buffer.concat(chunks),
        });
        for (const wake of waiters) wake();
        callback();
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;

  return {
    host: '127.0.0.1',
    port,
    get connections() {
      return connections;
    },
    messages: () => [...received],
    waitFor(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (received.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve([...received]);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`expected ${count} messages within ${timeoutMs} ms, got ${received.length}`),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// Just enough MIME parsing to assert on what the notifier sent: headers, the text part and the
// attachments, decoded. Written here rather than borrowed from nodemailer, so a bug in the
// sender's encoding cannot hide behind the same library's decoding.
export interface MailPart {
  headers: Map<string, string[]>;
  contentType: string;
  params: Record<string, string>;
  content: Buffer;
  parts: MailPart[];
}

export interface ParsedMail {
  /** Header values by lower-case name, unfolded, not decoded. */
  headers: Map<string, string[]>;
  header(name: string): string | undefined;
  subject: string;
  text: string;
  attachments: { filename: string; contentType: string; content: Buffer }[];
}

export function parseMail(raw: Buffer): ParsedMail {
  const root = parsePart(raw.toString('latin1'));
  const leaves: MailPart[] = [];
  const walk = (part: MailPart): void => {
    if (part.parts.length > 0) part.parts.forEach(walk);
    else leaves.push(part);
  };
  walk(root);
  const header = (name: string): string | undefined => root.headers.get(name.toLowerCase())?.[0];
  const attachments = leaves.filter(isAttachment).map((part) => ({
    filename: fileName(part) ?? '',
    contentType: part.contentType,
    content: part.content,
  }));
  const text = leaves.find((part) => !isAttachment(part) && part.contentType === 'text/plain');
  return {
    headers: root.headers,
    header,
    subject: libmime.decodeWords(header('subject') ?? ''),
    text: text ? text.content.toString('utf8').replace(/\r\n/g, '\n') : '',
    attachments,
  };
}

function parsePart(raw: string): MailPart {
  const split = /\r?\n\r?\n/.exec(raw);
  const head = split ? raw.slice(0, split.index) : raw;
  const body = split ? raw.slice(split.index + split[0].length) : '';
  const headers = new Map<string, string[]>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  const type = libmime.parseHeaderValue(headers.get('content-type')?.[0] ?? 'text/plain');
  const contentType = type.value.toLowerCase();
  const boundary = type.params.boundary;
  if (contentType.startsWith('multipart/') && boundary) {
    const pieces = body.split(`--${boundary}`);
    // pieces[0] is the preamble; the piece after the closing "--boundary--" starts with "--".
    const parts = pieces
      .slice(1)
      .filter((piece) => !piece.startsWith('--'))
      .map((piece) => parsePart(piece.replace(/^\r?\n/, '').replace(/\r?\n$/, '')));
    return { headers, contentType, params: type.params, content: Buffer.alloc(0), parts };
  }
  const encoding = (headers.get('content-transfer-encoding')?.[0] ?? '7bit').toLowerCase();
  return { headers, contentType, params: type.params, content: decode(body, encoding), parts: [] };
}

function decode(body: string, encoding: string): Buffer {
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64');
  if (encoding === 'quoted-printable') {
    const unwrapped = body.replace(/=\r?\n/g, '');
    const bytes: number[] = [];
    for (let i = 0; i < unwrapped.length; i++) {
      const hex = unwrapped.slice(i + 1, i + 3);
      if (unwrapped[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else bytes.push(unwrapped.charCodeAt(i));
    }
    return Buffer.from(bytes);
  }
  return Buffer.from(body, 'latin1');
}

function fileName(part: MailPart): string | undefined {
  const disposition = part.headers.get('content-disposition')?.[0];
  const name = disposition ? libmime.parseHeaderValue(disposition).params.filename : undefined;
  return name ?? part.params.name;
}

function isAttachment(part: MailPart): boolean {
  const disposition = part.headers.get('content-disposition')?.[0] ?? '';
  return /^attachment/i.test(disposition) || fileName(part) !== undefined;
}
