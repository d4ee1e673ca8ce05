import type { FileRecord, FilesRoot, TreeEntry } from '../filesets/file-tree.js';
import { walkStoredTree } from '../filesets/stored-tree.js';
import type { Repository } from '../repository/repository.js';
import { readStreamBytes } from '../repository/stream-store.js';
import {
  beginOutput,
  checkOutput,
  commitOutput,
  discardOutput,
  OutputError,
} from './output-place.js';
import { leftOutReason, redactText, REDACTED, type Redaction } from './redaction.js';
import { ZipSink } from './zip-sink.js';

/*
 * A support bundle: the configuration files of file sets at a date, as a .zip to attach to a bug
 * report, with secrets taken out by the rules of redaction.ts. Files over 8 MiB are left out
 * too, and so are names holding a backslash (zip readers take it for a separator).
 */

const MAX_TEXT_BYTES = 8 * 1024 * 1024;

/** Text as it was encoded: UTF-8 when valid, else Latin-1 (every byte kept). */
function decode(bytes: Buffer): { text: string; encoding: 'utf8' | 'latin1' } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'utf8' };
  } catch {
    return { text: bytes.toString('latin1'), encoding: 'latin1' };
  }
}

export interface BundleSet {
  name: string;
  snapshot: string;
  time: Date;
  root: FilesRoot;
}

export interface SupportBundleOutcome {
  output: string;
  sets: Array<{ name: string; snapshot: string; time: string }>;
  /** Files in the bundle (redacted or not). */
  files: number;
  redacted: Array<{ path: string; redactions: Redaction[] }>;
  leftOut: Array<{ path: string; reason: string }>;
}

/** Checks the output before anything is read: a .zip name, and no existing file unless `force`. */
export async function checkBundleOutput(output: string, force: boolean): Promise<void> {
  if (!/\.zip$/i.test(output)) throw new OutputError(`--output ${output}: name a .zip file`);
  await checkOutput(output, 'file', force);
}

const mtimeOf = (entry: TreeEntry): Date => new Date(Number(BigInt(entry.mtime) / 1_000_000n));

function modeString(entry: TreeEntry): string {
  const type = entry.type === 'dir' ? 'd' : entry.type === 'symlink' ? 'l' : '-';
  const bit = (mask: number, char: string): string => (entry.mode & mask ? char : '-');
  const exec = (x: number, special: number, set: string, unset: string): string =>
    entry.mode & special ? (entry.mode & x ? set : unset) : bit(x, 'x');
  return (
    type +
    bit(0o400, 'r') +
    bit(0o200, 'w') +
    exec(0o100, 0o4000, 's', 'S') +
    bit(0o040, 'r') +
    bit(0o020, 'w') +
    exec(0o010, 0o2000, 's', 'S') +
    bit(0o004, 'r') +
    bit(0o002, 'w') +
    exec(0o001, 0o1000, 't', 'T')
  );
}

/** A path as the manifest shows it: quoted when it holds control characters or spaces at its ends. */
const shown = (path: string): string =>
  /\p{Cc}|^\s|\s$/u.test(path) ? JSON.stringify(path) : path;

/**
 * Writes the bundle: each set's files below a folder named for the set, keeping their absolute
 * paths, redacted; MANIFEST.txt with every entry (mode, owner, size, mtime, link target), what was
 * redacted where and what was left out and why. Written under a temporary name and renamed once
 * complete: never half a bundle.
 */
