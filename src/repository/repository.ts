/**
 * The repository: where backups live. Its words:
 * - object: an immutable piece of stored data (a header block, a body chunk, a tree), named by
 *   its id, the keyed HMAC-SHA-256 of its plaintext; 'data' objects hold content, 'tree' objects
 *   hold structure (JSON) that points at other objects by id;
 * - pack: a file of many sealed objects with a header listing them;
 * - index: files that say which pack holds which object;
 * - snapshot: a small file naming one account's root tree at one moment;
 * - run file: the accounts one backup run found unchanged, each standing for a snapshot;
 * - key: a file wrapping the master key with one passphrase.
 * The format is described for users in docs/repository-format.md.
 */
import { createHash } from 'node:crypto';
import { Chunker, createGearTable } from '../chunking/fastcdc.js';
import type { FileInfo, Storage } from '../storage/storage.js';
import {
  createKeyFile,
  parseKeyFile,
  unlockKeyFile,
  WrongPassphraseError,
  DEFAULT_SCRYPT_COST,
} from './crypto/key-file.js';
import { generateMasterKey, objectId, type MasterKey } from './crypto/master-key.js';
import type { UnlockedKeys } from './crypto/unlocked-keys.js';
import { decodeCondemned, encodeCondemned, type CondemnedFile } from './index/condemned-file.js';
import { decodeIndex, encodeIndex, visitIndex, type IndexContent } from './index/index-file.js';
import { ObjectIndex, type ObjectLocation } from './index/object-index.js';
import { indexFromHeaders, type HeaderIndexing } from './index/unindexed-packs.js';
import { ObjectWriter } from './object-writer.js';
import { openSealedObject } from './open-sealed.js';
import { createSealer } from './sealing/sealer.js';
import { PackCache } from './pack/pack-cache.js';
import {
  newRepositoryConfig,
  parseRepositoryConfig,
  type RepositoryConfig,
} from './repository-config.js';
import { openFile, sealFile } from './sealed-file.js';
import { decodeRunFile, encodeRunFile, expandRunFile, type RunFile } from './snapshot/run-file.js';
import { decodeSnapshot, encodeSnapshot, type Snapshot } from './snapshot/snapshot.js';

export interface InitOptions {
  /** log2 of scrypt's N for the first key file. */
  scryptCost?: number;
  /**
   * Makes the new repository a copy destination of this one: the same master key (so sealed
   * objects and their ids stay valid as they are), chunker sizes and repository id (so a catalog
   * follows the repository when it moves), under a key file of its own.
   */
  replicaOf?: { key: MasterKey; config: RepositoryConfig };
}

export class ObjectNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`object ${id} is not in the repository index`);
    this.name = 'ObjectNotFoundError';
  }
}

export class DamagedObjectError extends Error {
  constructor(
    readonly id: string,
    readonly pack: string,
    why: string,
  ) {
    super(`object ${id} in pack ${pack} is damaged: ${why}`);
    this.name = 'DamagedObjectError';
  }
}

/** An index or condemned file that could not be read, and was passed over. */
export interface UnreadableFile {
  kind: 'index' | 'condemned';
  name: string;
  error: string;
  /**
   * Its bytes do not hash to its name: changed after it was written (DamagedFileError). A file
   * that fails otherwise (a failed read; a newer mailvault's, or another key's, whose bytes are
   * as written) is not: only a damaged file may be replaced or removed by a repair.
   */
  damaged: boolean;
}

/** What loadIndex found. */
export interface IndexLoad {
  /** Index and condemned files passed over. */
  damaged: UnreadableFile[];
  /** Index files listed. */
  files: number;
  /** Packs in no readable index file, indexed from their own headers (see unindexed-packs.ts). */
  fromHeaders: HeaderIndexing;
}

/** The warning every command gives for an unreadable file its index loading passed over. */
export function unreadableFileWarning(file: UnreadableFile): string {
  const what = file.kind === 'index' ? 'index' : 'condemned file';
  const passed = `${what} ${file.name} is unreadable and was passed over (${withoutSubject(file.error, `${what} ${file.name}`)})`;
  if (file.kind === 'condemned')
    return `${passed}: the packs it condemned count as live until a prune condemns them again; mailvault check --repair removes it`;
  return `${passed}: the packs only it listed are read by their own headers, and a backup stores again what it needs of them, until mailvault check --repair rebuilds the index`;
}

