import type { RunReport } from '../../backup/backup-run.js';
import type { ItemFailure } from '../../backup/item-failure.js';
import type { SetReport } from '../../backup/set-job.js';
import type { RunOutcome, RunPart, RunRecord } from '../../catalog/run-history.js';
import { formatCount } from '../../text/format.js';

/**
 * How a backup run ended, in the terms the exit code, the run history and the postBackup hook
 * share: failed when everything asked for failed (exit 1), partial when some of it did or some
 * items could not be read (exit 3), ok otherwise.
 */
export function backupOutcome(report: RunReport): RunOutcome {
  const failed = failedParts(report).length;
  const total = report.accounts.length + report.sets.length;
  if (total > 0 && failed === total) return 'failed';
  return failed > 0 || report.failures.length > 0 ? 'partial' : 'ok';
}

/** What the run was asked to back up and could not: accounts, file sets and commands. */
export function failedParts(report: RunReport): Array<{ label: string; error: string }> {
  return [
    ...report.accounts
      .filter((account) => !account.ok)
      .map((account) => ({
        label: `${account.source}/${account.account}`,
        error: account.error ?? 'failed',
      })),
    ...report.sets
      .filter((set) => !set.ok)
      .map((set) => ({ label: setLabel(set), error: set.error ?? 'failed' })),
  ];
}

export function setLabel(set: SetReport): string {
  return `${set.kind === 'files' ? 'file set' : 'command'} ${set.name}`;
}

/** A failed run's one line: the first reason, and the names of the others that failed. */
export function failureMessage(report: RunReport): string {
  const [first, ...others] = failedParts(report);
  const also =
    others.length > 0 ? ` (also failed: ${others.map((part) => part.label).join(', ')})` : '';
  return `${first?.error ?? 'failed'}${also}`;
}

/** Parts named in a partial run's error; the rest are counted (each is in the run's parts). */
const NAMED_FAILURES = 5;

function partialMessage(report: RunReport): string {
  const failed = [
    ...failedParts(report),
    ...report.failures.filter((failure) => !isItemFailure(failure)).map(partOfAccount),
  ];
  const named = failed.slice(0, NAMED_FAILURES).map((part) => `${part.label}: ${part.error}`);
  if (failed.length > NAMED_FAILURES)
    named.push(`${formatCount(failed.length - NAMED_FAILURES)} more failed`);
  const unread = report.failures.filter(isItemFailure).length;
  if (unread > 0) named.push(`${formatCount(unread)} item${unread === 1 ? '' : 's'} unreadable`);
  return named.join('; ');
}

/** One message, event, contact or file: not a folder, nor a whole part of an account. */
export function isItemFailure(failure: ItemFailure): boolean {
  return failure.uid !== undefined || failure.item !== undefined;
}

/** A folder, or the mail or the calendars of an account, that could not be read. */
function partOfAccount(failure: ItemFailure): { label: string; error: string } {
  const where = `${failure.source}/${failure.account}`;
  return {
    label: failure.folder === undefined ? where : `${where} folder ${failure.folder}`,
    error: failure.reason,
  };
}

/** The snapshots the run wrote or recorded (unchanged accounts' included), accounts first. */
export function runSnapshots(report: RunReport): string[] {
  return [...report.accounts, ...report.sets].flatMap((part) =>
    part.snapshot ? [part.snapshot] : [],
  );
}

/** The run as the catalog's history keeps it, with how each account and set went. */
export function backupRunRecord(
  report: RunReport,
  outcome: RunOutcome,
): { run: RunRecord; parts: RunPart[] } {
  const { totals } = report;
  return {
    run: {
      id: report.run,
      kind: 'backup',
      started: report.started,
      finished: report.finished,
      outcome,
      counts: {
        accounts: totals.accounts,
        failedAccounts: totals.failedAccounts,
        fileSets: totals.fileSets,
        failedFileSets: totals.failedFileSets,
        commands: totals.commands,
        failedCommands: totals.failedCommands,
        items: totals.items,
        newItems: totals.newItems,
        failedItems: report.failures.length,
        bytesRead: totals.bytesRead,
        bytesAdded: totals.bytesAdded,
        packs: totals.packs,
        snapshots: runSnapshots(report).length,
      },
      error:
        outcome === 'failed'
          ? failureMessage(report)
          : outcome === 'partial'
            ? partialMessage(report)
            : null,
      hook: null,
    },
    parts: [
      ...report.accounts.map((account) => ({
        source: account.source,
        name: account.account,
        ok: account.ok,
        error: account.error,
        snapshot: account.snapshot,
      })),
      ...report.sets.map((set) => ({
        source: set.kind === 'files' ? 'files' : 'commands',
        name: set.name,
        ok: set.ok,
        error: set.error,
        snapshot: set.snapshot,
      })),
    ],
  };
}
