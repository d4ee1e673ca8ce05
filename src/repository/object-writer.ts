import { objectId } from './crypto/master-key.js';
import type { IndexedPack } from './index/index-file.js';
import { PackBuilder } from './pack/pack-builder.js';
import type { ObjectType } from './pack/pack-format.js';
import type { Repository } from './repository.js';
import type { Sealer } from './sealing/sealer.js';

export interface WriterStats {
  /** Objects stored by this writer (not already in the repository). */
  objectsAdded: number;
  /** Bytes those objects take in packs (compressed and sealed), counted as they are sealed. */
  bytesAdded: number;
  /** Their plaintext size. */
  rawBytesAdded: number;
  /** Objects offered that the repository already had. */
  duplicates: number;
  packsWritten: number;
}

export interface SavedObject {
  id: Buffer;
  /** False when the repository already held it. */
  added: boolean;
}

/** Counts the bytes that objects saved on its behalf added, once they are sealed. */
export interface ByteTally {
  bytes: number;
}

interface Pending {
  type: ObjectType;
  id: Buffer;
  plaintext: Uint8Array;
  tally: ByteTally | undefined;
}

const PACK_TARGET_SIZE = 8 * 1024 * 1024;
const MAX_UPLOADS_IN_FLIGHT = 2;
/** Write an index file at least this often, so a crash loses little more than this many packs. */
const MAX_UNINDEXED_PACKS = 32;
/** Objects go to the sealer in batches of about this size... */
const BATCH_BYTES = 512 * 1024;
const BATCH_OBJECTS = 256;
/**
 * ...and no more than this much plaintext waits for sealing at once (memory stays flat). Sixteen
 * batches keep every worker busy; more only holds memory: a 64 MB attachment arrives faster than
 * it is sealed, and at 32 MiB its backup peaked about 70 MiB higher.
 */
const MAX_SEALING_BYTES = 8 * 1024 * 1024;

/**
 * Stores objects: deduplicates against the repository's index and the objects waiting to be
 * written, has them compressed and sealed (by worker threads where there are cores to spare),
 * groups them into packs (data and trees apart, so that reading all trees never reads mail) and
 * writes packs, then index files. Nothing it writes is referenced until `flush` has written the
 * index that covers it. `close` releases the workers.
 */
export class ObjectWriter {
  readonly stats: WriterStats = {
    objectsAdded: 0,
    bytesAdded: 0,
    rawBytesAdded: 0,
    duplicates: 0,
    packsWritten: 0,
  };
  private readonly open = new Map<ObjectType, PackBuilder>();
  /** Ids being sealed, or in an open, uploading or written pack that no index file lists yet. */
  private readonly pending = new Set<string>();
  private readonly uploads = new Set<Promise<void>>();
  private readonly sealing = new Set<Promise<void>>();
  private batch: Pending[] = [];
  private batchBytes = 0;
  private sealingBytes = 0;
  private unindexed: IndexedPack[] = [];
  private failure: unknown;

  constructor(
    private readonly repository: Repository,
    private readonly sealer: Sealer,
  ) {}

  idOf(plaintext: Uint8Array): Buffer {
    return objectId(this.repository.key, plaintext);
  }

  /**
   * Saves an object unless the repository has it. Returns as soon as the object is queued; its
   * sealed size reaches `tally` when it is sealed, which `flush` waits for.
   */
  async save(type: ObjectType, plaintext: Uint8Array, tally?: ByteTally): Promise<SavedObject> {
    this.throwIfFailed();
    const id = this.idOf(plaintext);
    const hex = id.toString('hex');
    if (this.pending.has(hex) || this.repository.isStored(id)) {
      this.stats.duplicates++;
      return { id, added: false };
    }
    this.pending.add(hex);
    this.stats.objectsAdded++;
    this.stats.rawBytesAdded += plaintext.length;
    this.batch.push({ type, id, plaintext, tally });
    this.batchBytes += plaintext.length;
    if (this.batchBytes >= BATCH_BYTES || this.batch.length >= BATCH_OBJECTS) await this.dispatch();
    return { id, added: true };
  }

