// What mailvault writes that holds mail or secrets is its owner's alone, whatever the umask: a
// real backup from Dovecot, under umask 022 and 000, leaves the catalog (with its write-ahead
// log and shared-memory files while it is open), the log file, every kind of export, a support
// bundle and the cache of an S3 repository at 0600 for files and 0700 for the folders mailvault
// made; and files an earlier version left open to others are tightened, each named in a warning
// with the mode it had.
import { spawn, type ChildProcess } from 'node:child_process';
import { lstatSync, readdirSync, statSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox } from '../support/imap-fixture.js';
import { haveS3rver, startS3rver, type S3rverServer } from '../support/s3.js';
import { makeTempDir, removeTempDir } from '../support/servers.js';
import { MAILVAULT_BIN, shown, type CliResult } from '../support/workspace.js';

const mode = (path: string): string => `0${(statSync(path).mode & 0o777).toString(8)}`;

/** Every folder and file below `root` (itself included) with its mode, as `path mode` lines. */
function modesBelow(root: string): string[] {
  const out: string[] = [];
  const visit = (path: string): void => {
    const stats = lstatSync(path);
    out.push(
      `${path} ${stats.isDirectory() ? 'dir' : 'file'} 0${(stats.mode & 0o777).toString(8)}`,
    );
    if (stats.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(root);
  return out;
}

/** The entries of modesBelow that are not private: files not 0600, folders not 0700. */
const notPrivate = (root: string): string[] =>
  modesBelow(root).filter((line) => !(line.endsWith(' file 0600') || line.endsWith(' dir 0700')));

/** The CLI started under a umask, as an administrator's shell would start it. */
function start(umask: string, config: string, args: string[]): ChildProcess {
  const env = { ...process.env };
  delete env.MAILVAULT_PASSWORD;
  delete env.MAILVAULT_CONFIG;
  return spawn(
    '/bin/sh',
    [
      '-c',
      'umask "$0" && exec "$@"',
      umask,
      process.execPath,
      MAILVAULT_BIN,
      '--config',
      config,
      '--no-progress',
      ...args,
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

function finished(child: ChildProcess): Promise<CliResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (data: Buffer) => out.push(data));
  child.stderr?.on('data', (data: Buffer) => err.push(data));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString();
      resolve({
        code,
        stdout,
        stderr: Buffer.concat(err).toString(),
        json: <T>() => JSON.parse(stdout) as T,
      });
    });
  });
}

const run = (umask: string, config: string, args: string[]): Promise<CliResult> =>
  finished(start(umask, config, args));

/**
 * Runs the CLI and records the modes `paths` have while it runs (the catalog's -wal and -shm
 * files exist only while it is open): the first mode each was seen with.
 */
