import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { ConfiguredAccount } from '../config/accounts.js';
import { parseTimeoutMs } from '../config/duration.js';
import { configPath, type LoadedConfig } from '../config/loaded-config.js';
import type { ServerConfig } from '../config/schema.js';
import type { Catalog } from '../catalog/catalog.js';
import type { RepositoryLock } from '../repository/lock/repository-lock.js';
import type { UnlockedKeys } from '../repository/crypto/unlocked-keys.js';
import type { Repository } from '../repository/repository.js';
import { parseByteSize } from '../storage/cache/byte-size.js';
import {
  NOTHING_PENDING,
  type PendingUploads,
  type RepositoryStorage,
} from '../storage/cache/repository-storage.js';
import { openStorage, type StorageOptions } from '../storage/open-storage.js';
import type { Storage } from '../storage/storage.js';
import {
  noStorageRequests,
  type StorageRequestCounts,
} from '../storage/wrappers/counting-storage.js';
import { formatBytes, formatCount } from '../text/format.js';
import { UsageError } from './errors.js';
import { createLogger } from './logger.js';

export interface AccountRef {
  server: ServerConfig;
  serverIndex: number;
  account: ConfiguredAccount;
}

/** A repository passphrase, and where it came from (for a message when it is wrong). */
export interface Passphrase {
  value: string;
  source: string;
}

/** What the work tells whoever runs it, besides its result. */
export interface Notices {
  /** Something wrong that did not stop the work (a damaged file passed over, a tightened mode). */
  warn(text: string): void;
  /** Something worth knowing while it happens (uploads being waited for). */
  note(text: string): void;
}

export interface SessionOptions {
  /** The configuration file. */
  configPath: string;
  notices: Notices;
  /** Reads the repository's passphrase: from the configured file, or as the caller can ask. */
  passphrase: (
    passwordFile: string | undefined,
    options: { confirm?: boolean },
  ) => Promise<Passphrase>;
  logging: {
    verbose: boolean;
    quiet: boolean;
    /** Where --verbose logs go when not to this process's stderr (file descriptor 2). */
    stderr?: NodeJS.WritableStream;
  };
  /**
   * Told when the catalog opens while the repository key is still being derived: whoever shows
   * what the work finds may hold it back until the key turns out right.
   */
  onUnlocking?: (unlocked: Promise<unknown>) => void;
  /**
   * Keys unlocked by earlier sessions of this process (a server's, a worker's): a passphrase is
   * derived once per process, not once per operation. The CLI runs one session and needs none.
   */
  unlockedKeys?: UnlockedKeys;
}

/**
 * What an operation works with, opened on first use and closed at the end: the configuration,
 * the repository (with its passphrase), the catalog and the logger. The CLI opens one per
 * command; the application's services take it and never print, read argv or exit.
 */
export class Session {
  private loadedConfig?: LoadedConfig;
  private openedStorage?: RepositoryStorage;
  private uncachedStorage?: Storage;
  /** The command waited for uploads itself and said what was left (backup does). */
  private uploadsReported = false;
  private openedRepository?: Repository;
  private unlocking?: Promise<Repository>;
  private loading?: Promise<Repository>;
  private openedCatalog?: Catalog;
  private catalogSynced = false;
  private logger?: { log: Logger; close(): Promise<void> };
  private passphraseSource = '';
  /** Work for the end of the command, told how it ended (see onClose). */
  private readonly closing: Array<(failure: unknown) => Promise<void>> = [];
  private failure: unknown = undefined;

  constructor(private readonly options: SessionOptions) {}

  get notices(): Notices {
    return this.options.notices;
  }

  get log(): Logger {
    this.logger ??= createLogger({
      verbose: this.options.logging.verbose,
      quiet: this.options.logging.quiet,
      file: this.loadedConfig?.config.logging?.file
        ? configPath(this.loadedConfig, this.loadedConfig.config.logging.file)
        : undefined,
      level: this.loadedConfig?.config.logging?.level,
      stderr: this.options.logging.stderr,
      warn: (message) => this.notices.warn(message),
    });
    return this.logger.log;
  }

  async config(): Promise<LoadedConfig> {
    const { loadConfig } = await import('../config/load-config.js');
    this.loadedConfig ??= await loadConfig(this.options.configPath);
    return this.loadedConfig;
  }

