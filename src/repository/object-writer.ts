import { seal } from './crypto/aead.js';
import { objectId } from './crypto/master-key.js';
import type { IndexedPack } from './index/index-file.js';
import { PackBuilder } from './pack/pack-builder.js';
import type { ObjectType } from './pack/pack-format.js';
import { encodePayload } from './payload.js';
import type { Repository } from './repository.js';

export interface WriterStats {
  /** Objects stored by this writer (not already in the repository). */
  objectsAdded: number;
  /** Bytes those objects take in packs (compressed and sealed). */
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
  /** Bytes it added to the repository (0 when it was already there). */
  stored: number;
}

const PACK_TARGET_SIZE = 8 * 1024 * 1024;
const MAX_UPLOADS_IN_FLIGHT = 2;
/** Write an index file at least this often, so a crash loses little more than this many packs. */
const MAX_UNINDEXED_PACKS = 32;

/**
 * Stores objects: deduplicates against the repository's index and the objects waiting to be
 * written, compresses, seals, groups them into packs (data and trees apart, so that reading
 * all trees never reads mail) and writes packs, then index files. Nothing it writes is
 * referenced until `flush` has written the index that covers it.
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
  /** Ids in an open, uploading or written pack that no index file lists yet. */
  private readonly pending = new Set<string>();
  private readonly uploads = new Set<Promise<void>>();
  private unindexed: IndexedPack[] = [];
  private failure: unknown;

  constructor(private readonly repository: Repository) {}

  idOf(plaintext: Uint8Array): Buffer {
    return objectId(this.repository.key, plaintext);
  }

  async save(type: ObjectType, plaintext: Uint8Array, knownId?: Buffer): Promise<SavedObject> {
    this.throwIfFailed();
    const id = knownId ?? this.idOf(plaintext);
    const hex = id.toString('hex');
    if (this.pending.has(hex) || this.repository.index.has(id)) {
      this.stats.duplicates++;
      return { id, added: false, stored: 0 };
    }
    this.pending.add(hex);
    // The object's id is its associated data: it cannot be moved under another id unnoticed.
    const sealed = seal(this.repository.key.encryption, encodePayload(plaintext, true), id);
    let pack = this.open.get(type);
    if (!pack) {
      pack = new PackBuilder();
      this.open.set(type, pack);
    }
    pack.add(type, id, sealed, plaintext.length);
    this.stats.objectsAdded++;
    this.stats.bytesAdded += sealed.length;
    this.stats.rawBytesAdded += plaintext.length;
    if (pack.size >= PACK_TARGET_SIZE) {
      this.open.delete(type);
      await this.upload(pack);
    }
    return { id, added: true, stored: sealed.length };
  }

  /**
   * Writes every open pack and an index file for all packs written since the last one. After it
   * returns, every object saved so far can be referenced by a snapshot.
   */
  async flush(): Promise<void> {
    for (const [type, pack] of this.open) {
      this.open.delete(type);
      if (pack.objectCount > 0) await this.upload(pack);
    }
    await Promise.all(this.uploads);
    this.throwIfFailed();
    await this.writeIndex();
  }

  private async upload(pack: PackBuilder): Promise<void> {
    while (this.uploads.size >= MAX_UPLOADS_IN_FLIGHT) await Promise.race(this.uploads);
    this.throwIfFailed();
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
        this.repository.index.add(entry.id, { pack: pack.id, ...entry });
        this.pending.delete(entry.id.toString('hex'));
      }
    }
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
