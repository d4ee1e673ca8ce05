import type { Command } from 'commander';
import { parseDate, type DateSpec } from '../../../dates/parse-date.js';
import { readAccountTree } from '../../../mailbox/account-tree.js';
import type { ExternalAccount, PhaseResult } from '../../../restore/external-restore.js';
import type { Repository } from '../../../repository/repository.js';
import {
  describeUnknownKind,
  isKnownKind,
  type IdentifiedSnapshot,
} from '../../../repository/snapshot/snapshot-kind.js';
import { UsageError } from '../../exit-codes.js';
import type { CommandRunner } from '../../main.js';
import { notified } from '../../../app/notified.js';
import { addNotifyOption, cliRequester } from '../../notify.js';
import { formatTime } from '../../../text/format.js';
import { readPassphrase, type Passphrase } from '../../passphrase.js';
import type { Terminal } from '../../terminal.js';
import { combined } from '../../../app/restore/reports.js';
import { restoreOutcome } from '../../../app/restore/restore-outcome.js';
import { buildReport } from '../../../app/restore/reports.js';
import { createAccount } from '../../../app/restore/provision.js';
import { findServer, openTarget } from '../../../app/restore/restore-target.js';

interface ExternalOptions {
  repo: string;
  passwordFile?: string;
  account?: string[];
  domain?: string[];
  concurrency: string;
  skipProvisioning?: boolean;
  at: string;
  toServer?: string;
  notify?: string;
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

export function registerRestoreExternal(restore: Command, run: CommandRunner): void {
  const command = restore
    .command('external')
    .description(
      "restore from another installation's repository into this configuration's servers, in phases: accounts, folders, items",
    )
    .requiredOption('--repo <url>', 'the other repository (a path)')
    .option(
      '--password-file <file>',
      'its passphrase (else $MAILVAULT_EXTERNAL_PASSWORD, else a prompt)',
    )
    .option('--account <account...>', 'only these accounts')
    .option('--domain <domain...>', 'only accounts of these domains')
    .option('--concurrency <n>', 'accounts at a time', '4')
    .option('--skip-provisioning', 'do not create accounts that do not exist on the target')
    .option('--at <date>', 'as they were at this date (default: last)', 'last')
    .option(
      '--to-server <server>',
      "this configuration's server to restore into (default: the only one)",
    );
  addNotifyOption(command).action(async (options: ExternalOptions) =>
    run(async (context) => {
      const { restoreExternal } = await import('../../../restore/external-restore.js');
      const { Repository } = await import('../../../repository/repository.js');
      const { openStorage } = await import('../../../storage/open-storage.js');
      const concurrency = Number(options.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
        throw new UsageError('--concurrency: a whole number from 1 to 64');
      const at = parseDate(options.at, '--at', 'end');
      const loaded = await context.config();
      const { server } = await findServer(context, options.toServer, 'restore external');
      const storage = openStorage(options.repo, context.terminal.cwd);
      await Repository.readConfig(storage);
      const passphrase = await externalPassphrase(context.terminal, options.passwordFile);
      const external = await Repository.open(storage, passphrase.value).catch((error: unknown) => {
        // Which passphrase was tried, and so what to change: it is the other repository's.
        if (error instanceof Error && error.name === 'WrongPassphraseError')
          error.message += ` (passphrase from ${passphrase.source})`;
        throw error;
      });
      await external.loadIndex();
      const domains = (options.domain ?? []).map((domain) =>
        domain.toLowerCase().replace(/^@/, ''),
      );
      const { accounts: all, unknown } = await accountsAt(external, at);
      if (unknown.length > 0)
        context.output.warn(
          `${unknown.length} snapshot(s) of ${options.repo} are of kinds this mailvault does not know (a newer mailvault wrote them) and are not restored; the first: ${describeUnknownKind(unknown[0] as IdentifiedSnapshot)}`,
        );
      const accounts = all.filter(
        (account) =>
          (!options.account || options.account.includes(account.name)) &&
          (domains.length === 0 ||
            domains.includes(account.name.toLowerCase().split('@')[1] ?? '')),
      );
      if (accounts.length === 0)
        throw new UsageError(
          `no account of ${options.repo} matches${options.account ? ` --account ${options.account.join(' ')}` : ''}${domains.length ? ` --domain ${domains.join(' ')}` : ''} at ${options.at}`,
        );
      const started = Date.now();
      const results = await notified(context, {
        kind: 'restore',
        requestedBy: cliRequester(context.terminal.env),
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
            openTarget: async (account) => (await openTarget(context, server.name, account)).target,
            provision: options.skipProvisioning
              ? null
              : (account) => createAccount(context, server.name, account),
            log: context.log,
            batchSize: loaded.config.restore.batchSize,
            workers: loaded.config.restore.workers,
            onPhase: (result) =>
              context.output.note(
                `${result.phase.padEnd(12)} ${result.account}: ${result.ok ? '' : 'FAILED: '}${result.detail}`,
              ),
          }),
      });
      await external.storage.close();
      context.output.result({
        repository: options.repo,
        accounts: accounts.map((a) => ({
          account: a.name,
          snapshot: a.snapshot,
          time: a.time.toISOString(),
        })),
        phases: results,
        seconds: (Date.now() - started) / 1000,
      });
      const failed = results.filter((result) => !result.ok);
      for (const failure of failed)
        context.output.problem(`FAILED  ${failure.phase} ${failure.account}: ${failure.detail}`);
      const restored = results.reduce(
        (sum, result) => sum + (result.outcome?.folders.reduce((n, f) => n + f.restored, 0) ?? 0),
        0,
      );
      context.output.line(
        `restored ${accounts.length - new Set(failed.map((f) => f.account)).size}/${accounts.length} accounts, ${restored} items, as of ${options.at === 'last' ? 'their last backups' : formatTime(at.kind === 'time' ? at.time : new Date())}`,
      );
      return failed.length === 0 ? 0 : failed.length === accounts.length ? 1 : 3;
    }),
  );
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

/** The other repository's passphrase: never this configuration's (repository.passwordFile). */
function externalPassphrase(terminal: Terminal, file: string | undefined): Promise<Passphrase> {
  return readPassphrase(terminal, file, {
    purpose: 'passphrase of the other repository',
    environment: 'MAILVAULT_EXTERNAL_PASSWORD',
    fileSetting: '--password-file',
  });
}
