// A repository on a remote store is an ordinary repository: on a real OpenSSH server (SFTP) and
// on s3rver (S3), back up an account from Dovecot, verify every object, restore it into another
// account and get the same mail; then, with only the configuration and the passphrase left (the
// catalog thrown away), rebuild the catalog from the remote repository and restore again.
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox, readAccount, type AccountState, mailOf } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { haveS3rver, startS3rver, type S3rverServer } from '../support/s3.js';
import { haveSshd, startSshd, type SshdServer } from '../support/sshd.js';
import { createWorkspace, type Workspace, type WorkspaceOptions } from '../support/workspace.js';

interface Remote {
  name: string;
  available: boolean;
  /** Starts the store and says how the configuration reaches it. */
  start(): Promise<{
    repository: WorkspaceOptions['repository'];
    /** The repository's index folder on the server's disk, where the test can reach it. */
    indexDir?: string;
    stop(): Promise<void>;
  }>;
}

const REMOTES: Remote[] = [
  {
    name: 'SFTP (OpenSSH)',
    available: haveSshd,
    async start() {
      const sshd: SshdServer = await startSshd();
      return {
        repository: {
          url: `sftp://${sshd.user}@127.0.0.1:${sshd.port}${join(sshd.sftpRoot, 'vault')}`,
          extra: [
            `sftp: { keyFile: ${sshd.clientKeyFile}, knownHostsFile: ${sshd.knownHostsFile} }`,
          ],
        },
        indexDir: join(sshd.sftpRoot, 'vault', 'index'),
        stop: () => sshd.stop(),
      };
    },
  },
  {
    name: 'S3 (s3rver)',
    available: haveS3rver,
    async start() {
      const s3: S3rverServer = await startS3rver({ buckets: ['backups'] });
      const keys = join(s3.dir, 'keys');
      await mkdir(keys, { recursive: true });
      await writeFile(join(keys, 'id'), `${s3.accessKeyId}\n`);
      await writeFile(join(keys, 'secret'), `${s3.secretAccessKey}\n`);
      return {
        repository: {
          url: `s3://backups/mail/vault?endpoint=${s3.endpoint}&region=us-east-1&pathStyle=true`,
          extra: [
            `s3: { accessKeyIdFile: ${join(keys, 'id')}, secretAccessKeyFile: ${join(keys, 'secret')} }`,
          ],
        },
        stop: () => s3.stop(),
      };
    },
  },
];

interface BackupJson {
  totals: { items: number; newItems: number };
  storageRequests: { save: number; load: number; stat: number; list: number; remove: number };
}

for (const remote of REMOTES) {
  describe.skipIf(!haveDovecot || !remote.available)(`a repository on ${remote.name}`, () => {
    let server: DovecotServer;
    let ws: Workspace;
    let stopRemote: () => Promise<void> = async () => undefined;
    let before: AccountState;
    let indexDir: string | undefined;

    beforeAll(async () => {
      server = await startDovecot({ users: { alice: 'x', copy: 'x', again: 'x' } });
      const started = await remote.start();
      stopRemote = started.stop;
      indexDir = started.indexDir;
      ws = await createWorkspace(server, {
        accounts: ['alice'],
        repository: started.repository,
      });
      await fillMailbox(server, 'alice', {
        INBOX: generateMessages({ tag: 'in', count: 120, largeEvery: 10 }),
        Archive: generateMessages({ tag: 'ar', count: 60 }),
      });
      before = await readAccount(server, 'alice');
      const init = await ws.run(['init', '--scrypt-cost', '12']);
      expect(init.code, init.stderr).toBe(0);
    }, 120_000);

    afterAll(async () => {
      await server?.stop();
      await stopRemote();
      await ws?.remove();
    });

    it('backs up, verifies every object and restores into another account', async () => {
      const backup = await ws.run(['backup', '--json']);
      expect(backup.code, backup.stderr).toBe(0);
      expect(backup.json<BackupJson>().totals.items).toBe(180);
      const check = await ws.run(['check', '--read-data']);
      expect(check.code, check.stdout + check.stderr).toBe(0);
      const restore = await ws.run(['restore', 'account', 'alice', '--to-account', 'copy']);
      expect(restore.code, restore.stderr).toBe(0);
      expect(mailOf(await readAccount(server, 'copy'))).toEqual(mailOf(before));
    });

    it('costs a handful of requests on a run with no change', async () => {
      const run = await ws.run(['backup', '--json']);
      expect(run.code, run.stderr).toBe(0);
      const { totals, storageRequests } = run.json<BackupJson>();
      expect(totals.newItems).toBe(0);
      const { save, load, stat, list, remove } = storageRequests;
      const requests = save + load + stat + list + remove;
      // The config, keys, index and snapshot files come from the local cache: what is loaded
      // is the pack or two of folder trees the run starts from (14 requests before the cache).
      expect(load).toBeLessThanOrEqual(2);
      expect(requests).toBeLessThan(10);
    });

    it('recovers from the repository alone: catalog rebuilt, account restored', async () => {
      await rm(ws.catalog, { force: true });
      const rebuild = await ws.run(['catalog', 'rebuild']);
      expect(rebuild.code, rebuild.stderr).toBe(0);
      const search = await ws.run(['search', '--account', 'alice', '--json']);
      expect(search.code, search.stderr).toBe(0);
      expect(search.json<unknown[]>().length).toBe(100);
      const restore = await ws.run(['restore', 'account', 'alice', '--to-account', 'again']);
      expect(restore.code, restore.stderr).toBe(0);
      expect(mailOf(await readAccount(server, 'again'))).toEqual(mailOf(before));
    });

    // The SFTP server's disk is this machine's, so the test can damage a file on the remote.
    it.runIf(remote.name.startsWith('SFTP'))(
      'checks what the remote holds, not the local copies, unless told --cached',
      async () => {
        const dir = indexDir ?? '';
        const [name] = await readdir(dir);
        const file = join(dir, name ?? '');
        const good = await readFile(file);
        const damaged = Buffer.from(good);
        damaged[damaged.length - 1] = (damaged.at(-1) ?? 0) ^ 0xff;
        await writeFile(file, damaged);
        try {
          const check = await ws.run(['check']);
          expect(check.code, check.stdout + check.stderr).toBe(1);
          expect(check.stdout + check.stderr).toContain(name);
          const cached = await ws.run(['check', '--cached']);
          expect(cached.code, cached.stdout + cached.stderr).toBe(0);
        } finally {
          await writeFile(file, good);
        }
      },
    );
  });
}
