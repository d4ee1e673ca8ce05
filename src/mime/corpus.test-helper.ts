// Test-only: the raw messages of the shared corpora (see shared/corpora/SOURCES.md), read in
// place because their licences do not all allow copying them into the project.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Fewer files than this means the corpora were not found where expected, not a small corpus. */
export const MIN_CORPUS_MESSAGES = 1000;

/** $MAILVAULT_CORPORA, else shared/corpora beside the checkout (this file is src/mime/ in it). */
export function corporaDir(): string {
  return (
    process.env.MAILVAULT_CORPORA ??
    fileURLToPath(new URL('../../../shared/corpora/', import.meta.url))
  );
}

const NOT_MESSAGES = /(^|\/)(LICENSE|README[^/]*|COPYING|NOTICE|[^/]*\.txt)$/;

function walk(dir: string, keep: (path: string) => boolean, out: string[]): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) walk(path, keep, out);
    else if (keep(path) && !NOT_MESSAGES.test(path)) out.push(path);
  }
}

/**
 * Paths of every raw message file: sisimai maildir/, mailbox/ and to-be-debugged-because/,
 * james-mime4j *.msg and its mbox test files, stalwart-mail-parser resources/eml/ and the
 * placeholder files of resources/maildir/. Sorted, so failures name the same file every run.
 */
export function corpusMessageFiles(): string[] {
  const root = corporaDir();
  const paths: string[] = [];
  const all = (): boolean => true;
  walk(join(root, 'sisimai-set-of-emails', 'maildir'), all, paths);
  walk(join(root, 'sisimai-set-of-emails', 'mailbox'), all, paths);
  walk(join(root, 'sisimai-set-of-emails', 'to-be-debugged-because'), all, paths);
  walk(join(root, 'james-mime4j'), (path) => /\.msg$|\/mbox\.rlug[^/]*$/.test(path), paths);
  walk(join(root, 'stalwart-mail-parser', 'resources'), all, paths);
  return paths.sort();
}

/** A file's name relative to the corpora, for test titles. */
export function corpusName(path: string): string {
  return relative(corporaDir(), path);
}
