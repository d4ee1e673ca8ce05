// Test-only: a real repository in a temporary folder, with a cheap key derivation.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Repository } from '../repository/repository.js';
import { LocalStorage } from '../storage/local/local-storage.js';

export async function temporaryRepository(): Promise<{
  repository: Repository;
  reopen: () => Promise<Repository>;
  remove: () => void;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'mailvault-unit-'));
  const storage = new LocalStorage(join(dir, 'repo'));
  const repository = await Repository.init(storage, 'test passphrase', { scryptCost: 10 });
  return {
    repository,
    reopen: async () => {
      const fresh = await Repository.open(new LocalStorage(join(dir, 'repo')), 'test passphrase');
      await fresh.loadIndex();
      return fresh;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
