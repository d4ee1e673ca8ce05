import { join } from 'node:path';
import { describe } from 'vitest';
import { LocalStorage } from '../../src/storage/local/local-storage.js';
import { makeTempDir, removeTempDir } from '../support/servers.js';
import { storageContract } from '../support/storage-contract.js';

describe('local storage keeps the storage contract', () => {
  storageContract(async () => {
    const dir = await makeTempDir('storage-local');
    return { storage: new LocalStorage(join(dir, 'repo')), cleanup: () => removeTempDir(dir) };
  });
});
