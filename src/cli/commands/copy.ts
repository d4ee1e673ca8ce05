import type { Command } from 'commander';
import type { Destination } from '../../copy/destination.js';
import type { CopyFailure, CopyOutcome } from '../../copy/copy-snapshots.js';
import type { Selection } from '../../copy/select-snapshots.js';
import type { Repository } from '../../repository/repository.js';
import type { StorageOptions } from '../../storage/open-storage.js';
import type { CountedStorage } from '../../storage/wrappers/wrap-storage.js';
import type { CliContext } from '../context.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import type { CommandRunner } from '../main.js';
import { formatBytes, formatCount, formatDuration } from '../../text/format.js';
import { readSecretFile } from '../passphrase.js';
import type { Terminal } from '../terminal.js';

const TO_PASSWORD_ENVIRONMENT = 'MAILVAULT_TO_PASSWORD';

interface OpenedSource {
  repository: Repository;
  /** Kept for a destination that has no passphrase of its own. */
  passphrase: string;
}

interface CopyOptions {
  to: string;
  toPasswordFile?: string;
  account?: string[];
  toSftpKeyFile?: string;
  toSftpPasswordFile?: string;
  toSftpKnownHostsFile?: string;
  toS3Profile?: string;
  toS3AccessKeyIdFile?: string;
  toS3SecretAccessKeyFile?: string;
}

/** `mailvault copy --to URL`: replicate snapshots to a second repository. */
export function registerCopy(program: Command, run: CommandRunner): void {
  program
    .command('copy')
    .description(
      'copy snapshots, and only the objects they need that it lacks, to another repository (created as a copy of this one if absent)',
    )
    .requiredOption(
      '--to <url>',
      'the destination: a path, sftp://user@host/path or s3://bucket/prefix?...',
    )
    .option(
      '--to-password-file <file>',
      `the destination's passphrase (else $${TO_PASSWORD_ENVIRONMENT}, else this repository's)`,
    )
    .option(
      '--account <account...>',
      'only the snapshots of these accounts (or files/SET, commands/NAME)',
    )
    .option('--to-sftp-key-file <file>', 'SFTP destination: private key file')
    .option('--to-sftp-password-file <file>', "SFTP destination: password, or the key's passphrase")
    .option('--to-sftp-known-hosts-file <file>', 'SFTP destination: known_hosts file')
    .option('--to-s3-profile <name>', 'S3 destination: AWS profile')
    .option('--to-s3-access-key-id-file <file>', 'S3 destination: file holding the access key id')
    .option('--to-s3-secret-access-key-file <file>', 'S3 destination: file holding the secret key')
    .action(async (options: CopyOptions) => run((context) => copy(context, options)));
}

async function copy(context: CliContext, options: CopyOptions): Promise<ExitCode> {
  const started = Date.now();
  const source = await openSource(context);
  const { openStorage } = await import('../../storage/open-storage.js');
  const storage = openStorage(options.to, context.terminal.cwd, {
    ...destinationAccess(options),
    logger: context.log,
  });
  try {
    const destination = await openOrCreate(context, source, storage, options);
    const outcome = await copyInto(
      context,
      source.repository,
      destination.selection,
      destination.opened,
    );
    return report(context, {
      location: storage.location,
      created: destination.opened.created,
      selection: destination.selection,
      outcome,
      bytesSent: storage.requestCounts().bytesUp,
      milliseconds: Date.now() - started,
    });
  } finally {
    await storage.close();
  }
}

/**
 * The source repository with its index. Its passphrase is read once here, since a destination
 * without one of its own takes the same.
 */
async function openSource(context: CliContext): Promise<OpenedSource> {
  const storage = await context.storage();
  const { Repository } = await import('../../repository/repository.js');
  await Repository.readConfig(storage);
  const passphrase = await context.passphrase();
  const repository = await Repository.open(storage, passphrase).catch((error: unknown) => {
    if (error instanceof Error && error.name === 'WrongPassphraseError')
      error.message += ` (passphrase from ${context.passphraseOrigin})`;
    throw error;
  });
  const { damaged } = await repository.loadIndex();
  const { unreadableFileWarning } = await import('../../repository/repository.js');
  for (const file of damaged) context.output.warn(unreadableFileWarning(file));
  context.useRepository(repository);
  return { repository, passphrase };
}

/** Access to a remote destination: the --to-sftp-* and --to-s3-* options (paths from here). */
function destinationAccess(options: CopyOptions): StorageOptions {
  const sftp = {
    identityFile: options.toSftpKeyFile,
    passwordFile: options.toSftpPasswordFile,
    knownHostsFile: options.toSftpKnownHostsFile,
    settingNames: { keyFile: '--to-sftp-key-file', passwordFile: '--to-sftp-password-file' },
  };
  if (
    (options.toS3AccessKeyIdFile === undefined) !==
    (options.toS3SecretAccessKeyFile === undefined)
  )
    throw new UsageError(
      'give --to-s3-access-key-id-file and --to-s3-secret-access-key-file together',
    );
  const s3 = {
    profile: options.toS3Profile,
    accessKeyIdFile: options.toS3AccessKeyIdFile,
    secretAccessKeyFile: options.toS3SecretAccessKeyFile,
  };
  return { sftp: withoutUndefined(sftp), s3: withoutUndefined(s3) };
}

/**
 * Opens the destination, or checks that a copy can be made before creating it: a wrong
 * passphrase, another master key or an unknown account leave the location as it was.
 */
