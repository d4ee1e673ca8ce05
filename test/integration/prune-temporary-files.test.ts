// A save killed before it gave its file its real name leaves a `.tmp-` file behind, in any
// folder of the repository (and in a remote repository's local cache). On a local folder, an
// OpenSSH server (SFTP) and s3rver (S3): leftovers two days old are deleted by `prune` (a dry run
// only names them), one written just now (a save in progress elsewhere) stays, and nothing else
// changes: every repository file is still there and `check --read-data` passes.
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { listRepository } from '../support/repository-files.js';
import { haveS3rver, startS3rver } from '../support/s3.js';
import { makeTempDir, removeTempDir } from '../support/servers.js';
import { haveSshd, startSshd } from '../support/sshd.js';
import {
  createWorkspace,
  shown,
  type Workspace,
  type WorkspaceOptions,
} from '../support/workspace.js';

const TWO_DAYS_AGO = new Date(Date.now() - 2 * 86_400_000);

interface Store {
  /** The workspace's repository settings (undefined: a folder of the workspace). */
  repository?: WorkspaceOptions['repository'];
  /** A file at `path` below the repository, written by the store's own means, with its time. */
  leave(ws: Workspace, path: string, time: Date): Promise<void>;
  /** The paths below the repository of the files the store holds (its own bookkeeping aside). */
  paths(ws: Workspace): Promise<string[]>;
  /** Whether commands reach it through a local cache. */
  cached: boolean;
  stop(): Promise<void>;
}

async function writeOld(path: string, time: Date): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, 'the beginning of a file that was never finished');
  await utimes(path, time, time);
}

const plainPaths = async (root: string): Promise<string[]> =>
  (await listRepository(root)).filter((e) => !e.path.endsWith('/')).map((e) => e.path);

interface StoreKind {
  name: string;
  available: boolean;
  start(): Promise<Store>;
}

const STORES: StoreKind[] = [
  {
    name: 'a local folder',
    available: true,
    start: async () => ({
      leave: (ws, path, time) => writeOld(join(ws.repository, path), time),
      paths: (ws) => plainPaths(ws.repository),
      cached: false,
      stop: async () => undefined,
    }),
  },
  {
    name: 'SFTP (OpenSSH)',
    available: haveSshd,
    async start() {
      const sshd = await startSshd();
      const disk = join(sshd.sftpRoot, 'vault');
      return {
        repository: {
          url: `sftp://${sshd.user}@127.0.0.1:${sshd.port}${disk}`,
          extra: [
            `sftp: { keyFile: ${sshd.clientKeyFile}, knownHostsFile: ${sshd.knownHostsFile} }`,
          ],
        },
        // The server's disk is this machine's.
        leave: (_ws, path, time) => writeOld(join(disk, path), time),
        paths: () => plainPaths(disk),
        cached: true,
        stop: () => sshd.stop(),
      };
    },
  },
  {
    name: 'S3 (s3rver)',
    available: haveS3rver,
    async start() {
      const s3 = await startS3rver({ buckets: ['backups'] });
      const keys = await makeTempDir('s3-keys');
      await writeFile(join(keys, 'id'), `${s3.accessKeyId}\n`);
      await writeFile(join(keys, 'secret'), `${s3.secretAccessKey}\n`);
      // s3rver keeps an object as the file <bucket>/<key>._S3rver_object, and gives its time.
      const disk = join(s3.dir, 'backups', 'vault');
      const suffix = '._S3rver_object';
      return {
        repository: {
          url: `s3://backups/vault?endpoint=${s3.endpoint}&region=us-east-1&pathStyle=true`,
          extra: [
            `s3: { accessKeyIdFile: ${join(keys, 'id')}, secretAccessKeyFile: ${join(keys, 'secret')} }`,
          ],
        },
        async leave(_ws, path, time) {
          await s3.client.send(
            new PutObjectCommand({ Bucket: 'backups', Key: `vault/${path}`, Body: 'half' }),
          );
          await utimes(join(disk, `${path}${suffix}`), time, time);
        },
        paths: async () =>
          (await plainPaths(disk))
            .filter((path) => path.endsWith(suffix))
            .map((path) => path.slice(0, -suffix.length)),
        cached: true,
        async stop() {
          await s3.stop();
          await removeTempDir(keys);
        },
      };
    },
  },
];

