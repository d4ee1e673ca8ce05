import type { Logger } from 'pino';
import type { AccountTree } from '../mailbox/account-tree.js';
import type { Repository } from '../repository/repository.js';
import { restoreAccount, type AccountRestoreOutcome } from './account-restore.js';
import type { RestoreTarget } from './restore-target.js';
import { hasInbox, TargetFolders } from './target-folders.js';
import { openJustProvisioned } from './login-patience.js';

/** One account of another installation's repository, as it was at the chosen date. */
export interface ExternalAccount {
  name: string;
  snapshot: string;
  time: Date;
  tree: AccountTree;
}

export type Phase = 'provisioning' | 'folders' | 'items';

export interface PhaseResult {
  account: string;
  phase: Phase;
  ok: boolean;
  detail: string;
  outcome?: AccountRestoreOutcome;
}

export interface ExternalRestoreOptions {
  repository: Repository;
  accounts: readonly ExternalAccount[];
  /** Accounts restored at the same time. */
  concurrency: number;
  /** Opens the account on this installation's server; throws an ImapError of kind 'auth' if it does not exist. */
  openTarget: (account: string) => Promise<RestoreTarget>;
  /** Creates the account (the provisioning hook); null when provisioning is skipped. */
  provision: ((account: string) => Promise<void>) | null;
  log: Logger;
  batchSize: number;
  workers?: number;
  onPhase?: (result: PhaseResult) => void;
}

/**
 * Restores accounts from another installation's repository into this one's servers, in phases:
 * accounts are provisioned (only those that do not exist yet), then every account's folders are
 * created, then the messages are added. Each phase finishes for all accounts before the next
 * starts, so a failure shows early; running it again resumes, since every phase only adds what
 * is missing.
 */
export async function restoreExternal(options: ExternalRestoreOptions): Promise<PhaseResult[]> {
  const results: PhaseResult[] = [];
  const record = (result: PhaseResult): void => {
    results.push(result);
    options.onPhase?.(result);
  };
  const failed = new Set<string>();
  const forEach = async (
    phase: Phase,
    work: (account: ExternalAccount) => Promise<PhaseResult>,
  ): Promise<void> => {
    const queue = options.accounts.filter((account) => !failed.has(account.name));
    const worker = async (): Promise<void> => {
      for (let account = queue.shift(); account; account = queue.shift()) {
        let result: PhaseResult;
        try {
          result = await work(account);
        } catch (error) {
          result = {
            account: account.name,
            phase,
            ok: false,
            detail: error instanceof Error ? error.message : String(error),
          };
        }
        if (!result.ok) failed.add(account.name);
        record(result);
      }
    };
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(options.concurrency, queue.length)) }, worker),
    );
  };

  await forEach('provisioning', async (account) => {
    if (await exists(options.openTarget, account.name))
      return { account: account.name, phase: 'provisioning', ok: true, detail: 'exists' };
    if (!options.provision)
      return {
        account: account.name,
        phase: 'provisioning',
        ok: false,
        detail: 'does not exist on the target, and provisioning was skipped',
      };
    await options.provision(account.name);
    return { account: account.name, phase: 'provisioning', ok: true, detail: 'created' };
  });

  await forEach('folders', async (account) => {
    const target = await openJustProvisioned(() => options.openTarget(account.name));
    try {
      const folders = await TargetFolders.of(target);
      let created = 0;
      for (const record of account.tree.folders) {
        if (record.listing === null) continue;
        const path = record.delimiter
          ? record.path.split(record.delimiter).join(target.delimiter)
          : record.path;
        if (await folders.ensure(path, record.specialUse)) created++;
        if (record.subscribed) await folders.subscribe(path);
      }
      return { account: account.name, phase: 'folders', ok: true, detail: `${created} created` };
    } finally {
      await target.close();
    }
  });

  await forEach('items', async (account) => {
    const target = await openJustProvisioned(() => options.openTarget(account.name));
    try {
      const outcome = await restoreAccount({
        repository: options.repository,
        tree: account.tree,
        target,
        log: options.log,
        batchSize: options.batchSize,
        workers: options.workers,
      });
      const restored = outcome.folders.reduce((sum, folder) => sum + folder.restored, 0);
      return {
        account: account.name,
        phase: 'items',
        ok: outcome.failures.length === 0,
        detail: `${restored} restored, ${outcome.failures.length} failed`,
        outcome,
      };
    } finally {
      await target.close();
    }
  });
  return results;
}

/**
 * Whether the account exists on the target: a login for it succeeds and it has an INBOX. The
 * login alone proves nothing where an administrator may act for any name (Cyrus).
 */
async function exists(
  open: (account: string) => Promise<RestoreTarget>,
  account: string,
): Promise<boolean> {
  let target: RestoreTarget;
  try {
    target = await open(account);
  } catch (error) {
    if ((error as { kind?: string }).kind === 'auth') return false;
    throw error;
  }
  try {
    return await hasInbox(target);
  } finally {
    await target.close();
  }
}
