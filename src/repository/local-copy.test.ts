import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalStorage } from '../storage/local/local-storage.js';
import type { ByteRange, FileHandle } from '../storage/storage.js';
import { ForwardingStorage } from '../storage/wrappers/forwarding-storage.js';
import { DamagedObjectError, Repository } from './repository.js';

/**
 * Serves packs from a "local copy" with one byte flipped until the copy is dropped, as a cache
 * whose kept pack was damaged on its disk; `hasCopy: false` has no copy to drop.
 */
class DamagedCopies extends ForwardingStorage {
  copyDropped = false;
  constructor(
    inner: LocalStorage,
    private readonly hasCopy: boolean,
  ) {
    super(inner);
  }

  override async load(file: FileHandle, range?: ByteRange): Promise<Buffer> {
    const bytes = await super.load(file, range);
    if (file.kind !== 'data' || this.copyDropped) return bytes;
    const damaged = Buffer.from(bytes);
    for (let i = 0; i < damaged.length; i += 64) damaged[i] = (damaged[i] ?? 0) ^ 0xff;
    return damaged;
  }

  override dropLocalCopy(file: FileHandle): Promise<boolean> {
    const had = this.hasCopy && file.kind === 'data' && !this.copyDropped;
    if (had) this.copyDropped = true;
    return Promise.resolve(had);
  }
}

describe('an object read from a damaged local copy of its pack', () => {
  let dir: string;
  let id: Buffer;
  const content = Buffer.from('the tree of an account, as a backup reads it first');

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailvault-local-copy-'));
    const repository = await Repository.init(new LocalStorage(dir), 'pass', { scryptCost: 10 });
    const writer = repository.writer({ workers: 0 });
    id = (await writer.save('tree', content)).id;
    await writer.flush();
    await writer.close();
    await repository.storage.close();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function open(
    hasCopy: boolean,
  ): Promise<{ repository: Repository; storage: DamagedCopies }> {
    const storage = new DamagedCopies(new LocalStorage(dir), hasCopy);
    const repository = await Repository.open(storage, 'pass');
    await repository.loadIndex();
    return { repository, storage };
  }

  it('is read again from the original once the copy is dropped', async () => {
    const { repository, storage } = await open(true);
    expect(await repository.readObject(id)).toEqual(content);
    expect(storage.copyDropped).toBe(true);
    await storage.close();
  });

  it('is reported damaged when there is no copy to drop', async () => {
    const { repository, storage } = await open(false);
    await expect(repository.readObject(id)).rejects.toBeInstanceOf(DamagedObjectError);
    await storage.close();
  });
});
