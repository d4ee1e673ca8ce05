import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import {
  chmod,
  chown,
  lchown,
  link,
  lstat,
  lutimes,
  mkdir,
  open,
  readlink,
  rename,
  rm,
  stat,
  symlink,
  unlink,
  utimes,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setExactTimes, settableByNode } from './exact-times.js';

/** What a restored entry gets besides its content. */
export interface EntryMetadata {
  mode: number;
  uid: number;
  gid: number;
  user: string | null;
  group: string | null;
  mtimeNs: bigint;
}

export type EntryOutcome =
  | { kind: 'restored' }
  | { kind: 'present' }
  | { kind: 'skipped'; reason: string }
  | { kind: 'failed'; reason: string };

/** Maps recorded owners to this system's ids: by name first, then the recorded id. */
export interface OwnerMapping {
  uidFor(name: string | null, uid: number): number;
  gidFor(name: string | null, gid: number): number;
}

export interface FileTargetOptions {
  /** The directory the absolute paths are restored below ("/" for in place); it must exist. */
  root: string;
  /** Replace existing files and links that differ (never a directory by a file). */
  force: boolean;
  /** Set owners (only root can); null leaves them to whoever runs the restore. */
  owners: OwnerMapping | null;
}

/** What finish() says. */
export interface FinishedTarget {
  problems: Array<{ path: string; reason: string }>;
  /** Entries whose times are right to the microsecond only, and why (null: all exact). */
  microsecondTimes: { entries: number; reason: string } | null;
}

const RESTORED = { kind: 'restored' } as const;
const PRESENT = { kind: 'present' } as const;

async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isSymbolicLink()) return 'a symlink';
  if (stats.isFile()) return 'a file';
  return 'a special file';
}

/**
 * Seconds for utimes: libuv keeps microseconds (truncating), so half a microsecond is added to
 * land on the recorded microsecond despite the double's rounding. Nanoseconds are set apart
 * (exact-times.ts).
 */
export function utimeSeconds(ns: bigint): number {
  if (ns < 0n) return Number(ns) / 1e9;
  return Number(ns / 1_000_000_000n) + (Number((ns % 1_000_000_000n) / 1000n) + 0.5) / 1e6;
}

async function sameContent(path: string, sha256: string): Promise<boolean> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex') === sha256;
}

const message = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/**
 * Writes restored files below a directory, never leaving a half-written file: content goes to a
 * temporary name in the same directory, is flushed to disk, gets its owner, mode and mtime, and
 * only then takes its name (a hard link that fails if the name was taken meanwhile; a rename
 * with --force). Existing entries are left alone unless they differ and `force` is set.
 * Directories get their metadata last, deepest first (finish), so writing into them does not
 * change their mtime and a read-only mode does not stop the restore.
 */
export class FileTarget {
  private readonly directories: Array<{ path: string; metadata: EntryMetadata }> = [];
  private readonly written = new Set<string>();
  /** Entries whose time has nanoseconds Node could not set. */
  private readonly times: Array<{ path: string; mtimeNs: bigint }> = [];

  constructor(private readonly options: FileTargetOptions) {}

  get setsOwners(): boolean {
    return this.options.owners !== null;
  }

  /** Where an absolute path lands. */
  destination(path: string): string {
    return path === '/' ? this.options.root : join(this.options.root, path);
  }

  /**
   * A directory: created when missing (its metadata set in finish), kept when present. An
   * `ancestor` (on the way to what is restored) may be reached through a symlink, as the backup
   * reached it; a directory of the set may not, and a link or file in its way is replaced only
   * with --force.
   */
  async directory(path: string, metadata: EntryMetadata, ancestor: boolean): Promise<EntryOutcome> {
    const destination = this.destination(path);
    try {
      const existing = await lstatOrNull(destination);
      if (existing?.isDirectory()) {
        if (this.options.force && !ancestor) this.directories.push({ path: destination, metadata });
        return PRESENT;
      }
      if (existing?.isSymbolicLink() && ancestor) {
        const followed = await stat(destination).catch(() => null);
        if (followed?.isDirectory()) return PRESENT;
      }
      if (existing) {
        if (!this.options.force)
          return { kind: 'skipped', reason: `${kindOf(existing)} is in the way (use --force)` };
        await unlink(destination);
      }
      await mkdir(destination, { mode: 0o700 });
      this.directories.push({ path: destination, metadata });
      return RESTORED;
    } catch (error) {
      return { kind: 'failed', reason: message(error) };
    }
  }