interface PruneJson {
  temporaryFiles: { remove: Array<{ path: string; bytes: number }>; waiting: number };
  outcome: { temporaryFilesRemoved: number; temporaryBytesRemoved: number } | null;
}

for (const kind of STORES) {
  describe.skipIf(!haveDovecot || !kind.available)(`prune on ${kind.name}`, () => {
    let server: DovecotServer;
    let store: Store;
    let ws: Workspace;

    beforeAll(async () => {
      server = await startDovecot({ users: { alice: 'a' } });
      store = await kind.start();
      ws = await createWorkspace(server, {
        accounts: ['alice'],
        ...(store.repository ? { repository: store.repository } : {}),
      });
      await fillMailbox(server, 'alice', {
        INBOX: generateMessages({ tag: 'leftovers', count: 20, largeEvery: 5 }),
      });
      expect((await ws.run(['init', '--scrypt-cost', '10'])).code).toBe(0);
      const backup = await ws.run(['backup']);
      expect(backup.code, shown(backup)).toBe(0);
    }, 120_000);

    afterAll(async () => {
      await server?.stop();
      await store?.stop();
      await ws?.remove();
    });

    it('deletes the temporary files interrupted saves left long ago, and only those', async () => {
      const real = (await store.paths(ws)).sort();
      const pack = real.find((path) => path.startsWith('data/')) ?? '';
      const packFolder = pack.slice(0, 'data/xx'.length);
      const old = [
        '.tmp-0a1b2c3d4e5f6071',
        'index/.tmp-1a1b2c3d4e5f6071',
        'snapshots/.tmp-2a1b2c3d4e5f6071',
        `${packFolder}/.tmp-3a1b2c3d4e5f6071`,
      ];
      for (const path of old) await store.leave(ws, path, TWO_DAYS_AGO);
      const fresh = `${packFolder}/.tmp-4a1b2c3d4e5f6071`;
      await store.leave(ws, fresh, new Date());
      // A remote repository's cache: a copy its process never renamed.
      let cacheLeftover: string | undefined;
      if (store.cached) {
        const cacheRoot = join(ws.dir, 'mailvault-cache');
        const [folder] = await readdir(cacheRoot);
        cacheLeftover = join(cacheRoot, folder ?? '', 'files', 'index', '.tmp-5a1b2c3d4e5f');
        await writeOld(cacheLeftover, TWO_DAYS_AGO);
      }
      const leftovers = [...old, ...(cacheLeftover ? [cacheLeftover] : [])];

      const dry = await ws.run(['prune', '--dry-run', '--json']);
      expect(dry.code, shown(dry)).toBe(0);
      const planned = dry.json<PruneJson>().temporaryFiles;
      expect(planned.remove.map((file) => file.path).sort()).toEqual([...leftovers].sort());
      expect(planned.waiting).toBe(1);
      expect(dry.json<PruneJson>().outcome).toBeNull();
      expect((await store.paths(ws)).sort()).toEqual([...real, ...old, fresh].sort());

      const prune = await ws.run(['prune', '--json']);
      expect(prune.code, shown(prune)).toBe(0);
      expect(prune.json<PruneJson>().outcome?.temporaryFilesRemoved).toBe(leftovers.length);
      // (the S3 leftovers weigh 4 bytes, the others 48)
      expect(prune.json<PruneJson>().outcome?.temporaryBytesRemoved).toBeGreaterThan(0);
      expect((await store.paths(ws)).sort()).toEqual([...real, fresh].sort());
      if (cacheLeftover)
        expect(await readdir(join(cacheLeftover, '..'))).not.toContain('.tmp-5a1b2c3d4e5f');

      const said = await ws.run(['prune']);
      expect(said.code, shown(said)).toBe(0);
      expect(said.stdout).toContain(
        'temporary files left by interrupted writes: 0 were deleted, 0 B freed; 1 written within the grace period left (a backup may be writing them)',
      );
      const check = await ws.run(['check', '--read-data']);
      expect(check.code, shown(check)).toBe(0);
    }, 120_000);
  });
}
