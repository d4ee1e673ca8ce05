import type { Logger } from 'pino';
import { createAssembler } from '../mailbox/assembly/message-assembler.js';
import type { MessageEntry } from '../mailbox/folder-listing.js';
import type { Repository } from '../repository/repository.js';
import type { AccountRestoreOutcome } from './account-restore.js';
import { restoreMessages } from './folder-restore.js';
import type { FolderRestoreReport } from './restore-report.js';
import type { RestoreTarget } from './restore-target.js';
import { TargetFolders } from './target-folders.js';

/** One backed-up message to put back, and where. */
export interface ItemToRestore {
  /** The folder it was backed up from (for reports). */
  folder: string;
  /** The folder it goes to on the target (created if missing). */
  destination: string;
  entry: MessageEntry;
}

export interface ItemsRestoreOptions {
  repository: Repository;
  target: RestoreTarget;
  items: readonly ItemToRestore[];
  log: Logger;
  batchSize: number;
  workers?: number;
  onMessages?: (count: number, bytes: number) => void;
}

/**
 * Puts chosen messages back (single items, or what was deleted in a span of time), each into its
 * folder, recreated and subscribed if it is gone. As with whole accounts, what the target already
 * holds is not added again, so a repeated or resumed restore adds nothing twice.
 */
export async function restoreItems(options: ItemsRestoreOptions): Promise<AccountRestoreOutcome> {
  const assembler = createAssembler(options.repository.key.encryption, options.workers);
  const outcome: AccountRestoreOutcome = { folders: [], failures: [], bytes: 0 };
  try {
    const folders = await TargetFolders.of(options.target);
    const byDestination = new Map<string, ItemToRestore[]>();
    for (const item of options.items) {
      const group = byDestination.get(item.destination) ?? [];
      group.push(item);
      byDestination.set(item.destination, group);
    }
    for (const [destination, group] of byDestination) {
      const source = group[0]?.folder ?? destination;
      const report: FolderRestoreReport = {
        folder: source,
        target: destination,
        created: false,
        subscribed: false,
        restored: 0,
        alreadyPresent: 0,
        failed: 0,
      };
      outcome.folders.push(report);
      try {
        report.created = await folders.ensure(destination, null);
        if (report.created) report.subscribed = await folders.subscribe(destination);
        const entries = group.map((item) => item.entry).sort((a, b) => a.uid - b.uid);
        const context = {
          repository: options.repository,
          assembler,
          target: options.target,
          log: options.log,
          batchSize: options.batchSize,
          onMessages: options.onMessages,
        };
        const result = await restoreMessages(context, entries, source, destination);
        report.restored = result.restored;
        report.alreadyPresent = result.alreadyPresent;
        report.failed = result.failures.length;
        outcome.failures.push(...result.failures);
        outcome.bytes += result.bytes;
      } catch (error) {
        if ((error as { kind?: string }).kind !== 'refused') throw error;
        report.failed += group.length;
        outcome.failures.push({ folder: source, reason: (error as Error).message });
      }
    }
    return outcome;
  } finally {
    await assembler.close();
  }
}