  /** A file from its content, which must verify (it throws otherwise) before the file is named. */
  async file(
    path: string,
    metadata: EntryMetadata,
    expected: { size: number; sha256: string },
    content: () => AsyncIterable<Uint8Array>,
  ): Promise<EntryOutcome> {
    const destination = this.destination(path);
    let existing: Stats | null;
    try {
      existing = await lstatOrNull(destination);
      if (existing?.isDirectory())
        return {
          kind: 'skipped',
          reason: 'a directory is in the way (not replaced by a file, even with --force)',
        };
      if (
        existing?.isFile() &&
        existing.size === expected.size &&
        (await sameContent(destination, expected.sha256))
      ) {
        if (this.options.force) await this.applyMetadata(destination, metadata, false);
        if (this.options.force) this.timed(destination, metadata);
        return PRESENT;
      }
    } catch (error) {
      return { kind: 'failed', reason: message(error) };
    }
    if (existing && !this.options.force)
      return {
        kind: 'skipped',
        reason: existing.isFile()
          ? 'exists with different content (use --force to replace it)'
          : `${kindOf(existing)} is in the way (use --force)`,
      };
    const temporary = this.temporaryName(destination);
    try {
      const handle = await open(temporary, 'wx', 0o600);
      try {
        for await (const chunk of content()) {
          let at = 0;
          while (at < chunk.length) {
            const { bytesWritten } = await handle.write(chunk, at, chunk.length - at);
            at += bytesWritten;
          }
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      await this.applyMetadata(temporary, metadata, false);
      const outcome = await this.commit(temporary, destination, existing !== null);
      if (outcome.kind === 'restored') this.timed(destination, metadata);
      return outcome;
    } catch (error) {
      await rm(temporary, { force: true });
      return { kind: 'failed', reason: message(error) };
    }
  }

  async symlink(path: string, metadata: EntryMetadata, target: string): Promise<EntryOutcome> {
    const destination = this.destination(path);
    let existing: Stats | null;
    try {
      existing = await lstatOrNull(destination);
      if (existing?.isSymbolicLink() && (await readlink(destination)) === target) {
        if (this.options.force) await this.applyMetadata(destination, metadata, true);
        if (this.options.force) this.timed(destination, metadata);
        return PRESENT;
      }
    } catch (error) {
      return { kind: 'failed', reason: message(error) };
    }
    if (existing?.isDirectory())
      return {
        kind: 'skipped',
        reason: 'a directory is in the way (not replaced by a link, even with --force)',
      };
    if (existing && !this.options.force)
      return {
        kind: 'skipped',
        reason: existing.isSymbolicLink()
          ? 'a symlink with another target exists (use --force to replace it)'
          : `${kindOf(existing)} is in the way (use --force)`,
      };
    const temporary = existing ? this.temporaryName(destination) : destination;
    try {
      await symlink(target, temporary);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST')
        return { kind: 'skipped', reason: 'appeared during the restore; left as it is' };
      return { kind: 'failed', reason: message(error) };
    }
    try {
      await this.applyMetadata(temporary, metadata, true);
      if (existing) await rename(temporary, destination);
      this.written.add(dirname(destination));
      this.timed(destination, metadata);
      return RESTORED;
    } catch (error) {
      if (existing) await rm(temporary, { force: true });
      return { kind: 'failed', reason: message(error) };
    }
  }

  /**
   * Sets the metadata of the directories created (or, with --force, found), deepest first, then
   * the nanoseconds of every time set (see exact-times.ts; setting a time changes no directory),
   * and flushes the directories that received new names. Returns what could not be done, by
   * path, and the entries whose times were set to the microsecond only.
   */
  async finish(): Promise<FinishedTarget> {
    const problems: Array<{ path: string; reason: string }> = [];
    const depth = (path: string): number => path.split('/').length;
    const directories = [...this.directories].sort((a, b) => depth(b.path) - depth(a.path));
    for (const { path, metadata } of directories) {
      try {
        await this.applyMetadata(path, metadata, false);
        this.timed(path, metadata);
      } catch (error) {
        problems.push({
          path,
          reason: `its owner, mode or mtime could not be set: ${message(error)}`,
        });
      }
    }
    const { inexact, reason } = await setExactTimes(this.times);
    for (const directory of this.written) {
      const handle = await open(directory, 'r').catch(() => null);
      await handle?.sync().catch(() => undefined);
      await handle?.close();
    }
    return {
      problems,
      microsecondTimes: reason === null ? null : { entries: inexact.length, reason },
    };
  }

  /** An entry whose time was set, by its final name, for its nanoseconds in finish(). */
  private timed(path: string, metadata: EntryMetadata): void {
    if (!settableByNode(metadata.mtimeNs)) this.times.push({ path, mtimeNs: metadata.mtimeNs });
  }

  private temporaryName(destination: string): string {
    return join(dirname(destination), `.mailvault-restore-${randomBytes(6).toString('hex')}`);
  }

  /** Owner first (changing it clears setuid and setgid), then the mode, then the times. */
  private async applyMetadata(
    path: string,
    metadata: EntryMetadata,
    isLink: boolean,
  ): Promise<void> {
    const owners = this.options.owners;
    if (owners) {
      const uid = owners.uidFor(metadata.user, metadata.uid);
      const gid = owners.gidFor(metadata.group, metadata.gid);
      await (isLink ? lchown : chown)(path, uid, gid);
    }
    if (!isLink) await chmod(path, metadata.mode);
    const seconds = utimeSeconds(metadata.mtimeNs);
    await (isLink ? lutimes : utimes)(path, seconds, seconds);
  }

  /** Gives the finished temporary file its name: replacing only when there was something to replace. */
  private async commit(
    temporary: string,
    destination: string,
    replace: boolean,
  ): Promise<EntryOutcome> {
    this.written.add(dirname(destination));
    if (replace) {
      await rename(temporary, destination);
      return RESTORED;
    }
    try {
      await link(temporary, destination);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        await rm(temporary, { force: true });
        return { kind: 'skipped', reason: 'appeared during the restore; left as it is' };
      }
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
      // No hard links here: check, then rename (a name taken in between would be replaced).
      if (await lstatOrNull(destination)) {
        await rm(temporary, { force: true });
        return { kind: 'skipped', reason: 'appeared during the restore; left as it is' };
      }
      await rename(temporary, destination);
      return RESTORED;
    }
    await unlink(temporary);
    return RESTORED;
  }
}
