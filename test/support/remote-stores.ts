// Remote repositories for tests where the remote goes away and comes back: a real OpenSSH
// server (SFTP) and s3rver (S3), each started on a port of its own that it keeps across a
// shutDown() and a startAgain(), with a look at what it stores taken from its disk (which works
// while the server is down).
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { haveS3rver } from './s3.js';
import { startRestartableS3 } from './restartable-s3.js';
import { haveSshd, startSshd } from './sshd.js';
import type { WorkspaceOptions } from './workspace.js';

export type StoredKind = 'data' | 'index' | 'snapshots';

export interface RemoteStore {
  /** The workspace's `repository` settings for a repository named `name` on this store. */
  repository(name: string, extra?: string[]): NonNullable<WorkspaceOptions['repository']>;
  /** The real-named files of a kind in repository `name`, as the store's disk holds them. */
  files(name: string, kind: StoredKind): Promise<string[]>;
  /** Closes the port and drops every connection; the files stay. */
  shutDown(): Promise<void>;
  startAgain(): Promise<void>;
  stop(): Promise<void>;
}

export interface RemoteKind {
  name: string;
  available: boolean;
  start(): Promise<RemoteStore>;
}

const REAL_NAME = /^[0-9a-f]{64}$/;

/** Files below `folder` (and one level of sub-folders for packs) whose name, suffix cut, is real. */
async function realNames(folder: string, kind: StoredKind, suffix = ''): Promise<string[]> {
  const folders =
    kind === 'data'
      ? (await readdir(join(folder, 'data')).catch(() => [])).map((sub) =>
          join(folder, 'data', sub),
        )
      : [join(folder, kind)];
  const names: string[] = [];
  for (const dir of folders) {
    for (const file of await readdir(dir).catch(() => [])) {
      const name = suffix && file.endsWith(suffix) ? file.slice(0, -suffix.length) : file;
      if ((suffix === '' || file.endsWith(suffix)) && REAL_NAME.test(name)) names.push(name);
    }
  }
  return names.sort();
}

export const REMOTE_KINDS: RemoteKind[] = [
  {
    name: 'SFTP (OpenSSH)',
    available: haveSshd,
    async start() {
      const sshd = await startSshd();
      return {
        repository: (name, extra = []) => ({
          url: `sftp://${sshd.user}@127.0.0.1:${sshd.port}${join(sshd.sftpRoot, name)}`,
          extra: [
            `sftp: { keyFile: ${sshd.clientKeyFile}, knownHostsFile: ${sshd.knownHostsFile} }`,
            ...extra,
          ],
        }),
        files: (name, kind) => realNames(join(sshd.sftpRoot, name), kind),
        shutDown: () => sshd.shutDown(),
        startAgain: () => sshd.startAgain(),
        stop: () => sshd.stop(),
      };
    },
  },
  {
    name: 'S3 (s3rver)',
    available: haveS3rver,
    async start() {
      const s3 = await startRestartableS3({ buckets: ['backups'] });
      const keys = join(s3.dir, 'keys');
      await mkdir(keys, { recursive: true });
      await writeFile(join(keys, 'id'), `${s3.accessKeyId}\n`);
      await writeFile(join(keys, 'secret'), `${s3.secretAccessKey}\n`);
      return {
        repository: (name, extra = []) => ({
          url: `s3://backups/${name}?endpoint=${s3.endpoint}&region=us-east-1&pathStyle=true`,
          extra: [
            `s3: { accessKeyIdFile: ${join(keys, 'id')}, secretAccessKeyFile: ${join(keys, 'secret')} }`,
            ...extra,
          ],
        }),
        // s3rver keeps an object as the file <bucket>/<key>._S3rver_object.
        files: (name, kind) => realNames(join(s3.dir, 'backups', name), kind, '._S3rver_object'),
        shutDown: () => s3.shutDown(),
        startAgain: () => s3.startAgain(),
        stop: () => s3.stop(),
      };
    },
  },
];
