import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UploadLock } from './upload-lock.js';

/** Another process that takes the lock as UploadLock does and holds it until killed. */
function holdInAnotherProcess(path: string): Promise<{ kill(): Promise<void> }> {
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  const code = `
    const Database = require(${JSON.stringify(sqlite)});
    const db = new Database(${JSON.stringify(path)}, { timeout: 0 });
    db.exec('BEGIN EXCLUSIVE');
    process.stdout.write('held\\n');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.stdout.once('data', () =>
      resolve({
        kill: () =>
          new Promise((done) => {
            child.once('exit', () => done());
            child.kill('SIGKILL');
          }),
      }),
    );
  });
}

describe('UploadLock', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'upload-lock-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('is held by one holder at a time in a process', async () => {
    const first = new UploadLock(join(dir, 'cache', 'upload.lock'));
    const second = new UploadLock(join(dir, 'cache', 'upload.lock'));
    expect(await first.tryAcquire()).toBe(true);
    expect(await first.tryAcquire()).toBe(true);
    expect(await second.tryAcquire()).toBe(false);
    first.release();
    expect(await second.tryAcquire()).toBe(true);
    expect(await first.tryAcquire()).toBe(false);
    second.release();
  });

  it('is refused while another process holds it, and free once that process is killed', async () => {
    const path = join(dir, 'upload.lock');
    const other = await holdInAnotherProcess(path);
    const lock = new UploadLock(path);
    try {
      expect(await lock.tryAcquire()).toBe(false);
    } finally {
      await other.kill();
    }
    expect(await lock.tryAcquire()).toBe(true);
    lock.release();
  });
});
