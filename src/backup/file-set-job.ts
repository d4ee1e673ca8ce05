import type { Config } from '../config/schema.js';
import { readFilesRoot, type EntryMeta, type FilesRoot } from '../filesets/file-tree.js';
import { FileTreeBuilder } from '../filesets/tree-builder.js';
import type { ByteTally } from '../repository/object-writer.js';
import { storeStream } from '../repository/stream-store.js';
import type { FileEntry } from '../sources/files/file-entry.js';
import { readFileContent } from '../sources/files/file-content.js';
import { walkFileSet } from '../sources/files/file-walker.js';
import { SystemAccounts } from '../sources/files/system-accounts.js';
import type { ItemFailure } from './item-failure.js';
import { SetFailedError, type SetBackupContext, type SetJob, type SetResult } from './set-job.js';

export type FileSetConfig = Config['files'][number];

function metaOf(entry: FileEntry): EntryMeta {
  return {
    name: entry.name,
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    user: entry.user,
    group: entry.group,
    mtime: String(entry.mtimeNs),
  };
}

/** The backup of one file set as a snapshot of kind 'files' (source 'files', name: the set's). */
export function fileSetJob(
  set: FileSetConfig,
  parent: { id: string; tree: string } | null,
): SetJob {
  return {
    kind: 'files',
    source: 'files',
    name: set.name,
    parent: parent?.id ?? null,
    parentTree: parent?.tree ?? null,
    backup: (context) => backupFileSet(set, parent, context),
  };
}

async function backupFileSet(
  set: FileSetConfig,
  parent: { id: string; tree: string } | null,
  { repository, writer, log }: SetBackupContext,
): Promise<SetResult> {
  const time = new Date();
  const added: ByteTally = { bytes: 0 };
  const failures: ItemFailure[] = [];
  const fail = (path: string, reason: string): void => {
    failures.push({ source: 'files', account: set.name, folder: path, reason });
  };
  let previous: FilesRoot | null = null;
  if (parent) {
    try {
      previous = await readFilesRoot(repository, parent.tree);
    } catch (error) {
      log.warn(
        { set: set.name, err: error },
        `file set ${set.name}: the previous snapshot's tree cannot be read; every file is read again`,
      );
    }
  }
  const builder = new FileTreeBuilder(repository, writer, previous, added);
  const counts = {
    files: 0,
    directories: 0,
    symlinks: 0,
    bytes: 0,
    newItems: 0,
    bytesRead: 0,
    skipped: 0,
  };
  const accounts = await SystemAccounts.load();
  for await (const event of walkFileSet({ include: set.include, exclude: set.exclude, accounts })) {
    if (event.type === 'enter') {
      await builder.enter(metaOf(event.entry), Boolean(event.entry.partial));
      if (!event.entry.partial) counts.directories++;
    } else if (event.type === 'leave') {
      await builder.leave();
    } else if (event.type === 'failure') {
      fail(event.path, event.reason);
    } else if (event.type === 'skipped') {
      counts.skipped++;
      log.warn({ set: set.name, path: event.path }, `${event.path}: ${event.reason}`);
    } else if (event.entry.type === 'symlink') {
      builder.addSymlink(metaOf(event.entry), event.entry.target ?? '');
      counts.symlinks++;
    } else {
      const { entry } = event;
      const meta = metaOf(entry);
      const identity = { size: entry.size, ino: String(entry.ino), ctime: String(entry.ctimeNs) };
      const reused = builder.unchanged(meta, identity);
      if (reused) {
        builder.addRecord(reused);
        counts.bytes += reused.size;
      } else {
        const content = readFileContent(entry);
        try {
          const stored = await storeStream(repository, writer, content.chunks, added);
          builder.addFile(meta, stored, identity);
          counts.bytes += stored.size;
          counts.bytesRead += stored.size;
          counts.newItems++;
        } catch (error) {
          fail(entry.path, error instanceof Error ? error.message : String(error));
          continue;
        }
        if (content.changedWhileRead())
          fail(
            entry.path,
            'changed while it was read: the stored copy may mix old and new content (the next backup reads it again)',
          );
      }
      counts.files++;
    }
  }
  if (counts.files + counts.directories + counts.symlinks === 0) {
    const first = failures[0];
    throw new SetFailedError(
      first
        ? `file set ${set.name}: nothing could be read (${first.folder}: ${first.reason}${failures.length > 1 ? `, and ${failures.length - 1} more` : ''})`
        : `file set ${set.name}: nothing to back up (every include path is excluded)`,
    );
  }
  const tree = await builder.finish(set.include, set.exclude);
  return {
    tree,
    time,
    summary: {
      items: counts.files + counts.directories + counts.symlinks,
      ...counts,
      failed: failures.length,
    },
    added,
    failures,
  };
}
