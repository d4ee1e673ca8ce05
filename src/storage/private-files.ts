import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  mkdirSync,
  openSync,
  statSync,
} from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';

/*
 * Files that hold mail or secrets (the catalog, the cache of a remote repository, logs, exports,
 * support bundles) are the owner's alone: files 0600, folders 0700, whatever the umask. A file
 * or folder found open to others (written by an earlier version, or by hand) is tightened, and
 * the user told which one and what its mode was, since others may have read it meanwhile.
 *
 * These calls are synchronous: each runs once for a file a run opens, before using it.
 */

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_FOLDER_MODE = 0o700;

/** Tells the user about a file that was open to others. */
export type PrivacyWarn = (message: string) => void;

const octal = (mode: number): string => `0${(mode & 0o777).toString(8).padStart(3, '0')}`;

/** A path as a warning shows it: control characters escaped, so it cannot act on a terminal. */
const shown = (path: string): string =>
  path.replace(
    /\p{Cc}/gu,
    (char) => `\\x${(char.codePointAt(0) ?? 0).toString(16).padStart(2, '0')}`,
  );

/** For code with no output of its own at hand: a warning worded as the CLI words its own. */
export const warnOnStderr: PrivacyWarn = (message) => {
  process.stderr.write(`mailvault: warning: ${message}\n`);
};

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function modeOf(path: string): number | undefined {
  try {
    return statSync(path).mode;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Takes group and other permissions off an existing file or folder (`what` names it in the
 * warning: "the catalog", "log file"...). Nothing happens to a missing one, or to one already
 * private. A change that is refused (a file of another user) is a warning too: the command
 * goes on, the user knows.
 */
export function tightenExisting(path: string, what: string, warn: PrivacyWarn): void {
  const mode = modeOf(path);
  if (mode === undefined || (mode & 0o077) === 0) return;
  const tightened = mode & 0o700;
  try {
    chmodSync(path, tightened);
  } catch (error) {
    warn(
      `${what} ${shown(path)} can be read by other users (mode ${octal(mode)}) and could not be made private: ${(error as Error).message}`,
    );
    return;
  }
  warn(
    `${what} ${shown(path)} could be read by other users (mode ${octal(mode)}); it is now ${octal(tightened)}, its owner's alone`,
  );
}

/**
 * Creates a folder and any missing parents, each 0700; folders already there are left as they
 * are (a parent may be shared on purpose, such as /var/lib).
 */
export function makePrivateFolder(path: string): void {
  const first = mkdirSync(path, { recursive: true, mode: PRIVATE_FOLDER_MODE });
  if (first === undefined) return;
  // The umask may have taken bits off: each folder made here gets exactly 0700.
  const made = resolve(first);
  const leaf = resolve(path);
  let current = made;
  chmodSync(current, PRIVATE_FOLDER_MODE);
  for (const part of relative(made, leaf).split(sep).filter(Boolean)) {
    current = `${current}${sep}${part}`;
    chmodSync(current, PRIVATE_FOLDER_MODE);
  }
}

/** A folder of mailvault's own: made 0700 when new, tightened (with a warning) when open. */
export function ensurePrivateFolder(path: string, what: string, warn: PrivacyWarn): void {
  if (modeOf(path) === undefined) makePrivateFolder(path);
  else tightenExisting(path, what, warn);
}

/**
 * A file of mailvault's own, before it is opened for writing: created empty with mode 0600
 * (its missing folders 0700) when absent, tightened (with a warning) when open to others.
 * Never truncates an existing file.
 */
export function ensurePrivateFile(path: string, what: string, warn: PrivacyWarn): void {
  makePrivateFolder(dirname(path));
  let fd: number;
  try {
    fd = openSync(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
      PRIVATE_FILE_MODE,
    );
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
    tightenExisting(path, what, warn);
    return;
  }
  try {
    fchmodSync(fd, PRIVATE_FILE_MODE);
  } finally {
    closeSync(fd);
  }
}
