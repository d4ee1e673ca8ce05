import type { Logger } from 'pino';
import type { AccountTree } from '../mailbox/account-tree.js';
import { createAssembler, type MessageAssembler } from '../mailbox/assembly/message-assembler.js';
import type { Repository } from '../repository/repository.js';
import { isSelected, targetPath } from './folder-mapping.js';
import { restoreFolderMessages } from './folder-restore.js';
import type { FolderRestoreReport, RestoreFailure } from './restore-report.js';
import type { RestoreTarget } from './restore-target.js';
import { TargetFolders } from './target-folders.js';

export interface AccountRestoreOptions {
  repository: Repository;
  tree: AccountTree;
  target: RestoreTarget;
  log: Logger;
  batchSize: number;
  /** Only these folders (and their subfolders). */
  folders?: string[];
  /** Put the restored tree below this folder instead of merging it. */
  intoFolder?: string;
  onFolder?: (folder: string) => void;
  onMessages?: (count: number, bytes: number) => void;
  /** Threads that put messages together (default: one per core). */
  workers?: number;
}

export interface AccountRestoreOutcome {
  folders: FolderRestoreReport[];
  failures: RestoreFailure[];
  bytes: number;
}

/**
 * Brings an account back to how a snapshot saw it, adding only what is missing: folders are
 * created (with special-use where the server lets a client set it) and subscribed as they were,
 * messages appended with their flags, keywords and INTERNALDATE. Nothing on the target is deleted,
 * overwritten or re-flagged.
 */
export async function restoreAccount(
  options: AccountRestoreOptions,
): Promise<AccountRestoreOutcome> {
  const assembler = createAssembler(options.repository.key.encryption, options.workers);
  try {
    return await restoreAccountWith(options, assembler);
  } finally {
    await assembler.close();
  }
}

async function restoreAccountWith(
  options: AccountRestoreOptions,
  assembler: MessageAssembler,
): Promise<AccountRestoreOutcome> {
  const { target } = options;
  const folders = await TargetFolders.of(target);
  const outcome: AccountRestoreOutcome = { folders: [], failures: [], bytes: 0 };
  const records = options.tree.folders.filter((record) => isSelected(record, options.folders));
  if (options.intoFolder && (await folders.ensure(options.intoFolder, null)))
    await folders.subscribe(options.intoFolder);
  for (const record of records) {
    const destination = targetPath(record, target.delimiter, options.intoFolder);
    const report: FolderRestoreReport = {
      folder: record.path,
      target: destination,
      created: false,
      subscribed: false,
      restored: 0,
      alreadyPresent: 0,
      failed: 0,
    };
    outcome.folders.push(report);
    options.onFolder?.(record.path);
    try {
      // A \Noselect folder holds no messages; creating its children brings it back.
      if (record.listing !== null)
        report.created = await folders.ensure(destination, record.specialUse);
      if (record.subscribed && folders.has(destination))
        report.subscribed = await folders.subscribe(destination);
      if (record.listing === null) continue;
      const folder = await restoreFolderMessages(
        {
          repository: options.repository,
          assembler,
          target,
          log: options.log,
          batchSize: options.batchSize,
          onMessages: options.onMessages,
        },
        record.listing,
        record.path,
        destination,
      );
      report.restored = folder.restored;
      report.alreadyPresent = folder.alreadyPresent;
      report.failed = folder.failures.length;
      outcome.failures.push(...folder.failures);
      outcome.bytes += folder.bytes;
    } catch (error) {
      if ((error as { kind?: string }).kind !== 'refused') throw error;
      report.failed++;
      outcome.failures.push({ folder: record.path, reason: (error as Error).message });
    }
  }
  if (!options.intoFolder && !options.folders?.length) {
    for (const name of options.tree.orphanSubscriptions) {
      await target
        .subscribe(name)
        .catch((error: unknown) => options.log.warn({ folder: name }, (error as Error).message));
    }
  }
  return outcome;
}
