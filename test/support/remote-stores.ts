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

export type StoredKind = 'data' | 'index' | 'snapshots' | 'runs';

export interface RemoteStore {
  /** The workspace's `repository` settings for a repository named `name` on this store. */
  repository(name: string, extra?: string[]): NonNullable<WorkspaceOptions['repository']>;
  /** The real-named files of a kind in repository `name`, as the store's disk holds them. */
  files(name: string, kind: StoredKind): Promise<string[]>;
  /** How many packs of repository `name` are arriving at this moment (written, not whole). */
  packsArriving(name: string): Promise<number>;
  /** Closes the port and drops every connection; the files stay. */
  shutDown(): Promise<void>;
  startAgain(): Promise<void>;
  /** Stops the server's processes without closing anything (SIGSTOP), until `thaw`. */
  freeze(): void;
  thaw(): void;
  stop(): Promise<void>;
}

export interface RemoteKind {
  name: string;
  available: boolean;
  start(): Promise<RemoteStore>;
}

const REAL_NAME = /^[0-9a-f]{64}$/;

/**
 * Files below `folder` (and one level of sub-folders for packs) whose name, with the object
 * suffix cut, is real and whose upload is complete (with the `complete` file beside them).
 */
async function realNames(
  folder: string,
  kind: StoredKind,
  suffixes?: { object: string; complete: string },
): Promise<string[]> {
  const folders =
    kind === 'data'
      ? (await readdir(join(folder, 'data')).catch(() => [])).map((sub) =>
          join(folder, 'data', sub),
        )
      : [join(folder, kind)];
  const names: string[] = [];
  for (const dir of folders) {
    const files = new Set(await readdir(dir).catch(() => []));
    for (const file of files) {
      if (!suffixes) {
        if (REAL_NAME.test(file)) names.push(file);
        continue;
      }
      if (!file.endsWith(suffixes.object)) continue;
      const name = file.slice(0, -suffixes.object.length);
      if (REAL_NAME.test(name) && files.has(`${name}${suffixes.complete}`)) names.push(name);
    }
  }
  return names.sort();
}

/** Files in the sub-folders of `folder` that `matches` (given the other names of their folder). */
async function countIn(
  folder: string,
  matches: (file: string, all: ReadonlySet<string>) => boolean,
): Promise<number> {
  let count = 0;
  for (const sub of await readdir(folder).catch(() => [])) {
    const files = new Set(await readdir(join(folder, sub)).catch(() => []));
    for (const file of files) if (matches(file, files)) count++;
  }
  return count;
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
        // The SFTP backend writes a .tmp- file and renames it once whole.
        packsArriving: (name) =>
          countIn(join(sshd.sftpRoot, name, 'data'), (file) => file.startsWith('.tmp-')),
        shutDown: () => sshd.shutDown(),
        startAgain: () => sshd.startAgain(),
        freeze: () => sshd.freeze(),
        thaw: () => sshd.thaw(),
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
        // s3rver keeps an object as the file <bucket>/<key>._S3rver_object, written as it
        // arrives, and its metadata file once it is whole.
        files: (name, kind) =>
          realNames(join(s3.dir, 'backups', name), kind, {
            object: '._S3rver_object',
            complete: '._S3rver_metadata.json',
          }),
        packsArriving: async (name) =>
          await countIn(
            join(s3.dir, 'backups', name, 'data'),
            (file, all) =>
              file.endsWith('._S3rver_object') &&
              !all.has(file.replace(/_object$/, '_metadata.json')),
          ),
        shutDown: () => s3.shutDown(),
        startAgain: () => s3.startAgain(),
        freeze: () => s3.freeze(),
        thaw: () => s3.thaw(),
        stop: () => s3.stop(),
      };
    },
  },
];
