import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalStorage } from '../storage/local/local-storage.js';
import { Repository } from './repository.js';

describe('condemned packs', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailvault-condemned-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stay readable, are not deduplicated against, and lose an object a writer stores again', async () => {
    const content = Buffer.from('a message body no snapshot needs any more');
    const first = await Repository.init(new LocalStorage(dir), 'pass', { scryptCost: 10 });
    const writer = first.writer({ workers: 0 });
    const { id } = await writer.save('data', content);
    await writer.flush();
    await writer.close();
    const pack = first.locate(id).pack;
    await first.saveCondemned({ version: 1, packs: [{ pack, since: new Date().toISOString() }] });
    await first.storage.close();

    const storage = new LocalStorage(dir);
    const repository = await Repository.open(storage, 'pass');
    await repository.loadIndex();
    expect(repository.condemned.has(pack)).toBe(true);
    expect(await repository.readObject(id)).toEqual(content);
    expect(repository.isStored(id)).toBe(false);
    const again = repository.writer({ workers: 0 });
    expect((await again.save('data', content)).added).toBe(true);
    await again.flush();
    await again.close();
    expect(repository.isStored(id)).toBe(true);
    expect(repository.locate(id).pack).not.toBe(pack);
    expect(await repository.readObject(id)).toEqual(content);
    const stored = repository.locate(id).pack;
    await storage.close();

    // Loaded again, the object is at its new pack whichever index file is read first.
    for (let i = 0; i < 3; i++) {
      const later = new LocalStorage(dir);
      const reopened = await Repository.open(later, 'pass');
      await reopened.loadIndex();
      expect(reopened.indexFiles.live).toHaveLength(2);
      expect(reopened.locate(id).pack).toBe(stored);
      expect(reopened.isStored(id)).toBe(true);
      await later.close();
    }
  });

  it('are refused, named, when their file is not a list of packs', async () => {
    const repository = await Repository.init(new LocalStorage(dir), 'pass', { scryptCost: 10 });
    const name = await repository.saveCondemned({
      version: 1,
      packs: [{ pack: 'not a pack', since: 'never' }],
    });
    await expect(repository.loadCondemnedFile(name)).rejects.toThrow(
      `condemned file ${name}: packs must be {pack, since} records`,
    );
    await repository.storage.close();
  });
});
