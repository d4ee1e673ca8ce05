import type { RunReport } from '../../backup/backup-run.js';
import type { Catalog } from '../../catalog/catalog.js';
import type { RunOutcome } from '../../catalog/run-history.js';
import type { LoadedConfig } from '../../config/loaded-config.js';
import { runPostBackupHook, type HookOutcome } from '../../hooks/post-backup-hook.js';
import { repositoryLocation } from '../../hooks/repository-location.js';
import type { CliContext } from '../context.js';
import { runSnapshots } from './backup-history.js';

/**
 * After a backup run is recorded, it is handed to the postBackup hook. Neither may change how the
 * backup ended: a failure of either is a warning.
 */

/**
 * Runs hooks.postBackup after a run that finished (outcome ok or partial; after a failed run
 * there is nothing to hand on), and records how it went. Null when no hook is configured.
 */
export async function runHookAfter(
  context: CliContext,
  loaded: LoadedConfig,
  catalog: Catalog,
  report: RunReport,
  outcome: RunOutcome,
): Promise<HookOutcome | null> {
  const command = loaded.config.hooks?.postBackup;
  if (!command || outcome === 'failed') return null;
  const { totals } = report;
  // What the command held back (until the key was unlocked) goes out first, so that the hook's
  // own output follows the line that names it.
  await context.output.settled();
  context.output.note(`running hooks.postBackup: ${command}`);
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
    { cwd: loaded.directory, output: context.globals.quiet ? undefined : process.stderr },
  );
  if (hook.error !== null) context.output.warn(`${hook.error}; the backup itself is not affected`);
  try {
    await catalog.runs.setHook(report.run, hook);
  } catch (error) {
    context.output.warn(
      `the hook's outcome could not be recorded in the catalog: ${(error as Error).message}`,
    );
  }
  return hook;
}
