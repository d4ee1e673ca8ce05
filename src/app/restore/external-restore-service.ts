import { parseDate, type DateSpec } from '../../dates/parse-date.js';
import { readAccountTree } from '../../mailbox/account-tree.js';
import type { Repository } from '../../repository/repository.js';
import {
  describeUnknownKind,
  isKnownKind,
  type IdentifiedSnapshot,
} from '../../repository/snapshot/snapshot-kind.js';
import type { ExternalAccount, PhaseResult } from '../../restore/external-restore.js';
import { UsageError } from '../errors.js';
import { notified } from '../notified.js';
import type { Passphrase, Session } from '../session.js';
import { createAccount } from './provision.js';
import { buildReport, combined } from './reports.js';
import { restoreOutcome } from './restore-outcome.js';
import { findServer, openTarget } from './restore-target.js';

export interface ExternalRestoreRequest {
  /** The other repository's URL (a path relative to `cwd`). */
  repo: string;
  cwd: string;
  /** Its passphrase: asked for once the location proves to be a repository. */
  passphrase: () => Promise<Passphrase>;
  /** Only these accounts, only accounts of these domains. */
  accounts?: string[];
  domains?: string[];
  /** Accounts at a time, 1 to 64 (as given). */
  concurrency: string;
  /** Do not create accounts the target lacks. */
  skipProvisioning?: boolean;
  at: string;
  /** This configuration's server to restore into (default: the only one). */
  toServer?: string;
  requestedBy: string;
  notify?: string;
  /** Each phase of each account as it ends: accounts, folders, items. */
  onPhase?: (result: PhaseResult) => void;
}

export interface ExternalRestoreResult {
  accounts: ExternalAccount[];
  phases: PhaseResult[];
  at: DateSpec;
}

/**
 * The latest account snapshot at or before a moment, per account, of a repository without a
 * catalog; and the snapshots of kinds this mailvault does not know, which it passes over.
 */
async function accountsAt(
  repository: Repository,
  at: DateSpec,
): Promise<{ accounts: ExternalAccount[]; unknown: IdentifiedSnapshot[] }> {
  const latest = new Map<string, { id: string; time: Date; tree: string; source: string }>();
  const unknown: IdentifiedSnapshot[] = [];
  for await (const { id, snapshot } of repository.snapshots()) {
    if (!isKnownKind(snapshot.kind)) unknown.push({ id, snapshot });
    if (snapshot.kind !== 'account') continue;
    const time = new Date(snapshot.time);
    if (at.kind === 'time' && time > at.time) continue;
    const current = latest.get(snapshot.name);
    const better = !current || (at.kind === 'first' ? time < current.time : time > current.time);
    if (better)
      latest.set(snapshot.name, { id, time, tree: snapshot.tree, source: snapshot.source });
  }
  const accounts: ExternalAccount[] = [];
  for (const [name, found] of [...latest].sort(([a], [b]) => a.localeCompare(b))) {
    accounts.push({
      name,
      snapshot: found.id,
      time: found.time,
      tree: await readAccountTree(repository, found.tree),
    });
  }
  return { accounts, unknown };
}

/**
 * Restores from another installation's repository (no catalog needed) into this configuration's
 * server, in phases: accounts created where missing, then folders, then items.
 */
export async function restoreFromRepository(
  session: Session,
  options: ExternalRestoreRequest,
): Promise<ExternalRestoreResult> {
  const { restoreExternal } = await import('../../restore/external-restore.js');
  const { Repository } = await import('../../repository/repository.js');
  const { openStorage } = await import('../../storage/open-storage.js');
  const concurrency = Number(options.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    throw new UsageError('--concurrency: a whole number from 1 to 64');
  const at = parseDate(options.at, '--at', 'end');
  const loaded = await session.config();
  const { server } = await findServer(session, options.toServer, 'restore external');
  const storage = openStorage(options.repo, options.cwd);
  await Repository.readConfig(storage);
  const passphrase = await options.passphrase();
  const external = await Repository.open(storage, passphrase.value).catch((error: unknown) => {
    // Which passphrase was tried, and so what to change: it is the other repository's.
    if (error instanceof Error && error.name === 'WrongPassphraseError')
      error.message += ` (passphrase from ${passphrase.source})`;
    throw error;
  });
  try {
    await external.loadIndex();
    const domains = (options.domains ?? []).map((domain) => domain.toLowerCase().replace(/^@/, ''));
    const { accounts: all, unknown } = await accountsAt(external, at);
    if (unknown.length > 0)
      session.notices.warn(
        `${unknown.length} snapshot(s) of ${options.repo} are of kinds this mailvault does not know (a newer mailvault wrote them) and are not restored; the first: ${describeUnknownKind(unknown[0] as IdentifiedSnapshot)}`,
      );
    const accounts = all.filter(
      (account) =>
        (!options.accounts || options.accounts.includes(account.name)) &&
        (domains.length === 0 || domains.includes(account.name.toLowerCase().split('@')[1] ?? '')),
    );
    if (accounts.length === 0)
      throw new UsageError(
        `no account of ${options.repo} matches${options.accounts ? ` --account ${options.accounts.join(' ')}` : ''}${domains.length ? ` --domain ${domains.join(' ')}` : ''} at ${options.at}`,
      );
    const phases = await notified(session, {
      kind: 'restore',
      requestedBy: options.requestedBy,
      title: `external restore of ${accounts.length} account(s)`,
      initiator: options.notify,
      parameters: {
        Repository: options.repo,
        Accounts: accounts.map((a) => a.name).join(', '),
        Target: server.name,
        'As of': options.at,
      },
      outcome: (done: PhaseResult[]) => ({
        outcome: restoreOutcome(combined(reports(done))),
        report: done,
      }),
      work: () =>
        restoreExternal({
          repository: external,
          accounts,
          concurrency,
          openTarget: async (account) => (await openTarget(session, server.name, account)).target,
          provision: options.skipProvisioning
            ? null
            : (account) => createAccount(session, server.name, account),
          log: session.log,
          batchSize: loaded.config.restore.batchSize,
          workers: loaded.config.restore.workers,
          onPhase: (result) => options.onPhase?.(result),
        }),
    });
    return { accounts, phases, at };
  } finally {
    await external.storage.close();
  }
}

function reports(results: readonly PhaseResult[]) {
  return results
    .filter((result) => result.outcome)
    .map((result) =>
      buildReport(
        { account: result.account, target: result.account, snapshot: '', snapshotTime: '' },
        result.outcome as NonNullable<PhaseResult['outcome']>,
      ),
    );
}
