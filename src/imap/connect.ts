import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import type { Logger } from 'pino';
import type { ImapEndpoint, ImapLogin } from './endpoint.js';
import { classifyImapError, ImapError } from './imap-error.js';

/** Commands sent to servers, counted for run reports and the benchmark (round trips). */
export interface ImapCounters {
  commands: number;
}

export interface ConnectOptions {
  log?: Logger;
  counters?: ImapCounters;
  /** Ask for QRESYNC (VANISHED in incremental fetches) when the server has it. */
  qresync?: boolean;
}

function authOf(login: ImapLogin): NonNullable<ImapFlowOptions['auth']> {
  switch (login.mode) {
    case 'authzid':
      return {
        user: login.admin,
        pass: login.password,
        authzid: login.account,
        loginMethod: 'AUTH=PLAIN',
      };
    case 'master':
      return {
        user: `${login.account}${login.separator}${login.admin}`,
        pass: login.password,
        loginMethod: 'LOGIN',
      };
    case 'account':
      return { user: login.account, pass: login.password };
  }
}

/**
 * imapflow takes any object with level methods as its logger; this one counts the commands it
 * sends (logged at debug with src 'c') and passes warnings on.
 */
function countingLogger(counters: ImapCounters | undefined, log: Logger | undefined): object {
  const forward =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (entry: unknown): void => {
      if (log?.isLevelEnabled(level)) log[level]({ imap: entry });
    };
  return {
    isLevelEnabled: (level: string) =>
      level !== 'trace' &&
      (level !== 'debug' || counters !== undefined || Boolean(log?.isLevelEnabled('debug'))),
    trace: () => undefined,
    debug: (entry: { src?: string; msg?: string }) => {
      if (counters && entry?.src === 'c' && !entry.msg?.startsWith('(*')) counters.commands++;
      forward('debug')(entry);
    },
    info: forward('debug'),
    warn: forward('warn'),
    error: forward('warn'),
    fatal: forward('error'),
  };
}

/** Opens an authenticated connection, retrying when the server cannot be reached. */
export async function connectImap(
  endpoint: ImapEndpoint,
  login: ImapLogin,
  options: ConnectOptions = {},
): Promise<ImapFlow> {
  const where = `${endpoint.server} (${endpoint.host}:${endpoint.port}) as ${login.account}`;
  for (let attempt = 0; ; attempt++) {
    const client = new ImapFlow({
      host: endpoint.host,
      port: endpoint.port,
      secure: endpoint.tls === 'implicit',
      doSTARTTLS: endpoint.tls === 'starttls' ? true : endpoint.tls === 'none' ? false : undefined,
      tls: {
        rejectUnauthorized: endpoint.verifyCertificate,
        ...(endpoint.ca ? { ca: endpoint.ca } : {}),
      },
      auth: authOf(login),
      logger: countingLogger(options.counters, options.log) as ImapFlowOptions['logger'],
      disableAutoIdle: true,
      disableCompression: true,
      qresync: options.qresync ?? true,
      connectionTimeout: endpoint.timeout * 1000,
      greetingTimeout: Math.min(endpoint.timeout, 30) * 1000,
      socketTimeout: Math.max(endpoint.timeout, 60) * 1000 * 5,
      clientInfo: { name: 'mailvault' },
    });
    // A reset socket is reported as an 'error' event; without a listener it would end the process.
    // The command in flight fails too, and that failure is what the caller handles.
    client.on('error', (error: unknown) =>
      options.log?.debug({ err: error, server: endpoint.server }, 'imap connection error'),
    );
    try {
      await client.connect();
      return client;
    } catch (error) {
      const failure = classifyImapError(error, where);
      if (
        !(failure.kind === 'unreachable' || failure.kind === 'dropped') ||
        attempt >= endpoint.retries
      )
        throw failure;
      options.log?.warn({ server: endpoint.server, attempt: attempt + 1 }, failure.message);
      await delay(backoff(attempt));
    }
  }
}

export function backoff(attempt: number): number {
  return Math.min(500 * 2 ** attempt, 10_000);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function closeQuietly(client: ImapFlow | undefined): Promise<void> {
  if (!client || !client.usable) {
    client?.close();
    return;
  }
  try {
    await client.logout();
  } catch {
    client.close();
  }
}

export { ImapError };
