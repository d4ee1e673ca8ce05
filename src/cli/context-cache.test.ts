import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cacheFolderFor } from '../storage/cache/cache-folder.js';
import type { RepositoryStorage } from '../storage/cache/repository-storage.js';
import { CliContext } from './context.js';

// Port 1 on the loopback refuses at once: a remote that is down.
const URL = 'sftp://nobody@127.0.0.1:1/srv/vault';

describe('CliContext with a remote repository', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'context-cache-'));
    await mkdir(join(dir, 'state'));
    await writeFile(
      join(dir, 'config.yaml'),
      `repository:\n  url: ${URL}\n  cache: { uploadWait: 1s }\ncatalog:\n  url: ./state/catalog.sqlite\n`,
    );
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await rm(dir, { recursive: true, force: true });
  });

  it('caches it beside the catalog, and says at the end of a command what waits to upload', async () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((text) => {
      written.push(String(text));
      return true;
    });
    const context = new CliContext({ config: join(dir, 'config.yaml') });
    const storage = (await context.storage()) as RepositoryStorage;
    const bytes = Buffer.from('a snapshot');
    const name = createHash('sha256').update(bytes).digest('hex');
    await storage.save({ kind: 'snapshots', name }, bytes);
    const folder = cacheFolderFor(join(dir, 'state', 'mailvault-cache'), URL);
    expect(await readdir(join(folder, 'pending'))).toEqual([`000000000001.snapshots.${name}`]);
    // The uploader finds the remote down at its first try.
    while (storage.pendingUploads().remoteError === undefined)
      await new Promise((resolve) => setTimeout(resolve, 10));
    const started = Date.now();
    await context.close();
    // The remote is down: the command does not wait for it.
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(written.join('')).toContain(
      `mailvault: warning: 1 file (10 B) waiting in the local cache to upload to ${URL} (`,
    );
  });
});