async function openOrCreate(
  context: CliContext,
  { repository: source, passphrase: sourcePassphrase }: OpenedSource,
  storage: CountedStorage,
  options: CopyOptions,
): Promise<{ opened: Destination; selection: Selection }> {
  const { openDestination, createDestination } = await import('../../copy/destination.js');
  const { selectSnapshots } = await import('../../copy/select-snapshots.js');
  const passphrase = await destinationPassphrase(context.terminal, options, sourcePassphrase);
  const existing = await refusalsAsUsage(
    () => openDestination(source, storage, passphrase.value),
    passphrase.origin,
  );
  for (const file of existing?.damagedIndexes ?? [])
    context.output.warn(
      `destination index ${file.name} is unreadable and was passed over (${file.error}); its objects are sent again`,
    );
  const selection = await selectSnapshots(
    source,
    { storage, repository: existing?.repository ?? null },
    options.account ?? [],
  );
  if (selection.unknownAccounts.length > 0)
    throw new UsageError(
      `no snapshot of ${selection.unknownAccounts.join(', ')} in the repository ${source.storage.location}`,
    );
  const opened =
    existing ??
    (await createDestination(source, storage, {
      passphrase: passphrase.value,
      scryptCost: await costOfKeyInUse(source),
    }));
  if (opened.created)
    context.output.note(
      `created repository ${opened.repository.config.id} at ${storage.location}, a copy destination of this one`,
    );
  return { opened, selection };
}

async function destinationPassphrase(
  terminal: Terminal,
  options: CopyOptions,
  sourcePassphrase: string,
): Promise<{ value: string; origin: string }> {
  if (options.toPasswordFile !== undefined)
    return {
      value: await readSecretFile(options.toPasswordFile, '--to-password-file'),
      origin: `--to-password-file ${options.toPasswordFile}`,
    };
  const fromEnvironment = terminal.env[TO_PASSWORD_ENVIRONMENT];
  if (fromEnvironment !== undefined && fromEnvironment !== '')
    return { value: fromEnvironment, origin: `$${TO_PASSWORD_ENVIRONMENT}` };
  return { value: sourcePassphrase, origin: "this repository's passphrase" };
}

/** A copy destination's first key costs what the source's key in use costs. */
async function costOfKeyInUse(source: Repository): Promise<number> {
  const { listKeyFiles } = await import('../../repository/key-ring.js');
  const { DEFAULT_SCRYPT_COST } = await import('../../repository/crypto/key-file.js');
  const keys = await listKeyFiles(source.storage);
  return keys.find((key) => key.name === source.keyName)?.scryptCost ?? DEFAULT_SCRYPT_COST;
}

async function refusalsAsUsage<T>(work: () => Promise<T>, passphraseOrigin: string): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof Error && error.name === 'CopyRefusedError')
      throw new UsageError(error.message);
    if (error instanceof Error && error.name === 'WrongPassphraseError')
      error.message += ` (destination passphrase from ${passphraseOrigin})`;
    throw error;
  }
}

async function copyInto(
  context: CliContext,
  source: Repository,
  selection: Selection,
  destination: Destination,
): Promise<CopyOutcome> {
  const { copySnapshots } = await import('../../copy/copy-snapshots.js');
  const progress = context.output.progress('copy');
  progress.setTotal(selection.toCopy.length);
  let done = 0;
  try {
    return await copySnapshots(source, destination.repository, selection.toCopy, (state) => {
      while (done < state.snapshotsDone) {
        progress.step();
        done++;
      }
      progress.setDetail(
        `${formatCount(state.stats.objects)} objects sent, ${formatBytes(state.stats.bytes)}; ${formatCount(state.objectsQueued)} queued`,
      );
    });
  } finally {
    progress.finish();
  }
}

interface CopyReport {
  location: string;
  created: boolean;
  selection: Selection;
  outcome: CopyOutcome;
  bytesSent: number;
  milliseconds: number;
}

function report(context: CliContext, done: CopyReport): ExitCode {
  const { outcome, selection } = done;
  const failures: CopyFailure[] = [...selection.unreadable, ...outcome.failed];
  const { stats } = outcome;
  context.output.result({
    destination: done.location,
    created: done.created,
    snapshots: {
      copied: outcome.copied.length,
      skipped: selection.skipped,
      failed: failures.length,
    },
    objects: stats.objects,
    bytes: done.bytesSent,
    packs: stats.packs,
    wholePacks: stats.wholePacks,
    seconds: done.milliseconds / 1000,
    failures,
  });
  for (const failure of failures)
    context.output.problem(
      `not copied: snapshot ${failure.snapshot.slice(0, 12)} ${failure.account} ${failure.time}: ${failure.error}`,
    );
  context.output.line(
    `copied ${formatCount(outcome.copied.length)} snapshot(s) to ${done.location} (${formatCount(selection.skipped)} already there${failures.length ? `, ${failures.length} failed` : ''}): ` +
      `${formatCount(stats.objects)} objects, ${formatBytes(done.bytesSent)} sent (${formatCount(stats.packs)} packs, ${formatCount(stats.wholePacks)} copied whole) in ${formatDuration(done.milliseconds)}`,
  );
  if (failures.length === 0) return ExitCode.Ok;
  return outcome.copied.length === 0 && selection.skipped === 0
    ? ExitCode.Failed
    : ExitCode.Partial;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