export async function writeSupportBundle(options: {
  repository: Repository;
  sets: readonly BundleSet[];
  output: string;
  force: boolean;
  program: string;
}): Promise<SupportBundleOutcome> {
  await checkBundleOutput(options.output, options.force);
  const place = await beginOutput(options.output, 'file');
  const outcome: SupportBundleOutcome = {
    output: place.final,
    sets: options.sets.map((set) => ({
      name: set.name,
      snapshot: set.snapshot,
      time: set.time.toISOString(),
    })),
    files: 0,
    redacted: [],
    leftOut: [],
  };
  const listing: string[] = [];
  const zip = new ZipSink(place.temporary);
  try {
    for (const set of options.sets) {
      listing.push(
        '',
        `${set.name} (snapshot ${set.snapshot.slice(0, 12)} of ${set.time.toISOString()})`,
      );
      for await (const event of walkStoredTree(options.repository, set.root)) {
        if (event.type === 'leave') continue;
        if (event.type === 'unreadable') {
          outcome.leftOut.push({
            path: `${set.name}${event.path}`,
            reason: `its stored listing cannot be read: ${event.error.message}`,
          });
          continue;
        }
        const { entry, path } = event;
        if (event.type === 'enter' && event.entry.partial) continue;
        const owner = `${entry.user ?? entry.uid}:${entry.group ?? entry.gid}`;
        const size = entry.type === 'file' ? String(entry.size) : '-';
        const link = entry.type === 'symlink' ? ` -> ${shown(entry.target)}` : '';
        listing.push(
          `  ${modeString(entry)} ${owner} ${size} ${mtimeOf(entry).toISOString()} ${shown(path)}${link}`,
        );
        if (entry.type === 'file') await addFile(set.name, path, entry);
      }
    }
    await zip.add('MANIFEST.txt', Buffer.from(manifest(options, outcome, listing)), new Date());
    await zip.close();
    await commitOutput(place);
    return outcome;
  } catch (error) {
    await zip.abort();
    await discardOutput(place);
    throw error;
  }

  async function addFile(set: string, path: string, entry: FileRecord): Promise<void> {
    const name = `${set}${path}`;
    const leave = (reason: string): void => {
      outcome.leftOut.push({ path: name, reason });
    };
    if (path.includes('\\'))
      return leave('its name holds a backslash, which zip readers take for a separator');
    if (entry.size > MAX_TEXT_BYTES) return leave('larger than 8 MiB');
    const bytes = await readStreamBytes(options.repository, entry, MAX_TEXT_BYTES);
    const reason = leftOutReason(path, bytes);
    if (reason) return leave(reason);
    const { text, encoding } = decode(bytes);
    const redacted = redactText(path, text);
    if (redacted.redactions.length > 0)
      outcome.redacted.push({ path: name, redactions: redacted.redactions });
    await zip.add(name, Buffer.from(redacted.text, encoding), mtimeOf(entry));
    outcome.files++;
  }
}

function manifest(
  options: { sets: readonly BundleSet[]; program: string },
  outcome: SupportBundleOutcome,
  listing: readonly string[],
): string {
  const lines = [
    'mailvault support bundle',
    `written ${new Date().toISOString()} by ${options.program}`,
    '',
    'The configuration files of the file sets below, as backed up, with secrets redacted by rule:',
    'private keys, secret files and binary files are left out, and the values of keys that name a',
    'secret (password, pass, secret, token, key...) in every form (key = value, JSON, YAML, XML',
    'elements and attributes, PHP arrays, connection strings), passwords in URLs and on command',
    'lines (mysql -p, --password=), Authorization headers, password hashes and tokens of known',
    `shapes are replaced by ${REDACTED}. Redaction works by rules: read the files before you share them.`,
    '',
    'FILE SETS',
    ...options.sets.map(
      (set) =>
        `  ${set.name}: snapshot ${set.snapshot} of ${set.time.toISOString()}; include ${set.root.include.join(', ')}${set.root.exclude.length > 0 ? `; exclude ${set.root.exclude.join(', ')}` : ''}`,
    ),
    '',
    `REDACTED (${outcome.redacted.length} file${outcome.redacted.length === 1 ? '' : 's'})`,
    ...outcome.redacted.map(
      (file) =>
        `  ${shown(file.path)}: ${file.redactions.map((r) => `line ${r.line} (${r.what})`).join(', ')}`,
    ),
    '',
    `LEFT OUT (${outcome.leftOut.length})`,
    ...outcome.leftOut.map((file) => `  ${shown(file.path)}: ${file.reason}`),
    '',
    'ENTRIES (mode, owner:group, size, mtime, path)',
    ...listing,
    '',
  ];
  return lines.join('\n');
}