  /**
   * The repository's storage, opened once: every request of the run goes through it and is
   * counted. A remote one comes with its local cache, which starts sending what an earlier run
   * left waiting at once.
   */
  async storage(): Promise<Storage> {
    const loaded = await this.config();
    const { url, cache } = loaded.config.repository;
    this.openedStorage ??= openStorage(url, loaded.directory, {
      ...storageAccess(loaded),
      logger: this.log,
      cache: {
        dir: cache.dir ? configPath(loaded, cache.dir) : defaultCacheDir(loaded),
        maxPendingBytes: parseByteSize(cache.maxPendingSize) ?? 0,
        keptPackBytes: parseByteSize(cache.keptPacks) ?? 0,
        warn: (message) => this.notices.warn(message),
      },
    });
    return this.openedStorage;
  }

  /**
   * The repository's exclusive lock, for commands that rewrite what others read (prune, forget,
   * check --repair), its warnings (a stale lock taken over) shown. The caller releases it.
   */
  async lock(command: string, storage?: Storage): Promise<RepositoryLock> {
    // The passphrase first: a command refused the key writes nothing in the repository, not
    // even a lock file it would delete again (a caller with its own storage opened it already).
    if (!storage) await this.unlockedRepository();
    const { acquireLock } = await import('../repository/lock/repository-lock.js');
    return acquireLock(
      { storage: storage ?? (await this.storage()) },
      { command, warn: (message) => this.notices.warn(message) },
    );
  }

  /**
   * The repository's storage without the local cache: what the remote itself holds, for
   * `check`. Opened once, apart from storage().
   */
  async storageWithoutCache(): Promise<Storage> {
    const loaded = await this.config();
    this.uncachedStorage ??= openStorage(loaded.config.repository.url, loaded.directory, {
      ...storageAccess(loaded),
      logger: this.log,
    });
    return this.uncachedStorage;
  }

  /**
   * Waits for the files the cache holds to reach the remote, as long as they keep going
   * (repository.cache.uploadWait without progress), and says what is left: the command reports
   * it (a backup prints it in its summary and its JSON), so close() will not.
   */
  async finishUploads(): Promise<PendingUploads> {
    this.uploadsReported = true;
    const storage = this.openedStorage;
    if (!storage || storage.pendingUploads().files === 0) return { ...NOTHING_PENDING };
    const waiting = storage.pendingUploads();
    this.notices.note(
      `uploading ${filesAndBytes(waiting)} from the local cache to ${storage.location}...`,
    );
    return storage.finishUploads(await this.uploadWaitMs());
  }

  /**
   * The requests made to the repository's storage so far, retries included, and the bytes
   * moved (all zero if the command never opened it): `backup --json` reports them.
   */
  storageRequests(): StorageRequestCounts {
    return this.openedStorage?.requestCounts() ?? noStorageRequests();
  }

  async passphrase(options: { confirm?: boolean } = {}): Promise<string> {
    const loaded = await this.config();
    const file = loaded.config.repository.passwordFile;
    const passphrase = await this.options.passphrase(
      file ? configPath(loaded, file) : undefined,
      options,
    );
    this.passphraseSource = passphrase.source;
    return passphrase.value;
  }

  /** Where passphrase() took the passphrase from, for a message when it is wrong. */
  get passphraseOrigin(): string {
    return this.passphraseSource;
  }

  /** Opens the repository with the configured passphrase, saying where a wrong one came from. */
  async openRepository(storage: Storage): Promise<Repository> {
    const { Repository } = await import('../repository/repository.js');
    // The format version first: a repository this version cannot read should say so before
    // anyone types a passphrase.
    await Repository.readConfig(storage);
    const passphrase = await this.passphrase();
    try {
      return await Repository.open(storage, passphrase, this.options.unlockedKeys);
    } catch (error) {
      if (error instanceof Error && error.name === 'WrongPassphraseError')
        error.message += ` (passphrase from ${this.passphraseSource})`;
      throw error;
    }
  }

  /** Uses a repository the command already opened (init creates one). */
  useRepository(repository: Repository): void {
    this.openedRepository = repository;
  }

