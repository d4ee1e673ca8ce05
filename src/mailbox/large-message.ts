/**
 * A message at least this large is never held whole in memory: the backup reads it from the
 * server in ranges into a spool file and splits it from there, and restores, `show --raw` and
 * exports write it out object by object. Smaller messages take the buffered path, which is
 * faster per message; both write exactly the same objects for the same bytes.
 */
export const LARGE_MESSAGE_BYTES = 8 * 1024 * 1024;
