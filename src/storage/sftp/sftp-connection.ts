import ssh2 from 'ssh2';
import type { Client, ConnectConfig, SFTPWrapper } from 'ssh2';
import { StorageError } from '../storage.js';
import { errorMessage } from '../wrappers/storage-logger.js';
import { HostKeyCheck, type HostKeyPolicy } from './host-key-check.js';
import { RequestLimit } from './request-limit.js';
import { loadCredentials, type CredentialFiles, type SftpCredentials } from './sftp-credentials.js';
import { SftpSession } from './sftp-session.js';
import { withoutPassword, type SftpAddress } from './sftp-url.js';

export interface ConnectionSettings {
  address: SftpAddress;
  credentials: CredentialFiles;
  hostKeys: HostKeyPolicy;
  /** SFTP requests outstanding at once on the connection. */
  requestLimit: number;
}

/** How long a connection may take to be ready, and how soon a silent one is given up. */
const READY_TIMEOUT_MS = 20_000;
const KEEPALIVE_INTERVAL_MS = 15_000;
const KEEPALIVES_UNANSWERED = 4;

/**
 * The one SSH connection of a storage: opened on first use, shared by every operation, and
 * opened anew by the first operation after it dropped. Operations caught by the drop fail with
 * retryable 'io' errors; retrying them is the caller's (storage wrappers retry, backends don't).
 */
export class SftpConnection {
  private current: Promise<SftpSession> | undefined;
  private readonly limit: RequestLimit;

  constructor(private readonly settings: ConnectionSettings) {
    this.limit = new RequestLimit(settings.requestLimit);
  }

  session(): Promise<SftpSession> {
    if (this.current) return this.current;
    const opening = this.open();
    this.current = opening;
    const forget = (): void => {
      if (this.current === opening) this.current = undefined;
    };
    opening.then((session) => session.onLost(forget), forget);
    return opening;
  }

  async close(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    const session = await current?.catch(() => undefined);
    await session?.end();
  }

  private async open(): Promise<SftpSession> {
    const { address } = this.settings;
    const credentials = await loadCredentials(this.settings.credentials, address);
    const hostKeys = await HostKeyCheck.load(address.host, address.port, this.settings.hostKeys);
    const client = new ssh2.Client();
    // ssh2 may report a second error after the first (a reset after a refused handshake); an
    // 'error' event with no listener would end the process.
    client.on('error', () => undefined);
    try {
      await connect(client, this.connectConfig(credentials, hostKeys));
    } catch (error) {
      client.destroy();
      throw this.connectFailure(error, hostKeys, credentials);
    }
    try {
      return new SftpSession(client, await openSftp(client), this.limit);
    } catch (error) {
      client.destroy();
      throw this.failure(`the server offers no SFTP (${errorMessage(error)})`, 'io', error);
    }
  }

  private connectConfig(credentials: SftpCredentials, hostKeys: HostKeyCheck): ConnectConfig {
    const { address } = this.settings;
    return {
      host: address.host,
      port: address.port,
      username: address.user,
      ...(credentials.privateKey === undefined ? {} : { privateKey: credentials.privateKey }),
      ...(credentials.passphrase === undefined ? {} : { passphrase: credentials.passphrase }),
      ...(credentials.password === undefined ? {} : { password: credentials.password }),
      hostVerifier: (key: Buffer): boolean => hostKeys.verify(key),
      algorithms: { serverHostKey: hostKeys.algorithms() as ServerHostKeyAlgorithm[] },
      readyTimeout: READY_TIMEOUT_MS,
      keepaliveInterval: KEEPALIVE_INTERVAL_MS,
      keepaliveCountMax: KEEPALIVES_UNANSWERED,
    };
  }

  /** Says why a connection could not be made; only a network problem is worth retrying. */
  private connectFailure(
    error: unknown,
    hostKeys: HostKeyCheck,
    credentials: SftpCredentials,
  ): StorageError {
    if (hostKeys.refusal !== undefined) return this.failure(hostKeys.refusal, 'denied', error);
    const level = (error as { level?: unknown } | undefined)?.level;
    if (level === 'client-authentication')
      return this.failure(
        `the server refused the login as ${this.settings.address.user} with ${credentials.described}`,
        'denied',
        error,
      );
    return this.failure(`cannot connect: ${errorMessage(error)}`, 'io', error);
  }

  private failure(why: string, code: StorageError['code'], cause: unknown): StorageError {
    const { location, password } = this.settings.address;
    return new StorageError(withoutPassword(`${location}: ${why}`, password), code, { cause });
  }
}

type ServerHostKeyAlgorithm = NonNullable<
  Extract<NonNullable<ConnectConfig['algorithms']>['serverHostKey'], unknown[]>
>[number];

/** Resolves once the client is ready; ssh2 reports a failure as an 'error' event. */
function connect(client: Client, config: ConnectConfig): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: Error): void => {
      client.off('ready', ready).off('error', settle).off('close', hungUp);
      if (error) reject(error);
      else resolve();
    };
    const ready = (): void => settle();
    // Closed before ready without an error: the server hung up during the handshake.
    const hungUp = (): void => settle(new Error('the server closed the connection'));
    client.on('ready', ready).on('error', settle).on('close', hungUp);
    client.connect(config);
  });
}

function openSftp(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) =>
    client.sftp((error, sftp) => (error ? reject(error) : resolve(sftp))),
  );
}