async function runWatching(
  umask: string,
  config: string,
  args: string[],
  paths: string[],
): Promise<{ result: CliResult; seen: Map<string, string> }> {
  const child = start(umask, config, args);
  const result = finished(child);
  const seen = new Map<string, string>();
  let running = true;
  void result.then(() => (running = false));
  while (running) {
    for (const path of paths) {
      if (seen.has(path)) continue;
      try {
        seen.set(path, mode(path));
      } catch {
        // not there yet
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { result: await result, seen };
}

describe.skipIf(!haveDovecot || !haveS3rver)('files that hold mail or secrets', () => {
  let server: DovecotServer;
  let s3: S3rverServer;
  let dir: string;

  beforeAll(async () => {
    server = await startDovecot();
    s3 = await startS3rver({ buckets: ['backups'] });
    dir = await makeTempDir('private');
    const message = (n: number): Uint8Array =>
      Buffer.from(
        `From: Carol <carol@example.com>\r\nTo: alice@example.com\r\nSubject: Salary review ${n}\r\n` +
          `Message-ID: <private-${n}@example.com>\r\nDate: Mon, 3 Mar 2025 10:0${n}:00 +0000\r\n\r\n` +
          `The figures for ${n} are attached.\r\n`,
      );
    await fillMailbox(server, 'alice', {
      INBOX: [{ raw: message(1), flags: ['\\Seen', 'Confidential'] }, { raw: message(2) }],
      'Projects/Merger': [{ raw: message(3) }],
    });
    await writeFile(join(dir, 'repo.pass'), 'correct horse battery staple\n');
    await writeFile(join(dir, 'admin.pass'), `${server.master.password}\n`);
    await writeFile(join(dir, 's3.id'), `${s3.accessKeyId}\n`);
    await writeFile(join(dir, 's3.secret'), `${s3.secretAccessKey}\n`);
    await mkdir(join(dir, 'etc/app'), { recursive: true });
    await writeFile(join(dir, 'etc/app/app.conf'), 'listen = 127.0.0.1\npassword = hunter2\n');
  });

  afterAll(async () => {
    await server?.stop();
    await s3?.stop();
    if (dir) await removeTempDir(dir);
  });

  /** A configuration whose catalog, log and (remote repositories') cache are in folders yet to be made. */
  async function configure(name: string, repository: string[]): Promise<string> {
    const config = join(dir, `${name}.yml`);
    const base = join(dir, name);
    await writeFile(
      config,
      [
        'repository:',
        ...repository.map((line) => `  ${line}`),
        `  passwordFile: ${join(dir, 'repo.pass')}`,
        `catalog: { url: ${join(base, 'state', 'catalog.sqlite')} }`,
        `logging: { file: ${join(base, 'logs', 'mailvault.log')}, level: debug }`,
        'servers:',
        '  - name: mail1',
        `    imap: { host: ${server.host}, port: ${server.port}, tls: none, auth: { mode: authzid, user: ${server.master.user}, passwordFile: ${join(dir, 'admin.pass')} } }`,
        '    accounts: { list: [alice] }',
        'files:',
        `  - { name: app-conf, include: [${join(dir, 'etc/app')}] }`,
        '',
      ].join('\n'),
    );
    return config;
  }

  it.each(['022', '000'])(
    'under umask %s: the catalog and its WAL, the log, exports and support bundles are 0600 in 0700 folders',
    async (umask) => {
      const name = `local-${umask}`;
      const config = await configure(name, [`url: ${join(dir, name, 'repo')}`]);
      const state = join(dir, name, 'state');
      const catalog = join(state, 'catalog.sqlite');
      expect((await run(umask, config, ['init', '--scrypt-cost', '10'])).code).toBe(0);

      const { result, seen } = await runWatching(
        umask,
        config,
        ['backup'],
        [`${catalog}-wal`, `${catalog}-shm`],
      );
      expect(result.code, shown(result)).toBe(0);
      expect(Object.fromEntries(seen)).toEqual({
        [`${catalog}-wal`]: '0600',
        [`${catalog}-shm`]: '0600',
      });
      expect(mode(state)).toBe('0700');
      expect(mode(catalog)).toBe('0600');
      const logs = join(dir, name, 'logs');
      expect(mode(logs)).toBe('0700');
      expect(mode(join(logs, 'mailvault.log'))).toBe('0600');

      const exports = join(dir, name, 'exports');
      const exported = async (args: string[]): Promise<void> => {
        const done = await run(umask, config, ['export', 'alice', ...args]);
        expect(done.code, shown(done)).toBe(0);
      };
      await exported(['--format', 'mbox', '--output', join(exports, 'mbox')]);
      await exported([
        ...['--format', 'mbox', '--folder', 'INBOX', '--output', join(exports, 'inbox.mbox')],
      ]);
      await exported(['--format', 'maildir', '--output', join(exports, 'maildir')]);
      await exported(['--format', 'eml', '--output', join(exports, 'eml')]);
      await exported(['--format', 'eml', '--all-versions', '--output', join(exports, 'all.zip')]);
      const bundle = await run(umask, config, [
        'support-bundle',
        '--output',
        join(exports, 'bundle.zip'),
      ]);
      expect(bundle.code, shown(bundle)).toBe(0);
      expect(readdirSync(exports).sort()).toEqual([
        'all.zip',
        'all.zip.manifest.csv',
        'all.zip.manifest.json',
        'bundle.zip',
        'eml',
        'inbox.mbox',
        'maildir',
        'mbox',
      ]);
      expect(modesBelow(exports).length).toBeGreaterThan(20);
      expect(notPrivate(exports)).toEqual([]);
    },
    300_000,
  );

  it.each(['022', '000'])(
    "under umask %s: a remote repository's cache is 0600 files in 0700 folders",
    async (umask) => {
      const name = `s3-${umask}`;
      const config = await configure(name, [
        `url: s3://backups/${name}?endpoint=${s3.endpoint}&region=us-east-1&pathStyle=true`,
        `s3: { accessKeyIdFile: ${join(dir, 's3.id')}, secretAccessKeyFile: ${join(dir, 's3.secret')} }`,
      ]);
      expect((await run(umask, config, ['init', '--scrypt-cost', '10'])).code).toBe(0);
      const backup = await run(umask, config, ['backup']);
      expect(backup.code, shown(backup)).toBe(0);
      const cache = join(dir, name, 'state', 'mailvault-cache');
      const entries = modesBelow(cache);
      // The folder of the repository, its location label, kept key, index and snapshot files.
      expect(entries.some((line) => /\/location file /.test(line))).toBe(true);
      expect(entries.some((line) => /\/files\/snapshots\/[0-9a-f]+ file /.test(line))).toBe(true);
      expect(notPrivate(cache)).toEqual([]);
    },
    300_000,
  );

  it('tightens a catalog, its leftover WAL, a log and a cache an earlier version left open, naming each with its mode', async () => {
    const name = 'older';
    const config = await configure(name, [
      `url: s3://backups/${name}?endpoint=${s3.endpoint}&region=us-east-1&pathStyle=true`,
      `s3: { accessKeyIdFile: ${join(dir, 's3.id')}, secretAccessKeyFile: ${join(dir, 's3.secret')} }`,
    ]);
    expect((await run('022', config, ['init', '--scrypt-cost', '10'])).code).toBe(0);
    expect((await run('022', config, ['backup'])).code).toBe(0);
    const state = join(dir, name, 'state');
    const catalog = join(state, 'catalog.sqlite');
    const log = join(dir, name, 'logs', 'mailvault.log');
    const cache = join(state, 'mailvault-cache');
    const [folder] = readdirSync(cache);
    const repositoryCache = join(cache, folder ?? '');
    // As an earlier version (or a crash) left them: a catalog with its write-ahead log, still
    // open in another process, and the log and cache readable by all.
    const other = new Database(catalog);
    try {
      other.pragma('journal_mode = WAL');
      other.exec("INSERT INTO catalog_meta (key, value) VALUES ('privacy-test', 'x')");
      await chmod(catalog, 0o644);
      await chmod(`${catalog}-wal`, 0o644);
      await chmod(`${catalog}-shm`, 0o644);
      await chmod(log, 0o664);
      await chmod(repositoryCache, 0o755);
      await chmod(join(repositoryCache, 'location'), 0o644);

      const result = await run('022', config, ['snapshots']);
      expect(result.code, shown(result)).toBe(0);
      const warnings = result.stderr.split('\n').filter((line) => line.includes('other users'));
      expect(warnings.sort()).toEqual(
        [
          `mailvault: warning: the catalog ${catalog} could be read by other users (mode 0644); it is now 0600, its owner's alone`,
          `mailvault: warning: the catalog file ${catalog}-wal could be read by other users (mode 0644); it is now 0600, its owner's alone`,
          `mailvault: warning: the catalog file ${catalog}-shm could be read by other users (mode 0644); it is now 0600, its owner's alone`,
          `mailvault: warning: the log file ${log} could be read by other users (mode 0664); it is now 0600, its owner's alone`,
          `mailvault: warning: the cache folder ${repositoryCache} could be read by other users (mode 0755); it is now 0700, its owner's alone`,
          `mailvault: warning: the cache file ${join(repositoryCache, 'location')} could be read by other users (mode 0644); it is now 0600, its owner's alone`,
        ].sort(),
      );
      expect([catalog, `${catalog}-wal`, `${catalog}-shm`, log].map(mode)).toEqual([
        '0600',
        '0600',
        '0600',
        '0600',
      ]);
      expect(mode(repositoryCache)).toBe('0700');

      // Once private, nothing more is said.
      const again = await run('022', config, ['snapshots']);
      expect(again.code).toBe(0);
      expect(again.stderr).not.toMatch(/other users/);
    } finally {
      other.close();
    }
  }, 300_000);
});
