// The corpus of configuration files holding secrets, under test/fixtures/secrets/: each file as
// it lies on a mail server (its path below the corpus is its path on the server), and beside it
// FILE.expect, written by hand from the file itself: `secret: VALUE` for each secret it holds
// (none may be in a support bundle), `keep: TEXT` for ordinary text a supporter needs (host
// names, ports, paths, user names: each must be in the bundle as written), and `leftout: REASON`
// for a file the bundle must leave out whole.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SECRETS_CORPUS = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'secrets',
);

export interface CorpusFile {
  /** The path below the corpus (and below / on the server it stands for): etc/postfix/main.cf. */
  path: string;
  secrets: string[];
  keep: string[];
  /** Why the bundle leaves the file out, when it must. */
  leftOut: string | null;
}

function expectations(path: string): Omit<CorpusFile, 'path'> {
  const out: Omit<CorpusFile, 'path'> = { secrets: [], keep: [], leftOut: null };
  const text = readFileSync(`${path}.expect`, 'utf8');
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const match = /^(secret|keep|leftout): (.+)$/.exec(line);
    if (!match) throw new Error(`${path}.expect: cannot read ${JSON.stringify(line)}`);
    const [, kind, value = ''] = match;
    if (kind === 'secret') out.secrets.push(value);
    else if (kind === 'keep') out.keep.push(value);
    else out.leftOut = value;
  }
  return out;
}

/** Every file of the corpus with what it expects, in path order. */
export function corpusFiles(): CorpusFile[] {
  const files: CorpusFile[] = [];
  const visit = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (!entry.name.endsWith('.expect'))
        files.push({ path: relative(SECRETS_CORPUS, path), ...expectations(path) });
    }
  };
  visit(SECRETS_CORPUS);
  return files.sort((a, b) => a.path.localeCompare(b.path));
}
