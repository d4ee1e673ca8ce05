// Command outputs end to end, with the real CLI and a real PostgreSQL: a database with awkward
// rows dumped by `pg_dump -Fc` as a configured command, changed, dumped again, and the first dump
// restored by `pg_restore` into an empty database whose rows must equal what the source held
// then. Also: --output (a file, standard output), a command that fails (exit code, error output,
// the previous dump still restorable), a pg_dump waiting for a lock past its timeout, one that
// prints nothing, and a large output with flat memory.
import { spawn } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { havePostgres, startPostgres, type PostgresServer } from '../support/postgres.js';
import { isExecutable, makeTempDir, removeTempDir } from '../support/servers.js';
import { parseMail, startSmtpReceiver } from '../support/smtp-receiver.js';
import { MAILVAULT_BIN } from '../support/workspace.js';

const GNU_TIME = '/usr/bin/time';
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  /** Peak RSS of the CLI in KiB, when GNU time is there to tell. */
  maxRssKb: number | null;
  text(): string;
  json<T>(): T;
}

interface SnapshotJson {
  id: string;
  source: string;
  account: string;
  time: string;
  bytes: number;
  bytesAdded: number;
}

interface BackupJson {
  sets: Array<{
    kind: string;
    name: string;
    ok: boolean;
    error: string | null;
    snapshot: string | null;
    bytesRead: number;
    bytesAdded: number;
  }>;
}

interface RestoreJson {
  command: string;
  snapshot: string;
  target: string;
  bytes: number;
  sha256: string;
  verifiedFirst: boolean;
  exitCode: number | null;
  stderrTail: string;
}

/** The tables compared after a restore, each as COPY text ordered by key: byte-exact rows. */
const TABLES = {
  customers: 'SELECT * FROM customers ORDER BY id',
  attachments: 'SELECT * FROM attachments ORDER BY id',
  events: 'SELECT * FROM events ORDER BY id',
  sequence: 'SELECT last_value FROM events_id_seq',
  view: 'SELECT * FROM big_spenders ORDER BY id',
};

const SCHEMA = `
CREATE TABLE customers (
  id int PRIMARY KEY, name text NOT NULL, email text UNIQUE, note text,
  created timestamptz, balance numeric(12,2), tags text[], profile jsonb);
CREATE TABLE attachments (
  id int PRIMARY KEY, customer_id int REFERENCES customers(id), filename text, content bytea);
CREATE TABLE events (
  id bigserial PRIMARY KEY, customer_id int REFERENCES customers(id), at timestamptz, kind text, payload jsonb);
CREATE INDEX events_by_customer ON events (customer_id, at);
CREATE VIEW big_spenders AS SELECT id, name, balance FROM customers WHERE balance > 900;
INSERT INTO customers
  SELECT i, 'Customer ' || i, 'c' || i || '@example.com',
    CASE i % 7
      WHEN 0 THEN E'tab\\there, newline\\nand carriage return\\r, all in one'
      WHEN 1 THEN 'quote '' and "double" and \\backslash\\ and \\N and \\.'
      WHEN 2 THEN 'Ünïcödé — 日本語 — emoji 🎉👩‍👩‍👧 — RTL שלום — combining é'
      WHEN 3 THEN NULL
      WHEN 4 THEN ''
      ELSE repeat('lorem ipsum ', i % 40) END,
    timestamptz '2026-01-01 00:00:00+00' + i * interval '37 minutes',
    (i * 7919 % 100000) / 100.0,
    ARRAY['tag' || (i % 13), E'with,comma', 'with "quote"'],
    jsonb_build_object('n', i, 's', E'json "escapes" \\\\ \\u00e9', 'list', jsonb_build_array(i, i * 2))
  FROM generate_series(1, 3000) i;
INSERT INTO attachments
  SELECT i, 1 + i % 3000, 'file ' || i || '.bin',
    decode(repeat(md5(i::text), 1 + i % 50), 'hex') || '\\x00ff00'::bytea
  FROM generate_series(1, 1500) i;
INSERT INTO attachments
  SELECT 100000, 1, 'every byte', string_agg(set_byte('\\x00'::bytea, 0, b), ''::bytea ORDER BY b)
  FROM generate_series(0, 255) b;
INSERT INTO events (customer_id, at, kind, payload)
  SELECT 1 + i % 3000, timestamptz '2026-06-01 00:00:00+00' + i * interval '1 second',
    (ARRAY['login', 'purchase', 'refund'])[1 + i % 3], jsonb_build_object('i', i)
  FROM generate_series(1, 20000) i;
`;