  /** The repository with its key unlocked, its index not read yet: opened once. */
  private unlockedRepository(): Promise<Repository> {
    this.unlocking ??= this.storage().then((storage) => this.openRepository(storage));
    return this.unlocking;
  }

  /** Opens the repository and loads its index. */
  async repository(): Promise<Repository> {
    if (this.openedRepository) return this.openedRepository;
    this.loading ??= this.unlockedRepository().then(async (repository) => {
      const { damaged } = await repository.loadIndex();
      const { unreadableFileWarning } = await import('../repository/repository.js');
      for (const file of damaged) this.notices.warn(unreadableFileWarning(file));
      this.openedRepository = repository;
      return repository;
    });
    return this.loading;
  }

  /**
   * Opens the catalog and brings it in line with the repository. The repository key is derived
   * meanwhile (scrypt, on another thread): the catalog needs it only to read snapshots it has not
   * recorded yet, so a command that reads the catalog alone goes on at once, and what it prints
   * is held back until the key is unlocked (and dropped if the passphrase is wrong).
   */
  async catalog(options: { sync?: boolean } = {}): Promise<Catalog> {
    if (!this.openedCatalog) {
      const loaded = await this.config();
      const storage = await this.storage();
      const { Repository } = await import('../repository/repository.js');
      const { id } = await Repository.readConfig(storage);
      const unlocked = this.unlockedRepository();
      unlocked.catch(() => undefined); // awaited below, or by whoever onUnlocking told
      const url = /^postgres/.test(loaded.config.catalog.url)
        ? loaded.config.catalog.url
        : configPath(loaded, loaded.config.catalog.url);
      const { Catalog } = await import('../catalog/catalog.js');
      const catalog = await Catalog.open(url, (message) => this.notices.warn(message));
      try {
        await catalog.bind(id, url);
      } catch (error) {
        await catalog.close();
        throw error;
      }
      this.openedCatalog = catalog;
      this.options.onUnlocking?.(unlocked);
    }
    // Opened without syncing first (to record a run as it starts), synced when first wanted.
    if (options.sync !== false && !this.catalogSynced) {
      this.catalogSynced = true;
      const storage = await this.storage();
      this.warnDamaged(
        (await this.openedCatalog.sync({ storage, open: () => this.repository() })).damaged,
      );
    }
    return this.openedCatalog;
  }

  /** Snapshot files the catalog could not read are passed over; say so on every command. */
  warnDamaged(damaged: ReadonlyArray<{ id: string; error: string }>): void {
    for (const file of damaged)
      this.notices.warn(
        `snapshot ${file.id} is unreadable and was passed over (${file.error}); run mailvault check`,
      );
  }

  /** Every configured account, or those named (each must be configured). */
  async accounts(names: readonly string[] = []): Promise<AccountRef[]> {
    const loaded = await this.config();
    const { listAccounts } = await import('../config/accounts.js');
    const all: AccountRef[] = [];
    for (const [serverIndex, server] of loaded.config.servers.entries()) {
      for (const account of await listAccounts(loaded, server, serverIndex))
        all.push({ server, serverIndex, account });
    }
    if (names.length === 0) return all;
    const chosen: AccountRef[] = [];
    for (const name of names) {
      const matches = all.filter(
        (ref) => ref.account.name === name || `${ref.server.name}/${ref.account.name}` === name,
      );
      if (matches.length === 0)
        throw new UsageError(
          `unknown account ${name}: it is not in the configuration's account lists (servers[].accounts)`,
        );
      chosen.push(...matches);
    }
    return chosen;
  }

  /**
   * Runs `work` when the command ends, before the catalog and the repository close, with the
   * error it failed with (undefined when it did not): a run it recorded as started is ended so.
   */
  onClose(work: (failure: unknown) => Promise<void>): void {
    this.closing.push(work);
  }

  /** The command failed with this error (told by whoever runs the command, before close). */
  noteFailure(error: unknown): void {
    this.failure = error;
  }

