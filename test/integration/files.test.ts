// File sets end to end, through the real CLI and without a mail server: a tree with odd names,
// permissions, symlinks, empty directories and a 20 MB file is backed up, changed, backed up
// again; the first state is restored and compared entry by entry (content, mode, mtime, owner,
// link targets), one path alone, over existing files with and without --force, into the default
// directory; and a support bundle is checked for what it redacts and leaves out.
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import {
  chmod,
  chown,
  lchown,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  readlink,
  rm,
  rmdir,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../support/servers.js';
import { MAILVAULT_BIN, runCli, type CliResult } from '../support/workspace.js';
import { zipEntries } from '../support/zip-entries.js';

const isRoot = process.getuid?.() === 0;
const BIG = 20 * 1024 * 1024;

interface EntryState {
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  /** Nanoseconds, as the backup recorded them. */
  mtimeNs: bigint;
  uid: number;
  gid: number;
  size: number;
  sha256: string | null;
  target: string | null;
}

/** Every entry below `root`, by path relative to it. */
async function snapshotOf(root: string): Promise<Map<string, EntryState>> {
  const out = new Map<string, EntryState>();
  const visit = async (path: string, relative: string): Promise<void> => {
    const stats = await lstat(path, { bigint: true });
    const type = stats.isDirectory() ? 'dir' : stats.isSymbolicLink() ? 'symlink' : 'file';
    out.set(relative, {
      type,
      mode: Number(stats.mode & 0o7777n),
      mtimeNs: stats.mtimeNs,
      uid: Number(stats.uid),
      gid: Number(stats.gid),
      size: type === 'file' ? Number(stats.size) : 0,
      sha256:
        type === 'file'
          ? createHash('sha256')
              .update(await readFile(path))
              .digest('hex')
          : null,
      target: type === 'symlink' ? await readlink(path) : null,
    });
    if (type === 'dir')
      for (const name of await readdir(path)) await visit(join(path, name), `${relative}/${name}`);
  };
  await visit(root, '');
  return out;
}

/** The CLI run in a given working directory (where the default restore directory goes). */
function runIn(cwd: string, config: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.MAILVAULT_PASSWORD;
    delete env.MAILVAULT_CONFIG;
    const child = spawn(
      process.execPath,
      [MAILVAULT_BIN, '--config', config, '--no-progress', ...args],
      { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (data: Buffer) => out.push(data));
    child.stderr.on('data', (data: Buffer) => err.push(data));
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

interface BackupJson {
  sets: Array<{ name: string; ok: boolean; items: number; bytesRead: number; bytesAdded: number }>;
  failures: Array<{ folder?: string; reason: string }>;
}

interface RestoreJson {
  sets: Array<{
    set: string;
    target: string;
    restored: number;
    alreadyPresent: number;
    skipped: number;
    failed: number;
    items: Array<{ path: string; outcome: string; reason: string }>;
    notes: string[];
  }>;
}

const ODD_NAMES = [
  'with space.conf',
  'line\nbreak.conf',
  'grüße-日本.conf',
  '-leading-dash.conf',
  '--',
  ' leading and trailing ',
];

describe('file sets: backup, restore and support bundle', () => {
  let dir: string;
  let config: string;
  let server: string;
  let app: string;
  let firstState: Map<string, EntryState>;
  let between: string;
  let firstBackup: BackupJson;
  let secondBackup: BackupJson;
  const cli = (...args: string[]): Promise<CliResult> =>
    runCli(config, args, { timeoutMs: 300_000 });

  beforeAll(async () => {
    dir = await makeTempDir('files');
    server = join(dir, 'server');
    app = join(server, 'etc/app');
    await mkdir(join(app, 'bin'), { recursive: true });
    await mkdir(join(app, 'empty'));
    await mkdir(join(app, 'nested/empty-too'), { recursive: true });
    await mkdir(join(app, 'shared'));
    await chmod(join(app, 'shared'), 0o2775);
    await mkdir(join(server, 'etc/ssl/private'), { recursive: true });
    await mkdir(join(server, 'etc/ssl/certs'), { recursive: true });

    await writeFile(
      join(app, 'app.conf'),
      'listen = 0.0.0.0\npassword = hunter2\npassword_scheme = SHA512-CRYPT\n',
    );
    await writeFile(join(app, 'sql.conf'), 'connect = host=db user=mail password=sqlsecret\n');
    await writeFile(join(app, 'secret.conf'), 'token: abc\n', { mode: 0o600 });
    await chmod(join(app, 'secret.conf'), 0o600);
    await writeFile(join(app, 'bin/run.sh'), '#!/bin/sh\necho run\n');
    await chmod(join(app, 'bin/run.sh'), 0o755);
    await writeFile(join(app, 'shared/notes.txt'), 'shared notes\n');
    await writeFile(join(app, 'app.conf.bak'), 'excluded\n');
    await writeFile(join(app, '.app.conf.swp'), 'excluded\n');
    for (const name of ODD_NAMES) await writeFile(join(app, name), `content of ${name}\n`);
    await symlink('app.conf', join(app, 'link-relative'));
    await symlink(join(app, 'app.conf'), join(app, 'link-absolute'));
    await symlink('nowhere/at/all', join(app, 'link-dangling'));
    await writeFile(join(app, 'big.bin'), randomBytes(BIG));
    const certificate =
      '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n';
    const key = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----\n';
    await writeFile(join(server, 'etc/ssl/private/mail.key'), key, { mode: 0o600 });
    await writeFile(join(server, 'etc/ssl/certs/mail.pem'), certificate);
    await writeFile(join(server, 'etc/ssl/certs/combined.pem'), certificate + key);
    if (isRoot) {
      await chown(join(app, 'secret.conf'), 1234, 5678);
      await chown(join(app, 'shared'), 0, 5678);
      await lchown(join(app, 'link-relative'), 1234, 1234);
    }
    // Times with nanoseconds, on files, directories and links: set by touch, as Node's utimes
    // keeps no more than microseconds (everything else has the kernel's own nanoseconds).
    const stamp = (path: string, offset: number): void => {
      execFileSync('touch', ['-h', '-d', `@${1_700_000_000 + offset}.123456789`, '--', path]);
    };
    stamp(join(app, 'app.conf'), 1);
    stamp(join(app, 'bin/run.sh'), 2);
    stamp(join(app, 'link-relative'), 3);
    stamp(join(app, 'empty'), 4);
    stamp(join(app, 'bin'), 5);

    await writeFile(join(dir, 'repo.pass'), 'correct horse battery staple\n');
    config = join(dir, 'mailvault.yml');
    await writeFile(
      config,
      [
        'repository:',
        `  url: ${join(dir, 'repo')}`,
        `  passwordFile: ${join(dir, 'repo.pass')}`,
        'catalog:',
        `  url: ${join(dir, 'catalog.sqlite')}`,
        'servers: []',
        'files:',
        '  - name: server-conf',
        `    include: [${JSON.stringify(app)}, ${JSON.stringify(join(server, 'etc/ssl'))}]`,
        `    exclude: ["*.swp", "re:\\\\.bak$"]`,
        '  - name: nothing-there',
        `    include: [${JSON.stringify(join(server, 'no/such/dir'))}]`,
        '',
      ].join('\n'),
    );
    expect((await cli('init', '--scrypt-cost', '10')).code).toBe(0);
  });

  afterAll(async () => {
    if (dir) await removeTempDir(dir);
  });

  it('backs up the tree, leaving out what the excludes match', async () => {
    firstState = await snapshotOf(server);
    const result = await cli('--json', 'backup', 'server-conf');
    expect(result.code, result.stderr).toBe(0);
    firstBackup = result.json<BackupJson>();
    const set = firstBackup.sets[0];
    expect(set).toMatchObject({ name: 'server-conf', ok: true });
    expect(set?.bytesRead).toBeGreaterThan(BIG);
    expect(firstBackup.failures).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    between = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 20));
  });

  it('fails a set where nothing can be read, saying which path', async () => {
    const result = await cli('backup', 'nothing-there');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/nothing-there.*no\/such\/dir.*does not exist/);
  });

  it('stores only what changed when a large file changes a little', async () => {
    const handle = await open(join(app, 'big.bin'), 'r+');
    await handle.write(Buffer.from('a small change in the middle of a large file'), 0, 44, BIG / 2);
    await handle.close();
    await writeFile(join(app, 'app.conf'), 'listen = 127.0.0.1\npassword = hunter3\n');
    await chmod(join(app, 'bin/run.sh'), 0o700);
    await unlink(join(app, 'with space.conf'));
    await unlink(join(app, 'link-absolute'));
    await rmdir(join(app, 'nested/empty-too'));
    await writeFile(join(app, 'new.conf'), 'new\n');

    const result = await cli('--json', 'backup', 'server-conf');
    expect(result.code, result.stderr).toBe(0);
    secondBackup = result.json<BackupJson>();
    const set = secondBackup.sets[0];
    // The 20 MB file is read again, but only its changed chunks and the changed trees are added.
    expect(set?.bytesRead).toBeGreaterThan(BIG);
    expect(set?.bytesRead).toBeLessThan(BIG + 1024 * 1024);
    expect(set?.bytesAdded).toBeLessThan(BIG / 10);
    console.log(
      `file set backups: first added ${firstBackup.sets[0]?.bytesAdded} bytes, second (20 MB file changed in 44 bytes) added ${set?.bytesAdded} bytes`,
    );
  });

  it('is read back whole by check --read-data, which walks file sets too', async () => {
    const result = await cli('--json', 'check', '--read-data');
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const report = result.json<{ ok: boolean; stats: { snapshots: number } }>();
    expect(report.ok).toBe(true);
    expect(report.stats.snapshots).toBeGreaterThanOrEqual(2);
  });

  it('restores the first state into a target, entry by entry as it was', async () => {
    const target = join(dir, 'restore-first');
    const result = await cli('--json', 'restore', 'files', '--at', between, '--target', target);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const report = result.json<RestoreJson>().sets[0];
    expect(report).toMatchObject({ set: 'server-conf', skipped: 0, failed: 0, alreadyPresent: 0 });
    expect(report?.notes).toEqual(
      isRoot ? [] : [expect.stringMatching(/owners and groups were not restored/)],
    );

    const restored = await snapshotOf(join(target, server));
    const expected = new Map(
      [...firstState].filter(
        ([path]) =>
          path === '' ||
          path === '/etc' ||
          path.startsWith('/etc/app') ||
          path.startsWith('/etc/ssl'),
      ),
    );
    expected.delete('/etc/app/app.conf.bak');
    expected.delete('/etc/app/.app.conf.swp');
    expect([...restored.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [path, before] of expected) expect(restored.get(path), path).toEqual(before);
    expect(expected.size).toBeGreaterThan(25);
    if (isRoot) {
      expect(restored.get('/etc/app/secret.conf')).toMatchObject({ uid: 1234, gid: 5678 });
      expect(restored.get('/etc/app/link-relative')).toMatchObject({ uid: 1234, gid: 1234 });
    }
    expect(restored.get('/etc/app/shared')?.mode).toBe(0o2775);
    expect(restored.get('/etc/app/secret.conf')?.mode).toBe(0o600);
    expect(restored.get('/etc/app/link-dangling')?.target).toBe('nowhere/at/all');
    expect(restored.get('/etc/app/link-absolute')?.target).toBe(join(app, 'app.conf'));
    expect(restored.get('/etc/app/nested/empty-too')?.type).toBe('dir');
    expect(restored.get('/etc/app/app.conf')?.mtimeNs).toBe(1_700_000_001_123_456_789n);
    expect(restored.get('/etc/app/link-relative')?.mtimeNs).toBe(1_700_000_003_123_456_789n);
    expect(restored.get('/etc/app/bin')?.mtimeNs).toBe(1_700_000_005_123_456_789n);
    for (const name of ODD_NAMES) expect(restored.has(`/etc/app/${name}`), name).toBe(true);
    // Never a temporary file left behind.
    expect([...restored.keys()].some((path) => path.includes('.mailvault-restore-'))).toBe(false);
  });

  it('restores one path alone, with the directories on the way', async () => {
    const target = join(dir, 'restore-one');
    const result = await cli(
      '--json',
      'restore',
      'files',
      join(app, 'bin'),
      '--at',
      between,
      '--target',
      target,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.json<RestoreJson>().sets[0]).toMatchObject({ restored: 2, skipped: 0 });
    const restored = await snapshotOf(join(target, app));
    expect([...restored.keys()].sort()).toEqual(['', '/bin', '/bin/run.sh']);
    expect(restored.get('/bin/run.sh')?.mode).toBe(0o755);
    expect(existsSync(join(target, app, 'app.conf'))).toBe(false);
  });

  it('leaves existing files alone without --force (exit 3), replaces them with it', async () => {
    const target = join(dir, 'restore-first');
    const kept = await cli('--json', 'restore', 'files', '--target', target);
    expect(kept.code).toBe(3);
    const report = kept.json<RestoreJson>().sets[0];
    const skipped = report?.items.filter((item) => item.outcome === 'skipped') ?? [];
    expect(skipped.map((item) => item.path).sort()).toEqual(
      [join(app, 'app.conf'), join(app, 'big.bin')].sort(),
    );
    expect(skipped[0]?.reason).toMatch(/different content/);
    expect(report?.restored).toBe(1); // new.conf
    expect(report?.alreadyPresent).toBeGreaterThan(10);
    expect(await readFile(join(target, app, 'app.conf'), 'utf8')).toMatch(/hunter2/);

    const forced = await cli('--json', 'restore', 'files', '--target', target, '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.json<RestoreJson>().sets[0]).toMatchObject({ restored: 2, skipped: 0 });
    expect(await readFile(join(target, app, 'app.conf'), 'utf8')).toMatch(/hunter3/);
    expect((await lstat(join(target, app, 'bin/run.sh'))).mode & 0o7777).toBe(0o700);
    const big = await readFile(join(target, app, 'big.bin'));
    expect(createHash('sha256').update(big).digest('hex')).toBe(
      createHash('sha256')
        .update(await readFile(join(app, 'big.bin')))
        .digest('hex'),
    );
  });

  it('restores into a new directory named for the set by default', async () => {
    const cwd = join(dir, 'cwd');
    await mkdir(cwd);
    const result = await runIn(cwd, config, ['restore', 'files', join(app, 'new.conf')]);
    expect(result.code, result.stderr).toBe(0);
    const [made] = await readdir(cwd);
    expect(made).toMatch(/^mailvault-restore-server-conf-\d{8}-\d{6}$/);
    expect(await readFile(join(cwd, made ?? '', app, 'new.conf'), 'utf8')).toBe('new\n');
  });

  it('says in one line what is wrong: unknown set, too early, a path in no backup', async () => {
    const unknown = await cli('restore', 'files', '--set', 'nope');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toMatch(/unknown file set nope/);

    const early = await cli('restore', 'files', '--at', '2000-01-01', '--set', 'server-conf');
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/no backup of file set server-conf at 2000-01-01: its first/);

    const missing = await cli('restore', 'files', join(server, 'etc/none'), '--target', dir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/etc\/none is not in the backup of file set server-conf/);

    const never = await cli('restore', 'files', '--set', 'nothing-there');
    expect(never.code).toBe(1);
    expect(never.stderr).toMatch(/nothing-there has never been backed up/);
  });

  it('writes a support bundle with secrets redacted, keys left out and a manifest', async () => {
    const output = join(dir, 'bundle.zip');
    const result = await cli('--json', 'support-bundle', '--output', output, '--at', between);
    expect(result.code, result.stderr).toBe(0);
    const entries = zipEntries(output);
    const prefix = `server-conf${server}/etc`;
    expect(entries.get(`${prefix}/app/app.conf`)?.toString()).toBe(
      'listen = 0.0.0.0\npassword = <redacted>\npassword_scheme = SHA512-CRYPT\n',
    );
    expect(entries.get(`${prefix}/app/sql.conf`)?.toString()).toBe(
      'connect = host=db user=mail password=<redacted>\n',
    );
    expect(entries.has(`${prefix}/ssl/certs/mail.pem`)).toBe(true);
    expect(entries.has(`${prefix}/ssl/private/mail.key`)).toBe(false);
    expect(entries.has(`${prefix}/ssl/certs/combined.pem`)).toBe(false);
    expect(entries.has(`${prefix}/app/big.bin`)).toBe(false);
    for (const [name, bytes] of entries) {
      expect(bytes.includes('hunter2'), name).toBe(false);
      expect(bytes.includes('sqlsecret'), name).toBe(false);
      expect(bytes.includes('PRIVATE KEY-----\nMIG'), name).toBe(false);
    }
    const manifest = entries.get('MANIFEST.txt')?.toString() ?? '';
    expect(manifest).toContain(
      `${prefix}/ssl/private/mail.key: a key or secret file (by its name)`,
    );
    expect(manifest).toContain(`${prefix}/ssl/certs/combined.pem: holds a private key`);
    expect(manifest).toContain(`${prefix}/app/big.bin: larger than 8 MiB`);
    expect(manifest).toContain(`${prefix}/app/app.conf: line 2 (password)`);
    expect(manifest).toMatch(/-rw------- \S+ 11 .* \S+\/etc\/app\/secret.conf/);
    expect(manifest).toContain('link-relative -> app.conf');

    const again = await cli('support-bundle', '--output', output);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists; add --force/);
    expect((await readdir(dir)).filter((name) => name.includes('partial'))).toEqual([]);
    await rm(output);
  });

  it('backs up what it can when one set fails: exit 3, the failure listed, a summary of file sets alone', async () => {
    const text = await cli('backup');
    expect(text.code, text.stderr).toBe(3);
    expect(text.stdout).toMatch(
      /^FAILED {2}file set nothing-there: .*no\/such\/dir: include path does not exist/m,
    );
    expect(text.stdout).toMatch(/^backed up file set server-conf: /m);
    expect(text.stdout).toMatch(
      /^backed up 1\/2 file sets \([\d,]+ items, 0 new\): .* read, .* added in /m,
    );
    expect(text.stdout).not.toContain('accounts');

    const json = await cli('--json', 'backup');
    expect(json.code, json.stderr).toBe(3);
    const report = json.json<BackupJson & { totals: Record<string, number> }>();
    expect(report.sets.map((set) => [set.name, set.ok])).toEqual([
      ['server-conf', true],
      ['nothing-there', false],
    ]);
    expect(report.totals).toMatchObject({ accounts: 0, fileSets: 2, failedFileSets: 1 });
  });

  it('refuses a relative include path or a broken exclude at load, naming the key (exit 2)', async () => {
    const text = readFileSync(config, 'utf8');
    const relative = join(dir, 'relative.yml');
    await writeFile(relative, text.replace(JSON.stringify(app), '"etc/app"'));
    const refused = await runCli(relative, ['backup']);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe(
      `mailvault: ${relative}: files[0].include[0]: "etc/app" is relative: include paths must be absolute, such as /etc/dovecot`,
    );

    const broken = join(dir, 'broken.yml');
    await writeFile(broken, text.replace('"*.swp"', '"re:*.swp"'));
    const bad = await runCli(broken, ['backup']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(
      `mailvault: ${broken}: files[0].exclude[0]: "re:*.swp" is not a valid regular expression (Nothing to repeat)`,
    );
  });
});
