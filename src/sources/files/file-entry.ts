/** What a walk of a file set reports: entries with their lstat metadata, in a stable order. */
export type FileType = 'file' | 'dir' | 'symlink';

export interface FileEntry {
  /** Absolute path, normalized (no trailing slash except for "/"). */
  path: string;
  /** The base name; "" for "/". */
  name: string;
  type: FileType;
  /** Permission bits with setuid, setgid and sticky (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Owner and group names where the system's account files know the ids. */
  user: string | null;
  group: string | null;
  /** Nanoseconds since the epoch. */
  mtimeNs: bigint;
  ctimeNs: bigint;
  ino: bigint;
  /** Bytes, for files (0 otherwise). */
  size: number;
  /** A symlink's target, as stored in the link. */
  target?: string;
  /**
   * A directory on the way to an include path, not itself included: only some of its children
   * belong to the set (e.g. /etc for an include of /etc/dovecot).
   */
  partial?: boolean;
}

/**
 * The walk in depth-first order: a directory's 'enter', its children in name order (UTF-8 byte
 * order), then its 'leave'. Files and symlinks are 'item's. A 'failure' is something that should
 * have been read and was not (gone, unreadable, a missing include path); a 'skipped' is something
 * a file set does not hold (sockets, fifos, devices, names that are not UTF-8).
 */
export type WalkEvent =
  | { type: 'enter'; entry: FileEntry }
  | { type: 'leave'; entry: FileEntry }
  | { type: 'item'; entry: FileEntry }
  | { type: 'failure'; path: string; reason: string }
  | { type: 'skipped'; path: string; reason: string };
