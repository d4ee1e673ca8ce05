import type { BigIntStats } from 'node:fs';
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import { isAbsolute, normalize } from 'node:path';
import { excludeMatcher } from './exclude-matcher.js';
import type { FileEntry, FileType, WalkEvent } from './file-entry.js';
import type { SystemAccounts } from './system-accounts.js';

export interface WalkOptions {
  /** Absolute paths of files or directories. */
  include: readonly string[];
  /** Globs or `re:` expressions (see excludeMatcher). */
  exclude: readonly string[];
  accounts: SystemAccounts;
}

/** The include paths as a tree below "/": the walk descends only along them. */
interface IncludeNode {
  children: Map<string, IncludeNode>;
  included: boolean;
  /** The configured paths at or below this node, for naming what is missing. */
  paths: string[];
}

/** Sorts names by their UTF-8 bytes: the same order on every machine and in every locale. */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'does not exist';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return error instanceof Error ? error.message : String(error);
}

/**
 * Walks a file set: every include path with everything below it, minus what the excludes match,
 * and the directories on the way to the include paths (as `partial` entries, so a restore can
 * recreate them). Symlinks are entries of their own, never followed; directories on the way to
 * an include path are followed (a /srv that is a link still leads to /srv/mail/conf). Nothing
 * here is fatal: what cannot be read is a 'failure' event and the walk goes on.
 */
export async function* walkFileSet(options: WalkOptions): AsyncGenerator<WalkEvent> {
  const excluded = excludeMatcher(options.exclude);
  const root: IncludeNode = { children: new Map(), included: false, paths: [] };
  for (const path of options.include) {
    if (!isAbsolute(path)) {
      yield { type: 'failure', path, reason: 'include path is not absolute; not backed up' };
      continue;
    }
    let node = root;
    node.paths.push(path);
    for (const part of normalize(path).split('/').filter(Boolean)) {
      if (node.included) break;
      let child = node.children.get(part);
      if (!child) {
        child = { children: new Map(), included: false, paths: [] };
        node.children.set(part, child);
      }
      child.paths.push(path);
      node = child;
    }
    node.included = true;
    node.children.clear();
  }
  if (root.paths.length === 0) return;

  const entryOf = (path: string, name: string, type: FileType, stats: BigIntStats): FileEntry => {
    const uid = Number(stats.uid);
    const gid = Number(stats.gid);
    return {
      path,
      name,
      type,
      mode: Number(stats.mode & 0o7777n),
      uid,
      gid,
      user: options.accounts.userName(uid),
      group: options.accounts.groupName(gid),
      mtimeNs: stats.mtimeNs,
      ctimeNs: stats.ctimeNs,
      ino: stats.ino,
      size: type === 'file' ? Number(stats.size) : 0,
    };
  };

  async function* included(path: string, name: string, top: boolean): AsyncGenerator<WalkEvent> {
    if (excluded(path)) return;
    let stats: BigIntStats;
    try {
      stats = await lstat(path, { bigint: true });
    } catch (error) {
      const reason = reasonOf(error);
      yield {
        type: 'failure',
        path,
        reason:
          reason === 'does not exist'
            ? top
              ? 'include path does not exist'
              : 'disappeared during the backup'
            : reason,
      };
      return;
    }
    if (stats.isFile()) {
      yield { type: 'item', entry: entryOf(path, name, 'file', stats) };
    } else if (stats.isSymbolicLink()) {
      let target: Buffer;
      try {
        target = await readlink(path, { encoding: 'buffer' });
      } catch (error) {
        yield { type: 'failure', path, reason: `cannot read the link: ${reasonOf(error)}` };
        return;
      }
      const text = target.toString('utf8');
      if (!Buffer.from(text).equals(target)) {
        yield { type: 'skipped', path, reason: 'symlink target is not valid UTF-8' };
        return;
      }
      yield { type: 'item', entry: { ...entryOf(path, name, 'symlink', stats), target: text } };
    } else if (stats.isDirectory()) {
      const entry = entryOf(path, name, 'dir', stats);
      yield { type: 'enter', entry };
      let names: Buffer[] = [];
      try {
        names = await readdir(path, { encoding: 'buffer' });
      } catch (error) {
        yield { type: 'failure', path, reason: `cannot list the directory: ${reasonOf(error)}` };
      }
      names.sort(Buffer.compare);
      for (const raw of names) {
        const child = raw.toString('utf8');
        if (!Buffer.from(child).equals(raw)) {
          yield {
            type: 'skipped',
            path: childPath(path, child),
            reason: 'name is not valid UTF-8; not backed up',
          };
          continue;
        }
        yield* included(childPath(path, child), child, false);
      }
      yield { type: 'leave', entry };
    } else {
      yield { type: 'skipped', path, reason: `${kindOf(stats)}; not backed up` };
    }
  }

  async function* onTheWay(
    path: string,
    name: string,
    node: IncludeNode,
  ): AsyncGenerator<WalkEvent> {
    if (node.included) {
      yield* included(path, name, true);
      return;
    }
    let stats: BigIntStats | null = null;
    let reason = 'is not a directory';
    try {
      stats = await stat(path, { bigint: true });
    } catch (error) {
      reason = reasonOf(error);
    }
    if (!stats?.isDirectory()) {
      for (const missing of node.paths)
        yield {
          type: 'failure',
          path: missing,
          reason: `include path does not exist (${path} ${reason})`,
        };
      return;
    }
    const entry: FileEntry = { ...entryOf(path, name, 'dir', stats), partial: true };
    yield { type: 'enter', entry };
    for (const child of [...node.children.keys()].sort(compareNames)) {
      yield* onTheWay(childPath(path, child), child, node.children.get(child) as IncludeNode);
    }
    yield { type: 'leave', entry };
  }

  yield* onTheWay('/', '', root);
}

function kindOf(stats: BigIntStats): string {
  if (stats.isSocket()) return 'a socket';
  if (stats.isFIFO()) return 'a fifo';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isCharacterDevice()) return 'a character device';
  return 'not a file, directory or symlink';
}