  /** Hands the current batch to the sealer; waits first while too much is being sealed already. */
  private async dispatch(): Promise<void> {
    while (this.sealingBytes >= MAX_SEALING_BYTES && this.sealing.size > 0)
      await Promise.race(this.sealing);
    while (this.uploads.size > MAX_UPLOADS_IN_FLIGHT) await Promise.race(this.uploads);
    this.throwIfFailed();
    const batch = this.batch;
    const bytes = this.batchBytes;
    this.batch = [];
    this.batchBytes = 0;
    if (batch.length === 0) return;
    this.sealingBytes += bytes;
    const work = this.sealer
      .seal(batch)
      .then((sealed) => {
        batch.forEach((job, i) => this.place(job, sealed[i] as Buffer));
      })
      .catch((error: unknown) => {
        this.failure ??= error;
      })
      .finally(() => {
        this.sealingBytes -= bytes;
        this.sealing.delete(work);
      });
    this.sealing.add(work);
  }

  /** Puts a sealed object into its type's open pack, and starts writing the pack when it is full. */
  private place(job: Pending, sealed: Buffer): void {
    let pack = this.open.get(job.type);
    if (!pack) {
      pack = new PackBuilder();
      this.open.set(job.type, pack);
    }
    pack.add(job.type, job.id, sealed, job.plaintext.length);
    this.stats.bytesAdded += sealed.length;
    if (job.tally) job.tally.bytes += sealed.length;
    if (pack.size >= PACK_TARGET_SIZE) {
      this.open.delete(job.type);
      this.upload(pack);
    }
  }

  /**
   * Writes every open pack and an index file for all packs written since the last one. After it
   * returns, every object saved so far can be referenced by a snapshot.
   */
  async flush(): Promise<void> {
    await this.dispatch();
    while (this.sealing.size > 0) await Promise.all(this.sealing);
    this.throwIfFailed();
    for (const [type, pack] of this.open) {
      this.open.delete(type);
      if (pack.objectCount > 0) this.upload(pack);
    }
    while (this.uploads.size > 0) await Promise.all(this.uploads);
    this.throwIfFailed();
    await this.writeIndex();
  }

  /** Releases the sealing workers; the writer cannot be used afterwards. */
  async close(): Promise<void> {
    await this.sealer.close();
  }

  /** Writes a pack in the background; a backlog of them makes the next batch wait (see dispatch). */
  private upload(pack: PackBuilder): void {
    const { name, bytes, entries } = pack.finish(this.repository.key.encryption);
    const upload = (async () => {
      await this.repository.storage.save({ kind: 'data', name }, bytes);
      this.stats.packsWritten++;
      this.unindexed.push({ id: name, entries });
      if (this.unindexed.length >= MAX_UNINDEXED_PACKS) await this.writeIndex();
    })().catch((error: unknown) => {
      this.failure ??= error;
    });
    this.uploads.add(upload);
    void upload.finally(() => this.uploads.delete(upload));
  }

  private async writeIndex(): Promise<void> {
    if (this.unindexed.length === 0) return;
    const packs = this.unindexed;
    this.unindexed = [];
    try {
      await this.repository.saveIndex({ superseded: [], packs });
    } catch (error) {
      // Keep them for the next attempt, and refuse further work: nothing may refer to them yet.
      this.unindexed = [...packs, ...this.unindexed];
      this.failure ??= error;
      throw error;
    }
    // Only now may anyone else rely on these objects: until the index is written they are in no
    // index a fresh reader would load, so they stay this writer's own.
    for (const pack of packs) {
      for (const entry of pack.entries) {
        this.repository.recordStored(entry.id, { pack: pack.id, ...entry });
        this.pending.delete(entry.id.toString('hex'));
      }
    }
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
