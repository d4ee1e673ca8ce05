import type { Command } from 'commander';
import type { KeyFileSummary } from '../../repository/key-ring.js';
import type { Repository } from '../../repository/repository.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../exit-codes.js';
import type { CommandRunner } from '../main.js';
import { formatTime } from '../../text/format.js';
import { isInteractive, readPassphrase, readSecretFile } from '../passphrase.js';
import type { Terminal } from '../terminal.js';

const NEW_PASSWORD_ENVIRONMENT = 'MAILVAULT_NEW_PASSWORD';

interface NewKeyOptions {
  newPasswordFile?: string;
  scryptCost?: string;
}

/** `mailvault key list|add|remove|passwd`: the passphrases that open the repository. */
export function registerKey(program: Command, run: CommandRunner): void {
  const key = program
    .command('key')
    .description('list, add, remove or change the repository passphrases');
  key
    .command('list')
    .description('the key files, one per passphrase; * marks the one the current passphrase opened')
    .action(async () => run((context) => listKeys(context)));
  withNewKeyOptions(
    key.command('add').description('add a passphrase (a key file sealing the same master key)'),
  ).action(async (options: NewKeyOptions) => run((context) => addKey(context, options)));
  key
    .command('remove <id>')
    .description(
      'remove a key file (its id or a prefix); never the last one, nor the one in use without --force',
    )
    .option('--force', 'remove the key the current passphrase opened (another must remain)')
    .action(async (id: string, options: { force?: boolean }) =>
      run((context) => removeKey(context, id, Boolean(options.force))),
    );
  withNewKeyOptions(
    key
      .command('passwd')
      .description('change the passphrase: add a key for the new one, then remove the one in use'),
  ).action(async (options: NewKeyOptions) => run((context) => changeKey(context, options)));
}

function withNewKeyOptions(command: Command): Command {
  return command
    .option(
      '--new-password-file <file>',
      `the new passphrase (else $${NEW_PASSWORD_ENVIRONMENT}, else asked twice on a terminal)`,
    )
    .option(
      '--scrypt-cost <n>',
      "cost of the new key's derivation, log2 of scrypt's N (default: that of the key in use)",
    );
}

/** The repository with its key unlocked; the index is not needed to manage keys. */
async function unlocked(context: CliContext): Promise<Repository> {
  return context.openRepository(await context.storage());
}

async function keyFiles(repository: Repository): Promise<KeyFileSummary[]> {
  const { listKeyFiles } = await import('../../repository/key-ring.js');
  return listKeyFiles(repository.storage);
}

async function listKeys(context: CliContext): Promise<void> {
  const repository = await unlocked(context);
  const keys = await keyFiles(repository);
  context.output.result(
    keys.map(({ name, ...rest }) => ({ id: name, ...rest, current: name === repository.keyName })),
  );
  context.output.table(
    ['', 'id', 'created', 'host', 'user', 'cost'],
    keys.map((key) => [
      key.name === repository.keyName ? '*' : '',
      key.name.slice(0, 12),
      key.created ? formatTime(new Date(key.created)) : '',
      key.hostname ?? '',
      key.username ?? '',
      key.readable ? String(key.scryptCost) : `unreadable: ${key.error ?? ''}`,
    ]),
  );
}

async function addKey(context: CliContext, options: NewKeyOptions): Promise<void> {
  const repository = await unlocked(context);
  const cost = await newKeyCost(repository, options.scryptCost);
  const name = await repository.addKey(
    await newPassphrase(context.terminal, options.newPasswordFile),
    cost,
  );
  context.output.result({ added: name, scryptCost: cost });
  context.output.line(`added key ${name.slice(0, 12)}`);
}

async function removeKey(context: CliContext, id: string, force: boolean): Promise<void> {
  const repository = await unlocked(context);
  const { removeKeyFile } = await import('../../repository/key-ring.js');
  const removed = await asUsage(() => removeKeyFile(repository, id, { force }));
  context.output.result({ removed: removed.name });
  context.output.line(`removed key ${removed.name.slice(0, 12)}`);
  if (removed.name === repository.keyName)
    context.output.note('the current passphrase no longer opens this repository');
}

async function changeKey(context: CliContext, options: NewKeyOptions): Promise<void> {
  const repository = await unlocked(context);
  const cost = await newKeyCost(repository, options.scryptCost);
  const passphrase = await newPassphrase(context.terminal, options.newPasswordFile);
  const { changePassphrase } = await import('../../repository/key-ring.js');
  const { added, removed } = await changePassphrase(repository, passphrase, cost);
  context.output.result({ added, removed, scryptCost: cost });
  context.output.line(
    `passphrase changed: key ${added.slice(0, 12)} added, key ${removed.slice(0, 12)} removed`,
  );
  context.output.note(
    'put the new passphrase where the configuration takes it from (repository.passwordFile or $MAILVAULT_PASSWORD)',
  );
}

/** The cost asked for, else that of the key in use, so an administrator's choice carries over. */
async function newKeyCost(repository: Repository, given: string | undefined): Promise<number> {
  if (given !== undefined) {
    const cost = Number(given);
    if (!Number.isInteger(cost) || cost < 10 || cost > 22)
      throw new UsageError('--scrypt-cost: a whole number from 10 to 22');
    return cost;
  }
  const { DEFAULT_SCRYPT_COST } = await import('../../repository/crypto/key-file.js');
  const inUse = (await keyFiles(repository)).find((key) => key.name === repository.keyName);
  return inUse?.scryptCost ?? DEFAULT_SCRYPT_COST;
}

/** The new passphrase: from a file, the environment, or typed twice; never guessed. */
async function newPassphrase(terminal: Terminal, file: string | undefined): Promise<string> {
  if (file !== undefined) return readSecretFile(file, '--new-password-file');
  const fromEnvironment = terminal.env[NEW_PASSWORD_ENVIRONMENT];
  const interactive = isInteractive(terminal);
  if ((fromEnvironment === undefined || fromEnvironment === '') && !interactive)
    throw new UsageError(
      `no new passphrase: give --new-password-file FILE or $${NEW_PASSWORD_ENVIRONMENT}, or run on a terminal to type it`,
    );
  const typed = await readPassphrase(terminal, undefined, {
    purpose: 'new passphrase',
    confirm: true,
    environment: NEW_PASSWORD_ENVIRONMENT,
  });
  return typed.value;
}

/** The key ring's refusals change nothing: bad usage (exit 2), with their message. */
async function asUsage<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof Error && error.name === 'KeyRefusedError')
      throw new UsageError(error.message);
    throw error;
  }
}
