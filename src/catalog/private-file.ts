import {
  ensurePrivateFile,
  tightenExisting,
  warnOnStderr,
  type PrivacyWarn,
} from '../storage/private-files.js';

/** Beside the database, SQLite's write-ahead log, its shared-memory index and a rollback journal. */
const COMPANIONS = ['-wal', '-shm', '-journal'];

/**
 * The catalog holds every message's subject, senders and recipients and an index of the words of
 * its body: it is made 0600 before SQLite opens it (and its folder 0700 if new), and an older one
 * open to others is tightened with a warning. SQLite gives the files it creates beside it the
 * database's own mode; those an earlier run left behind are tightened here too.
 */
export function makeCatalogPrivate(path: string, warn: PrivacyWarn = warnOnStderr): void {
  ensurePrivateFile(path, 'the catalog', warn);
  for (const suffix of COMPANIONS) tightenExisting(`${path}${suffix}`, 'the catalog file', warn);
}