/** After a refresh of the index that found nothing new, misses within this time are final. */
const FRUITLESS_REFRESH_PAUSE_MS = 1_000;

/** Packs read whole are kept up to this many bytes (see PackCache). */
const PACK_CACHE_BYTES = 64 * 1024 * 1024;

export class Repository {
  readonly index = new ObjectIndex();
  /**
   * Packs `prune` condemned, with since when (loaded with the index): still readable, but no
   * writer deduplicates against their objects (format section 8.1).
   */
  readonly condemned = new Map<string, Date>();
  /**
   * The index files behind the in-memory index: `live` ones, read by loadIndex or saved since
   * (their entries are all in memory), and `superseded` ones loadIndex found replaced (format
   * section 8). An index written again from memory (rewriteIndex) replaces them all.
   */
  indexFiles: { live: string[]; superseded: string[] } = { live: [], superseded: [] };
  /**
   * Packs no readable index file lists, whose objects the in-memory index holds from the packs'
   * own headers (see unindexed-packs.ts): readable, but not stored in a writer's eyes.
   */
  readonly packsFromHeaders = new Set<string>();
  /** A refresh of the index in progress (refreshIndex), shared by whoever asks meanwhile. */
  private refreshing?: Promise<number>;
  /** When a refresh last found no new index file: a miss soon after is a real one. */
  private lastFruitlessRefresh = 0;
  /** Index files a refresh could not read (loadIndex reports them; they are not tried again). */
  private readonly unreadableIndexFiles = new Set<string>();
  private chunkerInstance: Chunker | undefined;
  private readonly packs = new PackCache(PACK_CACHE_BYTES, {
    whole: (name) => this.storage.load({ kind: 'data', name }),
    range: (name, offset, length) => this.storage.load({ kind: 'data', name }, { offset, length }),
  });

  private constructor(
    readonly storage: Storage,
    readonly config: RepositoryConfig,
    readonly key: MasterKey,
    /** Name of the key file that opened the repository. */
    readonly keyName: string,
  ) {}

  static async init(
    storage: Storage,
    passphrase: string,
    options: InitOptions = {},
  ): Promise<Repository> {
    const source = options.replicaOf;
    const config = source
      ? { ...newRepositoryConfig(source.config.chunker), id: source.config.id }
      : newRepositoryConfig({ minSize: 32 * 1024, avgSize: 128 * 1024, maxSize: 1024 * 1024 });
    const master = source?.key ?? generateMasterKey();
    const key = await createKeyFile(master, passphrase, options.scryptCost ?? DEFAULT_SCRYPT_COST);
    await storage.create();
    // The key goes first: a config without a key would be a repository nobody can open.
    await storage.save({ kind: 'keys', name: key.name }, key.bytes);
    await storage.save(
      { kind: 'config', name: 'config' },
      Buffer.from(JSON.stringify(config, null, 2) + '\n'),
    );
    return new Repository(storage, config, master, key.name);
  }

  /** Reads the config (checking the format version), then tries the passphrase on each key file. */
  /**
   * Opens the repository with a passphrase that unlocks one of its key files. `unlocked` keeps
   * the keys a long-lived process has unlocked before, so that it derives each passphrase once.
   */
  static async open(
    storage: Storage,
    passphrase: string,
    unlocked?: UnlockedKeys,
  ): Promise<Repository> {
    const config = await Repository.readConfig(storage);
    // A key file this version cannot read (damaged, or written by a newer mailvault) must not
    // lock out the passphrases of the others.
    const unreadable: string[] = [];
    for await (const name of storage.names('keys')) {
      let keyFile;
      let bytes: Buffer;
      try {
        bytes = await storage.load({ kind: 'keys', name });
        keyFile = parseKeyFile(bytes, name);
      } catch (error) {
        // Not a key file at all: that says enough (whether its name still matches or not).
        unreadable.push(errorText(error));
        continue;
      }
      const known = unlocked?.get(name, passphrase);
      if (known) return new Repository(storage, config, known, name);
      try {
        const key = await unlockKeyFile(keyFile, passphrase);
        unlocked?.set(name, passphrase, key);
        return new Repository(storage, config, key, name);
      } catch (error) {
        // A key file is named by the SHA-256 of its bytes: one that does not match was changed
        // after it was written, and may be this passphrase's (nothing else tells the two apart).
        if (!(error instanceof WrongPassphraseError))
          unreadable.push(`key file ${name}: ${errorText(error)}${damageNote(bytes, name)}`);
        else if (damageNote(bytes, name))
          unreadable.push(`key file ${name}: its content does not match its name (damaged)`);
      }
    }
    throw new WrongPassphraseError(storage.location, unreadable);
  }