/** The day's changes: some rows updated, some deleted, some added. */
const CHANGES = `
UPDATE customers SET balance = balance + 1, note = 'changed after the first backup' WHERE id % 50 = 0;
DELETE FROM attachments WHERE id % 97 = 0;
DELETE FROM events WHERE id % 89 = 0;
INSERT INTO events (customer_id, at, kind, payload)
  SELECT 1 + i % 3000, now(), 'late', '{}'::jsonb FROM generate_series(1, 300) i;
INSERT INTO customers VALUES (5000, 'New Customer', 'new@example.com', E'new\\tline', now(), 1000, '{}', '{}');
`;

/** Deterministic pseudo-random bytes (AES-CTR of zeros), as a backup command and in-process. */
const GENERATOR = `import { createCipheriv } from 'node:crypto';
const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
const zero = Buffer.alloc(65536);
let left = Number(process.argv[2]);
const write = () => {
  while (left > 0) {
    const n = Math.min(left, zero.length);
    left -= n;
    if (!process.stdout.write(cipher.update(zero.subarray(0, n)))) return process.stdout.once('drain', write);
  }
};
write();
`;

function generatedSha256(size: number): string {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  const hash = createHash('sha256');
  const zero = Buffer.alloc(65536);
  for (let left = size; left > 0; left -= zero.length)
    hash.update(cipher.update(zero.subarray(0, Math.min(left, zero.length))));
  return hash.digest('hex');
}

