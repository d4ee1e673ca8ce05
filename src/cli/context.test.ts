import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { noStorageRequests } from '../storage/wrappers/counting-storage.js';
import { CliContext } from './context.js';

describe('CliContext storage', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'context-'));
    await writeFile(join(dir, 'config.yaml'), 'repository:\n  url: ./repo\n');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('opens the storage once and reports the requests made to it', async () => {
    const context = new CliContext({ config: join(dir, 'config.yaml'), quiet: true });
    expect(context.storageRequests()).toEqual(noStorageRequests());
    const storage = await context.storage();
    expect(await context.storage()).toBe(storage);
    await storage.create();
    await storage.save({ kind: 'snapshots', name: 'a'.repeat(64) }, Buffer.from('snapshot'));
    for await (const name of storage.names('snapshots')) expect(name).toBe('a'.repeat(64));
    expect(context.storageRequests()).toMatchObject({ save: 1, list: 1, bytesUp: 8 });
    await context.close();
  });
});