  static async readConfig(storage: Storage): Promise<RepositoryConfig> {
    let bytes: Buffer;
    try {
      bytes = await storage.load({ kind: 'config', name: 'config' });
    } catch (error) {
      if (storage.isNotFound(error)) {
        throw new Error(
          `no repository at ${storage.location} (run \`mailvault init\` to create one)`,
        );
      }
      throw error;
    }
    return parseRepositoryConfig(bytes, storage.location);
  }

  get chunker(): Chunker {
    this.chunkerInstance ??= new Chunker(createGearTable(this.key.chunker), this.config.chunker);
    return this.chunkerInstance;
  }

  objectId(plaintext: Uint8Array): Buffer {
    return objectId(this.key, plaintext);
  }

  /**
   * A writer for new objects. `workers`: sealing threads (default one per core, 0 for none).
   * Close it when done, to release them.
   */
  writer(options: { workers?: number } = {}): ObjectWriter {
    return new ObjectWriter(this, createSealer(this.key.encryption, options.workers));
  }

  /**
   * Loads every index file into memory; needed before reading objects or deduplicating. A damaged
   * index file is passed over and reported; the packs no readable file lists are then indexed
   * from their own headers, so that what they hold stays readable (format section 8).
   * `packHeaders: 'always'` does so even when every index file was readable (check).
   */
  async loadIndex(options: { packHeaders?: 'when-damaged' | 'always' } = {}): Promise<IndexLoad> {
    const damaged: UnreadableFile[] = [];
    const names: string[] = [];
    let bytes = 0;
    for await (const file of this.storage.list('index')) {
      names.push(file.name);
      bytes += file.size;
    }
    // An entry takes at least its 32-byte id of an index file, however well the rest of it
    // compresses (format section 8): room for that many, a little more than needed, at once.
    this.index.reserve(this.index.size + bytes / 32);
    // Entry by entry into the compact index, so that no file's entries are ever held as objects
    // (tens of millions of objects would otherwise take gigabytes first). A superseded file must
    // not count: when one was among them (after a prune or a repair), the index is made again
    // from the others.
    const superseded = new Set<string>();
    const readable: string[] = [];
    this.packsFromHeaders.clear();
    // Condemned packs first: an object stored again while its pack was condemned is listed by
    // two index files, and must load at its new pack whichever file is read first.
    await this.loadCondemned(damaged);
    const addFile = async (name: string, onSuperseded?: (id: string) => void): Promise<void> =>
      visitIndex(await this.openIndexFile(name), name, {
        superseded: (id) => onSuperseded?.(id),
        pack: () => undefined,
        entry: (pack, entry) => this.recordStored(entry.id, { pack, ...entry }),
      });
    const unreadable: UnreadableFile[] = [];
    for (const name of names) {
      try {
        await addFile(name, (old) => superseded.add(old));
        readable.push(name);
      } catch (error) {
        unreadable.push({ kind: 'index', name, ...describeFailure(error) });
      }
    }
    const live = readable.filter((name) => !superseded.has(name));
    if (live.length < readable.length) {
      this.index.clear();
      for (const name of live) await addFile(name);
    }
    this.indexFiles = { live, superseded: readable.filter((name) => superseded.has(name)) };
    // A damaged file that a readable one supersedes was replaced already (a repair or a prune
    // ended before removing it): what it listed is listed again, and it no longer counts.
    damaged.push(...unreadable.filter((file) => !superseded.has(file.name)));
    const fromHeaders =
      options.packHeaders === 'always' || damaged.some((file) => file.kind === 'index')
        ? await this.indexFromHeaders(this.storage.list('data'))
        : { packs: [], objects: 0, unreadable: [] };
    return { damaged, files: names.length, fromHeaders };
  }