  async close(): Promise<void> {
    for (const work of this.closing.splice(0))
      await work(this.failure).catch((error: unknown) =>
        this.notices.warn(error instanceof Error ? error.message : String(error)),
      );
    await this.openedCatalog?.close();
    // The storage must be closed whatever happens here, or the process would not end.
    await this.finishUploadsAtClose().catch((error: unknown) =>
      this.notices.warn(`uploads from the local cache: ${(error as Error).message}`),
    );
    const repositoryStorage = this.openedRepository?.storage;
    const closing = Promise.all([
      this.openedStorage?.close(),
      this.uncachedStorage?.close(),
      repositoryStorage !== this.openedStorage && repositoryStorage !== this.uncachedStorage
        ? repositoryStorage?.close()
        : undefined,
    ]);
    // A server that stopped answering (a frozen process, a dead link) can hold a close forever:
    // the command's work is done and said, so it is left behind after a grace period.
    if ((await withinMs(closing, CLOSE_GRACE_MS)) === 'late')
      this.notices.warn(
        `the repository's storage did not close within ${CLOSE_GRACE_MS / 1000} s; leaving it`,
      );
    await this.logger?.close();
  }

  /**
   * A command that saved files (init, a key) sends them before it ends, while the remote takes
   * them. One that only read sent what an earlier run left in the background while it worked,
   * and does not stay for the rest (a look at the catalog must not turn into an hour of
   * uploading, nor hang on an unreachable server). Either says what stays waiting.
   */
  private async finishUploadsAtClose(): Promise<void> {
    const storage = this.openedStorage;
    if (!storage || this.uploadsReported || storage.pendingUploads().files === 0) return;
    const wait = storage.savedFilesWaiting() && storage.pendingUploads().remoteError === undefined;
    const left = await storage.finishUploads(wait ? await this.uploadWaitMs() : 0);
    if (left.files > 0) this.notices.warn(pendingUploadsMessage(left, storage.location));
  }

  private async uploadWaitMs(): Promise<number> {
    return parseTimeoutMs((await this.config()).config.repository.cache.uploadWait) ?? 0;
  }
}

/**
 * "3 files (17.2 MiB) waiting in the local cache to upload to sftp://... (cannot connect: ...);
 * they are sent at the next run"
 */
export function pendingUploadsMessage(pending: PendingUploads, location: string): string {
  const why = pending.remoteError ? ` (${pending.remoteError})` : '';
  return `${filesAndBytes(pending)} waiting in the local cache to upload to ${location}${why}; they are sent at the next run`;
}

function filesAndBytes(pending: PendingUploads): string {
  return `${formatCount(pending.files)} file${pending.files === 1 ? '' : 's'} (${formatBytes(pending.bytes)})`;
}

/**
 * The cache's default place: beside the catalog file, which is this installation's own state as
 * much (beside the configuration when the catalog is a database server).
 */
function defaultCacheDir(loaded: LoadedConfig): string {
  const catalog = loaded.config.catalog.url;
  const beside = /^postgres/.test(catalog)
    ? loaded.directory
    : dirname(configPath(loaded, catalog));
  return join(beside, 'mailvault-cache');
}

const CLOSE_GRACE_MS = 10_000;

/**
 * The configuration's SFTP and S3 settings as the storage takes them: files resolved as every path
 * of the configuration is (from its folder, `~/` from the home folder), and the keys that name
 * them, for messages about them.
 */
function storageAccess(loaded: LoadedConfig): Pick<StorageOptions, 'sftp' | 's3'> {
  const { sftp, s3 } = loaded.config.repository;
  const path = (file: string | undefined): string | undefined =>
    file === undefined ? undefined : configPath(loaded, file);
  return {
    ...(sftp && {
      sftp: {
        ...sftp,
        identityFile: path(sftp.identityFile),
        passwordFile: path(sftp.passwordFile),
        knownHostsFile: path(sftp.knownHostsFile),
        settingNames: {
          keyFile: 'repository.sftp.identityFile',
          passwordFile: 'repository.sftp.passwordFile',
        },
      },
    }),
    ...(s3 && {
      s3: {
        ...s3,
        accessKeyIdFile: path(s3.accessKeyIdFile),
        secretAccessKeyFile: path(s3.secretAccessKeyFile),
      },
    }),
  };
}

async function withinMs(work: Promise<unknown>, ms: number): Promise<'done' | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  try {
    return await Promise.race([work.then(() => 'done' as const), late]);
  } finally {
    clearTimeout(timer);
  }
}
