import type { RunReport } from '../../backup/backup-run.js';
import type { Catalog } from '../../catalog/catalog.js';
import type { RunOutcome } from '../../catalog/run-history.js';
import type { LoadedConfig } from '../../config/loaded-config.js';
import { runPostBackupHook, type HookOutcome } from '../../hooks/post-backup-hook.js';
import { repositoryLocation } from '../../hooks/repository-location.js';
import type { Session } from '../session.js';
import { runSnapshots } from './history.js';

/**
 * After a backup run is recorded, it is handed to the postBackup hook. Neither may change how the
 * backup ended: a failure of either is a warning.
 */

/**
 * Runs hooks.postBackup after a run that finished (outcome ok or partial; after a failed run
 * there is nothing to hand on), and records how it went. Null when no hook is configured.
 */
export async function runHookAfter(
  session: Session,
  loaded: LoadedConfig,
  catalog: Catalog,
  report: RunReport,
  outcome: RunOutcome,
  /** Where the hook's own output goes (none: nowhere). */
  output: NodeJS.WritableStream | undefined,
): Promise<HookOutcome | null> {
  const command = loaded.config.hooks?.postBackup;
  if (!command || outcome === 'failed') return null;
  const { totals } = report;
  session.notices.note(`running hooks.postBackup: ${command}`);
  const hook = await runPostBackupHook(
    command,
    {
      id: report.run,
      started: report.started,
      finished: report.finished,
      outcome,
      repository: repositoryLocation(loaded.config.repository.url, loaded.directory),
      snapshots: runSnapshots(report),
      accounts: report.accounts.map((account) => account.account),
      failedAccounts: report.accounts
        .filter((account) => !account.ok)
        .map((account) => account.account),
      items: totals.items,
      newItems: totals.newItems,
      bytesAdded: totals.bytesAdded,
    },
    { cwd: loaded.directory, output },
  );
  if (hook.error !== null) session.notices.warn(`${hook.error}; the backup itself is not affected`);
  try {
    await catalog.runs.setHook(report.run, hook);
  } catch (error) {
    session.notices.warn(
      `the hook's outcome could not be recorded in the catalog: ${(error as Error).message}`,
    );
  }
  return hook;
}
