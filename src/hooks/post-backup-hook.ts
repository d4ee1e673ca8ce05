import type { Readable } from 'node:stream';
import {
  describeExit,
  exitedCleanly,
  startShell,
  type CommandTimeout,
} from '../sources/commands/shell-command.js';

/**
 * `hooks.postBackup`: a command run after a backup run that finished (all of it, or with some
 * failures), so an administrator can hand the repository to another backup system or keep a
 * "last" pointer. Its failure is reported; it never changes how the backup ended.
 */

/** A backup run that finished, as its hook is told of it. */
export interface FinishedRun {
  id: string;
  started: Date;
  finished: Date;
  /** partial: some accounts, sets or items failed (the backup's exit code 3). */
  outcome: 'ok' | 'partial';
  /** The repository's URL or absolute path, without a password. */
  repository: string;
  /** The run's snapshots, unchanged accounts' included (as `snapshots` lists them). */
  snapshots: readonly string[];
  /** The accounts the run was asked for, by name, and those of them that failed. */
  accounts: readonly string[];
  failedAccounts: readonly string[];
  items: number;
  newItems: number;
  bytesAdded: number;
}

/** How the hook went: exitCode 0 and no error is success. */
export interface HookOutcome {
  command: string;
  /** Null when it could not start, or a signal ended it. */
  exitCode: number | null;
  error: string | null;
}

/** A hook that hangs would hold the backup (and a daemon's next job) forever. */
export const POST_BACKUP_TIMEOUT: CommandTimeout = { ms: 60 * 60_000, text: '1h' };

const WHAT = 'hooks.postBackup';

export function postBackupEnvironment(run: FinishedRun): Record<string, string> {
  return {
    MAILVAULT_RUN_ID: run.id,
    MAILVAULT_RUN_STARTED: run.started.toISOString(),
    MAILVAULT_RUN_FINISHED: run.finished.toISOString(),
    MAILVAULT_OUTCOME: run.outcome,
    MAILVAULT_REPOSITORY: run.repository,
    MAILVAULT_SNAPSHOTS: run.snapshots.join(' '),
    // Names, space-separated as the snapshot ids are (the README's promise); the counts beside.
    MAILVAULT_ACCOUNTS: run.accounts.join(' '),
    MAILVAULT_FAILED_ACCOUNTS: run.failedAccounts.join(' '),
    MAILVAULT_ACCOUNT_COUNT: String(run.accounts.length),
    MAILVAULT_FAILED_ACCOUNT_COUNT: String(run.failedAccounts.length),
    MAILVAULT_ITEMS: String(run.items),
    MAILVAULT_NEW_ITEMS: String(run.newItems),
    MAILVAULT_BYTES_ADDED: String(run.bytesAdded),
  };
}

export interface HookOptions {
  /** Where it runs: the configuration's folder, as for commands. */
  cwd: string;
  timeout?: CommandTimeout;
  /**
   * Where what it prints goes (mailvault's standard error: standard output is the backup's own,
   * and with --json one JSON document).
   */
  output?: NodeJS.WritableStream;
}

/** Runs the hook by `/bin/sh -c` and says how it went; it never throws. */
export async function runPostBackupHook(
  command: string,
  run: FinishedRun,
  options: HookOptions,
): Promise<HookOutcome> {
  try {
    const { child, exited } = startShell(command, {
      what: WHAT,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeout ?? POST_BACKUP_TIMEOUT,
      env: postBackupEnvironment(run),
    });
    for (const stream of [child.stdout, child.stderr] as Array<Readable | null>) {
      if (options.output) stream?.on('data', (chunk: Buffer) => options.output?.write(chunk));
      else stream?.resume();
    }
    const exit = await exited;
    return {
      command,
      exitCode: exit.code,
      error: exitedCleanly(exit) ? null : describeExit(WHAT, exit),
    };
  } catch (error) {
    // It could not be started (no /bin/sh, a working folder that is gone).
    return { command, exitCode: null, error: (error as Error).message };
  }
}
