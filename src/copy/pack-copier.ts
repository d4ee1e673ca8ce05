/**
 * Moves sealed objects from one repository to another that shares its master key, without
 * opening them beyond authentication: objects keep their ids and sealed bytes, so nothing is
 * decompressed, re-compressed or re-encrypted. A source pack whose every object is wanted is
 * copied whole under its own name; otherwise the wanted objects are read by ranges and packed
 * anew. Index files follow the packs they list, as a backup writes them (format section 12).
 *
 * A repository may be its own destination (`prune` repacking sparse packs): the packs the objects
 * are copied out of must then be condemned in memory first, so that the destination's index
 * moves each object to its new pack (Repository.recordStored), and no pack is copied whole.
 */
import { createHash } from 'node:crypto';
import { AuthenticationError, open } from '../repository/crypto/aead.js';
import type { IndexedPack } from '../repository/index/index-file.js';
import { ObjectIndex, type ObjectLocation } from '../repository/index/object-index.js';
import { PackBuilder } from '../repository/pack/pack-builder.js';
import type { ObjectType, PackEntry } from '../repository/pack/pack-format.js';
import type { Repository } from '../repository/repository.js';
import { StorageError } from '../storage/storage.js';

/** As a backup's packs: closed at 8 MiB, an index at least every 32 packs. */
const PACK_TARGET_SIZE = 8 * 1024 * 1024;
const MAX_UNINDEXED_PACKS = 32;
/** Packs being written at once; each holds up to a pack's bytes in memory. */
const MAX_UPLOADS_IN_FLIGHT = 3;
/** Wanted objects closer than this in a source pack are read in one request. */
const MAX_RANGE_GAP = 64 * 1024;

export interface CopyStats {
  objects: number;
  /** Bytes of the packs written to the destination. */
  bytes: number;
  /** Bytes read from the source's packs (ranges may take in the gaps between wanted objects). */
  bytesRead: number;
  packs: number;
  /** Of those, packs copied whole from the source. */
  wholePacks: number;
}

interface Wanted {
  id: Buffer;
  location: ObjectLocation;
}

export class PackCopier {
  readonly stats: CopyStats = { objects: 0, bytes: 0, bytesRead: 0, packs: 0, wholePacks: 0 };
  /** Ids of objects found damaged in the source since the last flush: they were not copied. */
  readonly damaged: string[] = [];
  private queued = new ObjectIndex();
  private readonly open = new Map<ObjectType, PackBuilder>();
  private readonly uploads = new Set<Promise<void>>();
  private unindexed: IndexedPack[] = [];
  private failure: unknown;
  private objectsPerPack: Map<string, number> | undefined;

  constructor(
    private readonly source: Repository,
    private readonly destination: Repository,
  ) {}

  /** Objects waiting for the next flush. */
  get queuedObjects(): number {
    return this.queued.size;
  }

  /** Whether the destination has the object, or will once the next flush is done. */
  has(id: Buffer): boolean {
    return this.destination.isStored(id) || this.queued.has(id);
  }

  queue(id: Buffer, location: ObjectLocation): void {
    this.queued.add(id, location);
  }

  /**
   * Copies every queued object, then writes an index of what this flush wrote. Afterwards the
   * destination's in-memory index has them, and a snapshot needing them may be written.
   */
  async flush(): Promise<void> {
    const byPack = this.groupByPack();
    this.queued = new ObjectIndex();
    for (const [pack, wanted] of byPack) {
      const whole = this.source !== this.destination && wanted.length === this.countInPack(pack);
      if (whole) await this.copyWholePack(pack, wanted);
      else await this.copyObjects(pack, wanted);
    }
    for (const [type, builder] of this.open) {
      this.open.delete(type);
      if (builder.objectCount > 0) this.upload(builder);
    }
    while (this.uploads.size > 0) await Promise.all(this.uploads);
    this.throwIfFailed();
    await this.writeIndex();
  }

  private groupByPack(): Map<string, Wanted[]> {
    const byPack = new Map<string, Wanted[]>();
    for (const [id, location] of this.queued.entries()) {
      let wanted = byPack.get(location.pack);
      if (!wanted) byPack.set(location.pack, (wanted = []));
      wanted.push({ id, location });
    }
    return byPack;
  }

  /** How many objects the source's index places in a pack (counted once, at the first flush). */
  private countInPack(pack: string): number {
    if (!this.objectsPerPack) {
      this.objectsPerPack = new Map();
      for (const [, location] of this.source.index.entries())
        this.objectsPerPack.set(location.pack, (this.objectsPerPack.get(location.pack) ?? 0) + 1);
    }
    return this.objectsPerPack.get(pack) ?? 0;
  }

