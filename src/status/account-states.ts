import type { LastAttempt, LastBackup } from '../catalog/run-history.js';

/**
 * Where each account stands: its latest snapshot and its latest attempt. File sets and commands
 * are "accounts" of the sources `files` and `commands`, as in the catalog.
 */

/** What the configuration asks to back up, or why it could not be listed. */
export type ConfiguredAccounts =
  ReadonlyArray<{ source: string; name: string }> | { error: string };

export interface AccountStatus {
  source: string;
  account: string;
  /**
   * ok: backed up, and no attempt failed since; failed: its latest attempt failed (its last
   * backup, if any, is older); none: never backed up.
   */
  state: 'ok' | 'failed' | 'none';
  /** Its latest snapshot. */
  lastBackup: string | null;
  lastAttempt: { run: string; started: string; ok: boolean; error: string | null } | null;
  /** In the configuration now (null when it could not be listed). */
  configured: boolean | null;
  /** When a backup of all accounts last found it gone from its server. */
  goneSince: string | null;
}

/**
 * The state of every account known to the catalog or the configuration. An account that needs a
 * look adds a line to `problems`: one configured (or, when the configuration's list is unknown,
 * one still on its server) whose latest attempt failed, or that was never backed up.
 */
export function accountStates(
  backups: readonly LastBackup[],
  attempts: readonly LastAttempt[],
  configured: ConfiguredAccounts,
  problems: string[],
): AccountStatus[] {
  const key = (source: string, name: string): string => `${source}/${name}`;
  const wanted =
    'error' in configured ? null : new Set(configured.map((a) => key(a.source, a.name)));
  if ('error' in configured)
    problems.push(`cannot list the configured accounts: ${configured.error}`);
  const backupOf = new Map(backups.map((backup) => [key(backup.source, backup.name), backup]));
  const attemptOf = new Map(
    attempts.map((attempt) => [key(attempt.source, attempt.name), attempt]),
  );
  const names = new Map<string, { source: string; name: string }>();
  for (const each of [...backups, ...attempts, ...('error' in configured ? [] : configured)])
    names.set(key(each.source, each.name), { source: each.source, name: each.name });

  const states: AccountStatus[] = [];
  for (const [id, { source, name }] of [...names].sort(([a], [b]) => a.localeCompare(b))) {
    const backup = backupOf.get(id);
    const attempt = attemptOf.get(id);
    // A snapshot newer than the failed attempt (another machine, a later run) makes it good again.
    const failed =
      attempt !== undefined &&
      !attempt.ok &&
      (backup === undefined || backup.time.getTime() < attempt.started.getTime());
    const state = failed ? 'failed' : backup !== undefined ? 'ok' : 'none';
    const status: AccountStatus = {
      source,
      account: name,
      state,
      lastBackup: backup?.time.toISOString() ?? null,
      lastAttempt: attempt
        ? {
            run: attempt.run,
            started: attempt.started.toISOString(),
            ok: attempt.ok,
            error: attempt.error,
          }
        : null,
      configured: wanted ? wanted.has(id) : null,
      goneSince: backup?.goneSince?.toISOString() ?? null,
    };
    states.push(status);
    const watched = status.configured ?? status.goneSince === null;
    if (watched && failed)
      problems.push(
        `${id}: the last backup failed (run ${attempt.run}, started ${attempt.started.toISOString()}): ${attempt.error ?? 'no reason given'}` +
          (status.lastBackup ? `; last good backup ${status.lastBackup}` : '; never backed up'),
      );
    else if (watched && state === 'none') problems.push(`${id}: never backed up`);
  }
  return states;
}