  /**
   * Adds the objects of the listed packs that the in-memory index does not know, from the packs'
   * own headers (see unindexed-packs.ts); they are noted in packsFromHeaders.
   */
  async indexFromHeaders(
    packs: AsyncIterable<FileInfo> | Iterable<FileInfo>,
  ): Promise<HeaderIndexing> {
    const known = new Set(this.index.packs());
    const found = await indexFromHeaders(
      { storage: this.storage, encryptionKey: this.key.encryption, index: this.index },
      packs,
      (pack) => known.has(pack) || this.packsFromHeaders.has(pack),
    );
    for (const pack of found.packs) this.packsFromHeaders.add(pack);
    return found;
  }

  /** Every condemned file, the earliest time kept for a pack named in several. */
  private async loadCondemned(damaged: UnreadableFile[]): Promise<void> {
    this.condemned.clear();
    for await (const name of this.storage.names('condemned')) {
      let file: CondemnedFile;
      try {
        file = await this.loadCondemnedFile(name);
      } catch (error) {
        // Unreadable: its packs are taken for live, which wastes space and loses nothing.
        damaged.push({ kind: 'condemned', name, ...describeFailure(error) });
        continue;
      }
      for (const { pack, since } of file.packs) {
        const at = new Date(since);
        const known = this.condemned.get(pack);
        if (!known || known > at) this.condemned.set(pack, at);
      }
    }
  }

  async loadCondemnedFile(name: string): Promise<CondemnedFile> {
    const sealed = await this.storage.load({ kind: 'condemned', name });
    checkName(sealed, name, 'condemned file');
    return decodeCondemned(
      openFile(this.key.encryption, 'condemned', sealed, `condemned file ${name}`),
      name,
    );
  }

  async saveCondemned(file: CondemnedFile): Promise<string> {
    return this.saveSealed('condemned', encodeCondemned(file));
  }

  /**
   * Whether a writer may take the object for stored: listed by an index file, in a pack not
   * condemned. An object known from a pack's header alone is not (format section 12: only an
   * object an index file lists is stored; the pack may be an interrupted backup's).
   */
  isStored(id: Uint8Array): boolean {
    const location = this.index.get(id);
    return (
      location !== undefined &&
      !this.condemned.has(location.pack) &&
      !this.packsFromHeaders.has(location.pack)
    );
  }

  /** An object a writer stored (and indexed): it lives in the new pack from now on. */
  recordStored(id: Uint8Array, location: ObjectLocation): void {
    // Listed by an index file now (its writer's, a copy's): no longer known from its header alone.
    if (this.packsFromHeaders.size > 0) this.packsFromHeaders.delete(location.pack);
    if (this.index.add(id, location)) return;
    const known = this.index.get(id);
    if (known && (this.condemned.has(known.pack) || this.packsFromHeaders.has(known.pack)))
      this.index.relocate(id, location);
  }

