import type { SftpSession } from './sftp-session.js';

interface OpenFile {
  handle: Promise<Buffer>;
  users: number;
  /** Dropped from the cache while in use: the last user closes it. */
  dropped: boolean;
}

/**
 * Files kept open for byte-range reads, least recently used closed first. A restore reads many
 * small ranges of few packs: with the file open, each range costs one request instead of three
 * (open, read, close). Repository files are never rewritten, so an open handle reads what the
 * name holds. The handles belong to one session and die with it.
 */
export class ReadHandles {
  private readonly files = new Map<string, OpenFile>();

  constructor(
    readonly session: SftpSession,
    private readonly limit: number,
  ) {}

  async use<T>(path: string, work: (handle: Buffer) => Promise<T>): Promise<T> {
    const entry = this.take(path);
    entry.users++;
    try {
      return await work(await entry.handle);
    } finally {
      entry.users--;
      if (entry.dropped) void this.closeWhenIdle(entry);
      this.closeLeastRecent();
    }
  }

  /** Closes the file if it is open (before it is removed, so the server can free it). */
  async forget(path: string): Promise<void> {
    const entry = this.files.get(path);
    if (!entry) return;
    this.files.delete(path);
    await this.closeWhenIdle(entry);
  }

  async closeAll(): Promise<void> {
    const entries = [...this.files.values()];
    this.files.clear();
    await Promise.all(entries.map((entry) => this.closeWhenIdle(entry)));
  }

  /** The entry for `path`, opened if need be, moved to the most recently used end. */
  private take(path: string): OpenFile {
    let entry = this.files.get(path);
    if (entry) {
      this.files.delete(path);
    } else {
      entry = { handle: this.session.open(path, 'r'), users: 0, dropped: false };
      // A failed open is not kept: the next read tries again (and reports its own error).
      entry.handle.catch(() => {
        if (this.files.get(path) === entry) this.files.delete(path);
      });
    }
    this.files.set(path, entry);
    return entry;
  }

  private closeLeastRecent(): void {
    for (const [path, entry] of this.files) {
      if (this.files.size <= this.limit) return;
      if (entry.users > 0) continue;
      this.files.delete(path);
      void this.closeWhenIdle(entry);
    }
  }

  /** Closes now, or when its last read ends; a handle of a lost session needs no closing. */
  private async closeWhenIdle(entry: OpenFile): Promise<void> {
    entry.dropped = true;
    if (entry.users > 0) return;
    const handle = await entry.handle.catch(() => undefined);
    if (handle === undefined || !this.session.isAlive) return;
    await this.session.close(handle).catch(() => undefined);
  }
}
