import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStorage } from '../../storage/local/local-storage.js';
import { Repository } from '../repository.js';
import { WrongPassphraseError } from './key-file.js';
import { UnlockedKeys } from './unlocked-keys.js';

const PASSPHRASE = 'correct horse battery staple';
// Costly enough (64 MiB, a tenth of a second or more) that skipping it shows in the time taken.
const COST = 16;

describe('keys unlocked once per process', () => {
  let root: string;
  let path: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mailvault-unlocked-'));
    path = join(root, 'repo');
    await Repository.init(new LocalStorage(path), PASSPHRASE, { scryptCost: COST });
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const timed = async (work: () => Promise<Repository>): Promise<[Repository, number]> => {
    const started = performance.now();
    const repository = await work();
    return [repository, performance.now() - started];
  };

  it('opens the repository again without deriving the passphrase, with the same key', async () => {
    const keys = new UnlockedKeys();
    const [first, derived] = await timed(() =>
      Repository.open(new LocalStorage(path), PASSPHRASE, keys),
    );
    const [second, cached] = await timed(() =>
      Repository.open(new LocalStorage(path), PASSPHRASE, keys),
    );
    expect(second.key).toEqual(first.key);
    expect(second.keyName).toBe(first.keyName);
    expect(cached).toBeLessThan(derived / 3);
  });

  it('still refuses a wrong passphrase, and keeps no passphrase in memory it can show', async () => {
    const keys = new UnlockedKeys();
    await Repository.open(new LocalStorage(path), PASSPHRASE, keys);
    await expect(
      Repository.open(new LocalStorage(path), 'Correct horse battery staple', keys),
    ).rejects.toBeInstanceOf(WrongPassphraseError);
    expect(inspect(keys, { depth: 5 })).not.toContain(PASSPHRASE);
    expect(JSON.stringify([...Object.values(keys)])).not.toContain(PASSPHRASE);
  });
});
