import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPostBackupHook, type FinishedRun } from './post-backup-hook.js';
import { repositoryLocation } from './repository-location.js';

// The hook is told of the run in its environment, and whatever becomes of it is an outcome, never
// an exception: the backup it follows has ended already.

const RUN: FinishedRun = {
  id: '20261123T010000-0a1b2c3d',
  started: new Date('2026-11-23T01:00:00.000Z'),
  finished: new Date('2026-11-23T01:02:03.456Z'),
  outcome: 'partial',
  repository: '/srv/backups/repo',
  snapshots: ['aa11', 'bb22'],
  accounts: ['alice@example.com', 'bob@example.com', 'carol@example.com'],
  failedAccounts: ['bob@example.com'],
  items: 1200,
  newItems: 12,
  bytesAdded: 34_567,
};

describe('runPostBackupHook', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailvault-hook-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs the command in the given folder with the run in its environment, without the passphrase', async () => {
    process.env.MAILVAULT_PASSWORD = 'secret';
    try {
      const outcome = await runPostBackupHook(
        'env | grep ^MAILVAULT_ | sort > hook.env; pwd > hook.pwd',
        RUN,
        { cwd: dir },
      );
      expect(outcome).toEqual({
        command: 'env | grep ^MAILVAULT_ | sort > hook.env; pwd > hook.pwd',
        exitCode: 0,
        error: null,
      });
    } finally {
      delete process.env.MAILVAULT_PASSWORD;
    }
    const env = Object.fromEntries(
      (await readFile(join(dir, 'hook.env'), 'utf8'))
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(env).toMatchObject({
      MAILVAULT_RUN_ID: '20261123T010000-0a1b2c3d',
      MAILVAULT_RUN_STARTED: '2026-11-23T01:00:00.000Z',
      MAILVAULT_RUN_FINISHED: '2026-11-23T01:02:03.456Z',
      MAILVAULT_OUTCOME: 'partial',
      MAILVAULT_REPOSITORY: '/srv/backups/repo',
      MAILVAULT_SNAPSHOTS: 'aa11 bb22',
      // Names, as the README says; the counts beside them.
      MAILVAULT_ACCOUNTS: 'alice@example.com bob@example.com carol@example.com',
      MAILVAULT_FAILED_ACCOUNTS: 'bob@example.com',
      MAILVAULT_ACCOUNT_COUNT: '3',
      MAILVAULT_FAILED_ACCOUNT_COUNT: '1',
      MAILVAULT_ITEMS: '1200',
      MAILVAULT_NEW_ITEMS: '12',
      MAILVAULT_BYTES_ADDED: '34567',
    });
    expect(env.MAILVAULT_PASSWORD).toBeUndefined();
    expect(env.MAILVAULT_COMMAND).toBeUndefined();
    expect((await readFile(join(dir, 'hook.pwd'), 'utf8')).trim()).toBe(dir);
  });

  it('passes what the hook prints to the given stream, not to standard output', async () => {
    const output = new PassThrough();
    const chunks: Buffer[] = [];
    output.on('data', (chunk: Buffer) => chunks.push(chunk));
    await runPostBackupHook('echo to-stdout; echo to-stderr >&2', RUN, { cwd: dir, output });
    const text = Buffer.concat(chunks).toString('utf8');
    expect(text).toContain('to-stdout');
    expect(text).toContain('to-stderr');
  });

  it('reports a non-zero exit with the end of its error output', async () => {
    const outcome = await runPostBackupHook(
      'echo "bacula: director unreachable" >&2; exit 4',
      RUN,
      {
        cwd: dir,
      },
    );
    expect(outcome).toEqual({
      command: 'echo "bacula: director unreachable" >&2; exit 4',
      exitCode: 4,
      error: 'hooks.postBackup exited with code 4: bacula: director unreachable',
    });
  });

  it('reports a hook that cannot start', async () => {
    const outcome = await runPostBackupHook('true', RUN, { cwd: join(dir, 'no-such-folder') });
    expect(outcome.exitCode).toBeNull();
    expect(outcome.error).toMatch(/^hooks\.postBackup could not be started: /);
  });

  it('stops a hook that outlives its timeout and says so', async () => {
    const startedAt = Date.now();
    const outcome = await runPostBackupHook('sleep 30', RUN, {
      cwd: dir,
      timeout: { ms: 300, text: '300ms' },
    });
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(outcome.exitCode).toBeNull();
    expect(outcome.error).toMatch(/^hooks\.postBackup timed out after 300ms and was stopped/);
  });
});

describe('repositoryLocation', () => {
  it('strips the password from a URL and keeps the rest', () => {
    expect(repositoryLocation('sftp://backup:s3cret@nas.example:2222/srv/repo', '/etc')).toBe(
      'sftp://backup@nas.example:2222/srv/repo',
    );
    expect(repositoryLocation('s3://bucket/prefix?endpoint=http://minio:9000', '/etc')).toBe(
      's3://bucket/prefix?endpoint=http://minio:9000',
    );
  });

  it('gives a local repository as an absolute path, relative to the configuration folder', () => {
    expect(repositoryLocation('./backups', '/etc/mailvault')).toBe('/etc/mailvault/backups');
    expect(repositoryLocation('/srv/repo', '/etc/mailvault')).toBe('/srv/repo');
    expect(repositoryLocation('file:///srv/my%20repo', '/etc/mailvault')).toBe('/srv/my repo');
  });
});
