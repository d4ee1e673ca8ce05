import type { Command } from 'commander';
import type { CommandRunner } from '../../main.js';
import { addNotifyOption, cliRequester } from '../../notify.js';
import { formatTime } from '../../../text/format.js';
import { readPassphrase, type Passphrase } from '../../passphrase.js';
import type { Terminal } from '../../terminal.js';

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
      const { restoreFromRepository } =
        await import('../../../app/restore/external-restore-service.js');
      const started = Date.now();
      const {
        accounts,
        phases: results,
        at,
      } = await restoreFromRepository(context, {
        repo: options.repo,
        cwd: context.terminal.cwd,
        passphrase: () => externalPassphrase(context.terminal, options.passwordFile),
        accounts: options.account,
        domains: options.domain,
        concurrency: options.concurrency,
        skipProvisioning: options.skipProvisioning,
        at: options.at,
        toServer: options.toServer,
        requestedBy: cliRequester(context.terminal.env),
        notify: options.notify,
        onPhase: (result) =>
          context.output.note(
            `${result.phase.padEnd(12)} ${result.account}: ${result.ok ? '' : 'FAILED: '}${result.detail}`,
          ),
      });
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

/** The other repository's passphrase: never this configuration's (repository.passwordFile). */
function externalPassphrase(terminal: Terminal, file: string | undefined): Promise<Passphrase> {
  return readPassphrase(terminal, file, {
    purpose: 'passphrase of the other repository',
    environment: 'MAILVAULT_EXTERNAL_PASSWORD',
    fileSetting: '--password-file',
  });
}
