import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe } from 'vitest';
import { LocalStorage } from '../../src/storage/local/local-storage.js';
import { openStorage } from '../../src/storage/open-storage.js';
import { makeTempDir, removeTempDir } from '../support/servers.js';
import { storageContract } from '../support/storage-contract.js';

describe('local storage keeps the storage contract', () => {
  storageContract(async () => {
    const dir = await makeTempDir('storage-local');
    return {
      storage: new LocalStorage(join(dir, 'repo')),
      leaveTemporary: (path, data) => leaveFile(join(dir, 'repo', path), data),
      cleanup: () => removeTempDir(dir),
    };
  });
});

// What the program uses is the backend inside its wrappers (limited and counted, for a local
// path): they must keep the contract too.
describe('local storage as openStorage wraps it keeps the storage contract', () => {
  storageContract(async () => {
    const dir = await makeTempDir('storage-local-wrapped');
    return {
      storage: openStorage('repo', dir),
      leaveTemporary: (path, data) => leaveFile(join(dir, 'repo', path), data),
      cleanup: () => removeTempDir(dir),
    };
  });
});

async function leaveFile(path: string, data: Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, data);
}