describe.skipIf(!havePostgres)('command outputs: PostgreSQL dumps through the CLI', () => {
  let pg: PostgresServer;
  let dir: string;
  let config: string;
  let first: SnapshotJson;
  let second: SnapshotJson;
  /** What the source database held at the first backup, table by table. */
  const atFirst: Record<string, Buffer> = {};
  const atSecond: Record<string, Buffer> = {};

  const quote = (text: string): string => JSON.stringify(text);
  const pgDump = (): string => `${pg.bin('pg_dump')} -Fc -d shop`;
  const pgRestore = (): string =>
    `${pg.bin('pg_restore')} --no-owner --exit-on-error --single-transaction -d "$RESTORE_INTO"`;

  async function writeConfig(path: string, commands: string[]): Promise<string> {
    await writeFile(
      path,
      [
        'repository:',
        `  url: ${join(dir, 'repo')}`,
        `  passwordFile: ${join(dir, 'repo.pass')}`,
        'catalog:',
        `  url: ${join(dir, 'catalog.sqlite')}`,
        'commands:',
        ...commands.map((line) => `  - ${line}`),
        '',
      ].join('\n'),
    );
    return path;
  }

  /** Runs the CLI (under GNU time when it is there) with the database's connection settings. */
  function cli(
    args: string[],
    options: { config?: string; env?: Record<string, string> } = {},
  ): Promise<Run> {
    const timeFile = join(dir, `time-${Date.now()}-${Math.random()}`);
    const measured = isExecutable(GNU_TIME);
    const argv = [MAILVAULT_BIN, '--config', options.config ?? config, '--no-progress', ...args];
    const env: NodeJS.ProcessEnv = { ...process.env, ...pg.env, ...options.env };
    delete env.MAILVAULT_PASSWORD;
    delete env.MAILVAULT_CONFIG;
    const child = measured
      ? spawn(GNU_TIME, ['-f', '%M', '-o', timeFile, process.execPath, ...argv], { env })
      : spawn(process.execPath, argv, { env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (data: Buffer) => out.push(data));
    child.stderr.on('data', (data: Buffer) => err.push(data));
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => {
        const stdout = Buffer.concat(out);
        const stderr = Buffer.concat(err).toString('utf8');
        const rss = measured
          ? Number(readFileSync(timeFile, 'utf8').trim().split('\n').pop())
          : NaN;
        resolve({
          code,
          stdout,
          stderr,
          maxRssKb: Number.isFinite(rss) ? rss : null,
          text: () => stdout.toString('utf8'),
          json: <T>() => {
            try {
              return JSON.parse(stdout.toString('utf8')) as T;
            } catch {
              throw new Error(`not JSON (exit ${code}):\n${stdout.toString('utf8')}\n${stderr}`);
            }
          },
        });
      });
    });
  }

  const shown = (run: Run): string =>
    `exit ${run.code}\n${run.text().slice(0, 3000)}\n${run.stderr.slice(0, 3000)}`;

  async function tables(database: string): Promise<Record<string, Buffer>> {
    const result: Record<string, Buffer> = {};
    for (const [name, query] of Object.entries(TABLES))
      result[name] = await pg.copyOut(database, query);
    return result;
  }

  async function expectSameRows(database: string, expected: Record<string, Buffer>): Promise<void> {
    const actual = await tables(database);
    for (const name of Object.keys(TABLES)) {
      expect(actual[name]?.length, name).toBe(expected[name]?.length);
      expect(actual[name]?.equals(expected[name] ?? Buffer.alloc(0)), name).toBe(true);
    }
  }

  async function dbSnapshots(name = 'db'): Promise<SnapshotJson[]> {
    const run = await cli(['--json', 'snapshots']);
    expect(run.code, shown(run)).toBe(0);
    return run
      .json<SnapshotJson[]>()
      .filter((row) => row.source === 'commands' && row.account === name);
  }

  beforeAll(async () => {
    pg = await startPostgres();
    dir = await makeTempDir('commands');
    await writeFile(join(dir, 'repo.pass'), 'correct horse battery staple\n');
    await writeFile(join(dir, 'generate.mjs'), GENERATOR);
    await pg.createDatabase('shop');
    await pg.sql('shop', SCHEMA);
    config = await writeConfig(join(dir, 'mailvault.yml'), [
      `{ name: db, backup: ${quote(pgDump())}, restore: ${quote(pgRestore())} }`,
      `{ name: empty, backup: "true", restore: ${quote(`wc -c > ${join(dir, 'empty.count')}`)} }`,
      `{ name: noRestore, backup: "echo data" }`,
    ]);
    const init = await cli(['init', '--scrypt-cost', '10']);
    expect(init.code, shown(init)).toBe(0);
  });

  afterAll(async () => {
    await pg?.stop();
    if (dir) await removeTempDir(dir);
  });

  it('backs up a dump, then the changed database again', async () => {
    Object.assign(atFirst, await tables('shop'));
    const backup = await cli(['--json', 'backup', 'db']);
    expect(backup.code, shown(backup)).toBe(0);
    const [set] = backup.json<BackupJson>().sets;
    expect(set).toMatchObject({ kind: 'command', name: 'db', ok: true, error: null });
    expect(set?.bytesRead).toBeGreaterThan(100_000);

    await pg.sql('shop', CHANGES);
    Object.assign(atSecond, await tables('shop'));
    expect(atSecond.customers?.equals(atFirst.customers ?? Buffer.alloc(0))).toBe(false);
    const again = await cli(['backup', 'db']);
    expect(again.code, shown(again)).toBe(0);
    expect(again.text()).toMatch(/backed up command db: 1 items, .* read, .* added/);

    const rows = await dbSnapshots();
    expect(rows).toHaveLength(2);
    [first, second] = rows as [SnapshotJson, SnapshotJson];
    expect(Date.parse(first.time)).toBeLessThan(Date.parse(second.time));
  });

  it('restores the first dump into an empty database, row for row as the source was then', async () => {
    await pg.createDatabase('restored');
    const run = await cli(['--json', 'restore', 'command', 'db', '--at', first.time], {
      env: { RESTORE_INTO: 'restored' },
    });
    expect(run.code, shown(run)).toBe(0);
    const report = run.json<RestoreJson>();
    expect(report).toMatchObject({
      command: 'db',
      snapshot: first.id,
      target: 'restore command',
      verifiedFirst: true,
      exitCode: 0,
    });
    expect(report.bytes).toBe(first.bytes);
    await expectSameRows('restored', atFirst);
  });

  it('restores the latest dump by default', async () => {
    await pg.createDatabase('latest');
    const run = await cli(['restore', 'command', 'db'], { env: { RESTORE_INTO: 'latest' } });
    expect(run.code, shown(run)).toBe(0);
    expect(run.text()).toMatch(
      /^restored command db as of .*: .* into its restore command \(exit code 0\) in /m,
    );
    await expectSameRows('latest', atSecond);
  });

  it('writes the stored dump to a file or to standard output with --output', async () => {
    const file = join(dir, 'first.dump');
    const run = await cli([
      '--json',
      'restore',
      'command',
      'db',
      '--at',
      first.time,
      '--output',
      file,
    ]);
    expect(run.code, shown(run)).toBe(0);
    const report = run.json<RestoreJson>();
    const bytes = readFileSync(file);
    expect(bytes.length).toBe(report.bytes);
    expect(sha256(bytes)).toBe(report.sha256);
    // The file is the dump pg_dump wrote then: pg_restore reads it into the first state.
    await pg.createDatabase('fromfile');
    await pg.run('pg_restore', ['--no-owner', '--exit-on-error', '-d', 'fromfile', file]);
    await expectSameRows('fromfile', atFirst);

    const piped = await cli(['restore', 'command', 'db', '--at', first.time, '--output', '-']);
    expect(piped.code, piped.stderr).toBe(0);
    expect(sha256(piped.stdout)).toBe(report.sha256);
    expect(piped.stderr).toMatch(/restored command db as of .* to stdout/);

    const refused = await cli(['restore', 'command', 'db', '--output', file]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`--output ${file} exists; add --force to replace it`);
    const forced = await cli(['restore', 'command', 'db', '--output', file, '--force']);
    expect(forced.code, shown(forced)).toBe(0);
    expect(readFileSync(file).length).toBe(second.bytes);
  });

  it('refuses an unknown name, a command without a restore command, and a date before the first dump', async () => {
    const unknown = await cli(['restore', 'command', 'nosuch']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command nosuch');

    const noRestore = await cli(['restore', 'command', 'noRestore']);
    expect(noRestore.code).toBe(2);
    expect(noRestore.stderr).toContain(
      'command noRestore has no restore command: add commands[2].restore to the configuration, or write its output to a file with --output FILE',
    );

    const early = await cli(['restore', 'command', 'db', '--at', '2001-01-01']);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(
      /no backup of command db at 2001-01-01: its first backup is from /,
    );
  });

  it('fails a command that exits non-zero, loudly, and keeps the previous dump restorable', async () => {
    const failing = await writeConfig(join(dir, 'failing.yml'), [
      `{ name: db, backup: ${quote('echo "half a dump"; echo "pg_dump: error: connection to server failed: FATAL: too many clients" >&2; exit 3')}, restore: ${quote(pgRestore())} }`,
      `{ name: other, backup: "echo fine" }`,
    ]);
    const run = await cli(['backup'], { config: failing });
    // One set failed, one succeeded: the run finished with failures.
    expect(run.code, shown(run)).toBe(3);
    expect(run.text()).toContain(
      'FAILED  command db: command db exited with code 3: pg_dump: error: connection to server failed: FATAL: too many clients',
    );
    expect(run.text()).toMatch(/^backed up 1\/2 commands: .* read, .* added in /m);
    const alone = await cli(['backup', 'db'], { config: failing });
    expect(alone.code).toBe(1);
    expect(alone.stderr).toContain('command db exited with code 3');

    const rows = await dbSnapshots();
    expect(rows.map((row) => row.id)).toEqual([first.id, second.id]);
    await pg.createDatabase('afterfailure');
    const restore = await cli(['--json', 'restore', 'command', 'db'], {
      config: failing,
      env: { RESTORE_INTO: 'afterfailure' },
    });
    expect(restore.code, shown(restore)).toBe(0);
    expect(restore.json<RestoreJson>().snapshot).toBe(second.id);
    await expectSameRows('afterfailure', atSecond);
  });

  it('stops a pg_dump that waits for a lock at the timeout, and keeps the previous dump restorable', async () => {
    // In the command's own process group: a session that holds the table for a few seconds, and
    // pg_dump waiting behind it. The timeout stops both; the server then drops the lock.
    const holdLock = `${pg.bin('psql')} -d shop -c "BEGIN; LOCK TABLE customers IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(5);"`;
    const locked = await writeConfig(join(dir, 'locked.yml'), [
      `{ name: db, backup: ${quote(`${holdLock} > /dev/null & sleep 0.5; ${pgDump()}`)}, restore: ${quote(pgRestore())}, timeout: 2s }`,
      `{ name: other, backup: "echo fine" }`,
    ]);
    const run = await cli(['--json', 'backup'], { config: locked });
    expect(run.code, shown(run)).toBe(3);
    const sets = run.json<BackupJson>().sets;
    expect(sets.find((set) => set.name === 'other')).toMatchObject({ ok: true });
    const db = sets.find((set) => set.name === 'db');
    expect(db).toMatchObject({ ok: false, snapshot: null });
    // pg_dump says why it stopped: "pg_dump: terminated by user".
    expect(db?.error).toMatch(
      /^command db timed out after 2s \(commands\[0\]\.timeout\) and was stopped: pg_dump: /,
    );
    expect((await dbSnapshots()).map((row) => row.id)).toEqual([first.id, second.id]);
    await pg.createDatabase('aftertimeout');
    const restore = await cli(['--json', 'restore', 'command', 'db'], {
      config: locked,
      env: { RESTORE_INTO: 'aftertimeout' },
    });
    expect(restore.code, shown(restore)).toBe(0);
    expect(restore.json<RestoreJson>().snapshot).toBe(second.id);
    await expectSameRows('aftertimeout', atSecond);
  });

  it('reports a failing restore command with its exit code and error output', async () => {
    // The tables exist already: pg_restore --exit-on-error stops at the first CREATE.
    const run = await cli(['restore', 'command', 'db'], { env: { RESTORE_INTO: 'latest' } });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /mailvault: error: restore command of db exited with code 1[:;].*relation "\w+" already exists/s,
    );
  });

  it('backs up a command that prints nothing as an empty output', async () => {
    const backup = await cli(['--json', 'backup', 'empty']);
    expect(backup.code, shown(backup)).toBe(0);
    expect(backup.json<BackupJson>().sets[0]).toMatchObject({
      name: 'empty',
      ok: true,
      bytesRead: 0,
    });
    const restore = await cli(['--json', 'restore', 'command', 'empty']);
    expect(restore.code, shown(restore)).toBe(0);
    expect(restore.json<RestoreJson>()).toMatchObject({ bytes: 0, exitCode: 0 });
    expect(readFileSync(join(dir, 'empty.count'), 'utf8').trim()).toBe('0');
    const file = join(dir, 'empty.out');
    expect((await cli(['restore', 'command', 'empty', '--output', file])).code).toBe(0);
    expect(readFileSync(file).length).toBe(0);
  });

  it('tells the initiator and the admins when a restore starts and ends (--notify)', async () => {
    const receiver = await startSmtpReceiver();
    try {
      const notifying = join(dir, 'notify.yml');
      await writeFile(
        notifying,
        `${readFileSync(config, 'utf8')}notify: { smtp: { host: 127.0.0.1, port: ${receiver.port}, from: mailvault@example.com }, admins: [ops@example.com] }\n`,
      );
      const run = await cli(['restore', 'command', 'empty', '--notify', 'alice@example.com'], {
        config: notifying,
      });
      expect(run.code, shown(run)).toBe(0);
      const notices = (await receiver.waitFor(2)).map((message) => ({
        to: [...message.rcptTo].sort(),
        mail: parseMail(message.raw),
      }));
      expect(notices.map((notice) => notice.to)).toEqual([
        ['alice@example.com', 'ops@example.com'],
        ['alice@example.com', 'ops@example.com'],
      ]);
      expect(notices[0]?.mail.subject).toMatch(/restore of command empty/);
      expect(notices[1]?.mail.subject).toMatch(/restore of command empty/);
      expect(notices[1]?.mail.text).toContain('written to restore command');
    } finally {
      await receiver.stop();
    }
  });

  it('streams a large output both ways with memory that does not grow with it', async () => {
    // From 64 MiB on, the restore's pack cache (64 MiB) is full: what grows after that would be a leak.
    const sizes = [96 * 1024 * 1024, 288 * 1024 * 1024];
    const large = await writeConfig(
      join(dir, 'large.yml'),
      sizes.map(
        (size) =>
          `{ name: gen${size}, backup: ${quote(`${process.execPath} ${join(dir, 'generate.mjs')} ${size}`)}, restore: ${quote(`sha256sum > ${join(dir, `gen${size}.sha`)}`)} }`,
      ),
    );
    const peaks: Array<{ backup: number | null; restore: number | null }> = [];
    for (const size of sizes) {
      const backup = await cli(['--json', 'backup', `gen${size}`], { config: large });
      expect(backup.code, shown(backup)).toBe(0);
      expect(backup.json<BackupJson>().sets[0]?.bytesRead).toBe(size);
      const restore = await cli(['--json', 'restore', 'command', `gen${size}`], { config: large });
      expect(restore.code, shown(restore)).toBe(0);
      const expected = generatedSha256(size);
      expect(restore.json<RestoreJson>().sha256).toBe(expected);
      expect(readFileSync(join(dir, `gen${size}.sha`), 'utf8').split(' ')[0]).toBe(expected);
      peaks.push({ backup: backup.maxRssKb, restore: restore.maxRssKb });
    }
    console.log(
      `peak RSS (MiB) for ${sizes.map((s) => `${s / 1048576} MiB`).join(' and ')}: ` +
        peaks
          .map(
            (p) =>
              `backup ${Math.round((p.backup ?? 0) / 1024)}, restore ${Math.round((p.restore ?? 0) / 1024)}`,
          )
          .join('; '),
    );
    const [small, big] = peaks;
    if (small?.backup && big?.backup && small.restore && big.restore) {
      // Three times the output, about the same memory.
      expect(big.backup - small.backup).toBeLessThan(48 * 1024);
      expect(big.restore - small.restore).toBeLessThan(48 * 1024);
      expect(big.backup).toBeLessThan(512 * 1024);
    }
    expect(existsSync(join(dir, 'repo'))).toBe(true);
    // 384 MiB chunked, compressed, encrypted and read back: about a minute on an idle 2-core
    // machine, bounded but long, and well past the default timeout when the machine is busy.
  }, 240_000);
});