  /**
   * Adds the index files that other writers saved since the index was loaded (format section
   * 2.2): a snapshot another backup wrote meanwhile names objects that only its index files list,
   * and a writer that knows them stores them no second time. Files they supersede stay loaded: a
   * prune deletes nothing a loaded index may still name before its grace period. Returns the
   * number of index files added.
   */
  refreshIndex(): Promise<number> {
    this.refreshing ??= this.addNewIndexFiles().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async addNewIndexFiles(): Promise<number> {
    const { live, superseded } = this.indexFiles;
    const known = new Set([...live, ...superseded, ...this.unreadableIndexFiles]);
    let added = 0;
    for await (const name of this.storage.names('index')) {
      if (known.has(name)) continue;
      try {
        visitIndex(await this.openIndexFile(name), name, {
          superseded: (old) => superseded.push(old),
          pack: () => undefined,
          entry: (pack, entry) => this.recordStored(entry.id, { pack, ...entry }),
        });
        live.push(name);
        added++;
      } catch {
        this.unreadableIndexFiles.add(name);
      }
    }
    if (added === 0) this.lastFruitlessRefresh = Date.now();
    return added;
  }

  /**
   * Where an object is; one the index does not know may be another writer's, saved since the
   * index was loaded: the index is brought up to date before it is called missing (unless a
   * refresh just found nothing new, as for every object of a damaged index file).
   */
  private async locateNow(id: Uint8Array): Promise<ObjectLocation> {
    if (this.index.has(id)) return this.locate(id);
    if (Date.now() - this.lastFruitlessRefresh >= FRUITLESS_REFRESH_PAUSE_MS)
      await this.refreshIndex();
    return this.locate(id);
  }

  async readIndexFile(name: string): Promise<IndexContent> {
    return decodeIndex(await this.openIndexFile(name), name);
  }

  /** An index file's plaintext, checked against its name and authenticated. */
  private async openIndexFile(name: string): Promise<Buffer> {
    const sealed = await this.storage.load({ kind: 'index', name });
    checkName(sealed, name, 'index');
    return openFile(this.key.encryption, 'index', sealed, `index ${name}`);
  }

  async saveIndex(content: IndexContent): Promise<string> {
    const name = await this.saveSealed('index', encodeIndex(content));
    this.indexFiles.live.push(name);
    return name;
  }

  locate(id: Uint8Array): ObjectLocation {
    const location = this.index.get(id);
    if (!location) throw new ObjectNotFoundError(Buffer.from(id).toString('hex'));
    return location;
  }

  /**
   * Reads one object and authenticates it (its id is the associated data of its sealing, so it
   * cannot come from another object). Whoever needs more, such as check, recomputes the id.
   */
  /** An object's sealed bytes as its pack holds them, for opening elsewhere (openSealedObject). */
  async readSealed(id: Uint8Array): Promise<Buffer> {
    const location = await this.locateNow(id);
    return this.packs.read(location.pack, location.offset, location.length);
  }

  async readObject(id: Uint8Array): Promise<Buffer> {
    const location = await this.locateNow(id);
    const sealed = await this.packs.read(location.pack, location.offset, location.length);
    try {
      return this.openObject(id, location, sealed);
    } catch (error) {
      // Read from a local copy of the pack (a remote repository's cache), the damage may be the
      // copy's alone: the original is read before the object is called damaged.
      const file = { kind: 'data' as const, name: location.pack };
      if (!(error instanceof DamagedObjectError && (await this.storage.dropLocalCopy?.(file))))
        throw error;
      this.packs.forget(location.pack);
      const again = await this.packs.read(location.pack, location.offset, location.length);
      return this.openObject(id, location, again);
    }
  }

  /**
   * Decrypts and authenticates an object already read from its pack; with `verifyId`, also checks
   * that its plaintext still hashes to its id (what only a key holder could break).
   */
  openObject(id: Uint8Array, location: ObjectLocation, sealed: Buffer, verifyId = false): Buffer {
    const hex = Buffer.from(id).toString('hex');
    let plaintext: Buffer;
    try {
      plaintext = openSealedObject(this.key.encryption, id, sealed);
    } catch (error) {
      throw new DamagedObjectError(
        hex,
        location.pack,
        error instanceof Error ? error.message : String(error),
      );
    }
    if (verifyId && !objectId(this.key, plaintext).equals(id)) {
      throw new DamagedObjectError(hex, location.pack, 'its content does not match its id');
    }
    return plaintext;
  }

  async readTree<T>(id: Uint8Array): Promise<T> {
    return JSON.parse((await this.readObject(id)).toString('utf8')) as T;
  }

  async saveSnapshot(snapshot: Snapshot): Promise<string> {
    return this.saveSealed('snapshots', encodeSnapshot(snapshot));
  }

  async loadSnapshot(name: string): Promise<Snapshot> {
    return (await this.loadSnapshotFile(name)).snapshot;
  }

  /** A snapshot with its file's bytes as stored, checked and opened, for copying it as it is. */
  async loadSnapshotFile(name: string): Promise<{ snapshot: Snapshot; sealed: Buffer }> {
    const { plaintext, sealed } = await this.loadSealed('snapshots', name);
    return { snapshot: decodeSnapshot(plaintext, name), sealed };
  }

  async saveRunFile(file: RunFile): Promise<string> {
    return this.saveSealed('runs', encodeRunFile(file));
  }

  async loadRunFile(name: string): Promise<RunFile> {
    return (await this.loadRunFileBytes(name)).file;
  }

  /** A run file with its bytes as stored, checked and opened, for copying it as it is. */
  async loadRunFileBytes(name: string): Promise<{ file: RunFile; sealed: Buffer }> {
    const { plaintext, sealed } = await this.loadSealed('runs', name);
    return { file: decodeRunFile(plaintext, name), sealed };
  }

  /** A snapshot or run file: its bytes checked against its name, then opened. */
  private async loadSealed(
    kind: 'snapshots' | 'runs',
    name: string,
  ): Promise<{ plaintext: Buffer; sealed: Buffer }> {
    const what = kind === 'snapshots' ? 'snapshot' : 'run file';
    const sealed = await this.storage.load({ kind, name });
    checkName(sealed, name, what);
    const label = kind === 'snapshots' ? 'snapshot' : 'run';
    return { plaintext: openFile(this.key.encryption, label, sealed, `${what} ${name}`), sealed };
  }

  /**
   * Every snapshot: those of snapshot files, then those run files stand for (`runFile` names
   * the file). A file that cannot be read is handed to `onUnreadable` and passed over, so that
   * one damaged file does not hide the others; without `onUnreadable` it throws.
   */
  async *snapshots(
    onUnreadable?: (file: { kind: 'snapshots' | 'runs'; name: string }, error: Error) => void,
  ): AsyncIterable<{ id: string; snapshot: Snapshot; runFile?: string }> {
    const unreadable = (kind: 'snapshots' | 'runs', name: string, error: unknown): void => {
      if (!onUnreadable) throw error;
      onUnreadable({ kind, name }, error instanceof Error ? error : new Error(String(error)));
    };
    for await (const name of this.storage.names('snapshots')) {
      let snapshot: Snapshot;
      try {
        snapshot = await this.loadSnapshot(name);
      } catch (error) {
        unreadable('snapshots', name, error);
        continue;
      }
      yield { id: name, snapshot };
    }
    for await (const name of this.storage.names('runs')) {
      let file: RunFile;
      try {
        file = await this.loadRunFile(name);
      } catch (error) {
        unreadable('runs', name, error);
        continue;
      }
      for (const entry of expandRunFile(file)) yield { ...entry, runFile: name };
    }
  }

  async addKey(passphrase: string, scryptCost = DEFAULT_SCRYPT_COST): Promise<string> {
    const key = await createKeyFile(this.key, passphrase, scryptCost);
    await this.storage.save({ kind: 'keys', name: key.name }, key.bytes);
    return key.name;
  }

  private async saveSealed(
    kind: 'index' | 'snapshots' | 'runs' | 'condemned',
    plaintext: Buffer,
  ): Promise<string> {
    const label = (
      { index: 'index', snapshots: 'snapshot', runs: 'run', condemned: 'condemned' } as const
    )[kind];
    const sealed = sealFile(this.key.encryption, label, plaintext);
    const name = createHash('sha256').update(sealed).digest('hex');
    await this.storage.save({ kind, name }, sealed);
    return name;
  }
}

/**
 * A repository file whose bytes do not hash to its name (format section 2): changed after it was
 * written, by a disk, a copy or a hand. (A file written with other bytes would have another name.)
 */
export class DamagedFileError extends Error {
  constructor(what: string, name: string) {
    super(`${what} ${name}: its content does not match its name (damaged)`);
    this.name = 'DamagedFileError';
  }
}

/** Index, snapshot, run and condemned files are named by the SHA-256 of their bytes. */
function checkName(bytes: Buffer, name: string, what: string): void {
  if (createHash('sha256').update(bytes).digest('hex') !== name)
    throw new DamagedFileError(what, name);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** " (its content does not match its name: damaged)" for a key file changed after it was written. */
function damageNote(bytes: Buffer, name: string): string {
  if (createHash('sha256').update(bytes).digest('hex') === name) return '';
  return ' (its content does not match its name: damaged)';
}

function describeFailure(error: unknown): { error: string; damaged: boolean } {
  return { error: errorText(error), damaged: error instanceof DamagedFileError };
}

/** "its content does not match its name" from "index 1f2e…: its content does not match its name". */
function withoutSubject(message: string, subject: string): string {
  if (message.startsWith(`${subject}: `)) return message.slice(subject.length + 2);
  if (message.startsWith(`${subject} `)) return message.slice(subject.length + 1);
  return message;
}
