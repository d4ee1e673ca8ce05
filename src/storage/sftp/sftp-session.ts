import type { Client, FileEntryWithStats, SFTPWrapper, Stats } from 'ssh2';
import type { RequestLimit } from './request-limit.js';

/** SFTP status codes (draft-ietf-secsh-filexfer-02, the version OpenSSH speaks). */
export const SFTP_STATUS = {
  noSuchFile: 2,
  permissionDenied: 3,
  failure: 4,
} as const;

/** The status code of a failed SFTP request, or undefined for any other error. */
export function sftpStatus(error: unknown): number | undefined {
  const code = error instanceof Error ? (error as Error & { code?: unknown }).code : undefined;
  return typeof code === 'number' ? code : undefined;
}

/** A request could not be answered: the connection it was sent on is gone. */
export class ConnectionLost extends Error {
  constructor() {
    super('the connection was lost');
    this.name = 'ConnectionLost';
  }
}

/** What ssh2 answers to every request outstanding when the channel closes under it. */
const NO_RESPONSE = 'No response from server';

export function isConnectionLost(error: unknown): boolean {
  return (
    error instanceof ConnectionLost || (error instanceof Error && error.message === NO_RESPONSE)
  );
}

type Done<T> = (error: Error | undefined | null, value: T) => void;

/**
 * One SSH connection and its SFTP channel, each request a promise and all of them held to the
 * connection's limit. Once the connection is gone every request fails at once with
 * ConnectionLost: ssh2 would otherwise queue it on the dead channel and never answer.
 */
export class SftpSession {
  private alive = true;
  private readonly lostListeners: Array<() => void> = [];

  constructor(
    private readonly client: Client,
    private readonly sftp: SFTPWrapper,
    private readonly limit: RequestLimit,
  ) {
    const lost = (): void => this.markLost();
    client.on('close', lost);
    client.on('end', lost);
    // A late socket error (a reset) comes before 'close'; without a listener it would crash.
    client.on('error', lost);
    sftp.on('close', lost);
    sftp.on('end', lost);
    sftp.on('error', lost);
  }

  get isAlive(): boolean {
    return this.alive;
  }

  /** Calls `listener` once, when the connection is gone (at once if it already is). */
  onLost(listener: () => void): void {
    if (this.alive) this.lostListeners.push(listener);
    else listener();
  }

  private markLost(): void {
    if (!this.alive) return;
    this.alive = false;
    for (const listener of this.lostListeners.splice(0)) listener();
  }

  private request<T>(send: (done: Done<T>) => void): Promise<T> {
    return this.limit.run(
      () =>
        new Promise<T>((resolve, reject) => {
          if (!this.alive) {
            reject(new ConnectionLost());
            return;
          }
          send((error, value) => (error ? reject(error) : resolve(value)));
        }),
    );
  }

  /** A request answered with a status alone. */
  private async action(send: (done: (error?: Error | null) => void) => void): Promise<void> {
    await this.request<undefined>((done) => send((error) => done(error, undefined)));
  }

  /** Opens for reading ('r'), or creates a new file that must not exist yet ('wx'). */
  open(path: string, flags: 'r' | 'wx', mode?: number): Promise<Buffer> {
    const attributes = mode === undefined ? {} : { mode };
    return this.request((done) => this.sftp.open(path, flags, attributes, done));
  }

  close(handle: Buffer): Promise<void> {
    return this.action((done) => this.sftp.close(handle, done));
  }

  /** Reads up to `length` bytes into `buffer` at `offset`; 0 means the file ends before. */
  read(
    handle: Buffer,
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
  ): Promise<number> {
    return this.request((done) =>
      this.sftp.read(handle, buffer, offset, length, position, (error, bytesRead) =>
        done(error, bytesRead),
      ),
    );
  }

  write(handle: Buffer, data: Buffer, position: number): Promise<void> {
    return this.action((done) => this.sftp.write(handle, data, 0, data.length, position, done));
  }

  /** Flushes a file to disk where the server offers fsync@openssh.com; false where it does not. */
  fsync(handle: Buffer): Promise<boolean> {
    return this.request((done) => {
      try {
        this.sftp.ext_openssh_fsync(handle, (error) => done(error, true));
      } catch {
        // ssh2 throws at once when the server did not announce the extension.
        done(undefined, false);
      }
    });
  }

  fstat(handle: Buffer): Promise<Stats> {
    return this.request((done) => this.sftp.fstat(handle, done));
  }

  stat(path: string): Promise<Stats> {
    return this.request((done) => this.sftp.stat(path, done));
  }

  /**
   * The plain SFTP rename, which refuses an existing target (OpenSSH links the new name and then
   * unlinks the old, so two writers cannot overwrite each other) — not posix-rename@openssh.com.
   */
  rename(from: string, to: string): Promise<void> {
    return this.action((done) => this.sftp.rename(from, to, done));
  }

  unlink(path: string): Promise<void> {
    return this.action((done) => this.sftp.unlink(path, done));
  }

  mkdir(path: string): Promise<void> {
    return this.action((done) => this.sftp.mkdir(path, done));
  }

  /**
   * A folder's entries with their attributes, as the server's listing gives them (no stat of
   * each). One slot of the limit: ssh2 sends the listing's requests one after another anyway.
   */
  readdir(path: string): Promise<FileEntryWithStats[]> {
    return this.request((done) => this.sftp.readdir(path, done));
  }

  /** Ends the connection, waiting a moment for the server to see it go. */
  async end(): Promise<void> {
    if (!this.alive) return;
    const closed = new Promise<void>((resolve) => this.onLost(resolve));
    this.client.end();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, 2_000)));
    await Promise.race([closed, late]);
    clearTimeout(timer);
    if (this.alive) this.client.destroy();
    this.markLost();
  }
}