  /**
   * A pack whose name is the SHA-256 of its bytes holds what was written: it goes as it is. One
   * that does not match is damaged somewhere, and its objects go one by one, authenticated.
   */
  private async copyWholePack(pack: string, wanted: Wanted[]): Promise<void> {
    const bytes = await this.source.storage.load({ kind: 'data', name: pack });
    this.stats.bytesRead += bytes.length;
    if (createHash('sha256').update(bytes).digest('hex') !== pack)
      return this.packObjects(wanted, (location) =>
        bytes.subarray(location.offset, location.offset + location.length),
      );
    await this.waitForUploadSlot();
    const entries: PackEntry[] = wanted.map(({ id, location }) => ({ id, ...location }));
    this.track(
      this.saveFresh(pack, bytes).then(() => {
        this.stats.wholePacks++;
        this.written(pack, bytes.length, entries);
      }),
    );
  }

  /** Reads the wanted objects of a pack by ranges (neighbours together) and packs them anew. */
  private async copyObjects(pack: string, wanted: Wanted[]): Promise<void> {
    wanted.sort((a, b) => a.location.offset - b.location.offset);
    let start = 0;
    while (start < wanted.length) {
      let end = start + 1;
      const first = wanted[start] as Wanted;
      let reach = first.location.offset + first.location.length;
      for (; end < wanted.length; end++) {
        const next = (wanted[end] as Wanted).location;
        if (next.offset - reach > MAX_RANGE_GAP) break;
        reach = Math.max(reach, next.offset + next.length);
      }
      const base = first.location.offset;
      const span = await this.source.storage.load(
        { kind: 'data', name: pack },
        { offset: base, length: reach - base },
      );
      this.stats.bytesRead += span.length;
      await this.packObjects(wanted.slice(start, end), (location) =>
        span.subarray(location.offset - base, location.offset - base + location.length),
      );
      start = end;
    }
  }

  /** Authenticates each object (a damaged one is left behind and named) and adds it to a pack. */
  private async packObjects(
    wanted: Wanted[],
    sealedOf: (location: ObjectLocation) => Buffer,
  ): Promise<void> {
    for (const { id, location } of wanted) {
      const sealed = sealedOf(location);
      try {
        open(this.source.key.encryption, sealed, id, `object ${id.toString('hex')}`);
      } catch (error) {
        if (!(error instanceof AuthenticationError)) throw error;
        this.damaged.push(id.toString('hex'));
        continue;
      }
      let builder = this.open.get(location.type);
      if (!builder) this.open.set(location.type, (builder = new PackBuilder()));
      // A copy of the bytes: the pack keeps it until written, the source span can go.
      builder.add(location.type, id, Buffer.from(sealed), location.rawLength);
      if (builder.size >= PACK_TARGET_SIZE) {
        this.open.delete(location.type);
        await this.waitForUploadSlot();
        this.upload(builder);
      }
    }
  }

  private upload(builder: PackBuilder): void {
    const { name, bytes, entries } = builder.finish(this.destination.key.encryption);
    this.track(this.saveFresh(name, bytes).then(() => this.written(name, bytes.length, entries)));
  }

  /** A pack of that name already there was left by an interrupted copy: the same bytes. */
  private async saveFresh(name: string, bytes: Buffer): Promise<void> {
    try {
      await this.destination.storage.save({ kind: 'data', name }, bytes);
    } catch (error) {
      if (!(error instanceof StorageError && error.code === 'exists')) throw error;
    }
  }

  private written(name: string, bytes: number, entries: PackEntry[]): void {
    this.stats.packs++;
    this.stats.bytes += bytes;
    this.stats.objects += entries.length;
    this.unindexed.push({ id: name, entries });
  }

  private track(upload: Promise<void>): void {
    const tracked = upload
      .then(async () => {
        if (this.unindexed.length >= MAX_UNINDEXED_PACKS) await this.writeIndex();
      })
      .catch((error: unknown) => {
        this.failure ??= error;
      })
      .finally(() => this.uploads.delete(tracked));
    this.uploads.add(tracked);
  }

  private async waitForUploadSlot(): Promise<void> {
    while (this.uploads.size >= MAX_UPLOADS_IN_FLIGHT) await Promise.race(this.uploads);
    this.throwIfFailed();
  }

  /** Only once an index lists them may a snapshot on the destination rely on these objects. */
  private async writeIndex(): Promise<void> {
    if (this.unindexed.length === 0) return;
    const packs = this.unindexed;
    this.unindexed = [];
    await this.destination.saveIndex({ superseded: [], packs });
    // recordStored: an object the destination knew in a condemned pack lives in the new one now.
    for (const pack of packs)
      for (const entry of pack.entries)
        this.destination.recordStored(entry.id, { pack: pack.id, ...entry });
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
