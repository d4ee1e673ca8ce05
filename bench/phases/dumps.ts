// 11. Database dumps: seven daily dumps of a PostgreSQL database (a groupware's: messages,
// contacts, events) whose rows change 1 % a day, backed up as `commands:` sets, one repository per
// dump format, under two kinds of churn:
//   scattered: 1 % of the rows of every table updated, chosen uniformly: the worst case for
//     deduplication, since an updated row leaves its place in the dump;
//   clustered: 1 % of the rows changed where a mail or groupware database changes them: 0.5 %
//     new rows, 0.4 % of recent rows updated, 0.1 % of the oldest deleted.
// The formats: plain SQL (`pg_dump`), custom without compression (`-Fc -Z0`) and custom with its
// default compression (`-Fc`). The figures: repository growth per day, total against 7× the dump,
// backup time per dump (pg_dump included, and pg_dump alone), peak RSS; restic and borg back up
// the plain dump file side by side.
//
// Standalone: `npx tsx bench/phases/dumps.ts` (after `npm run build`); BENCH_DUMP_ROWS,
// BENCH_DUMP_DAYS, BENCH_DUMP_BASELINES=0 to leave restic and borg out.
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres, type PostgresServer } from '../../test/support/postgres.js';
import { makeTempDir, removeTempDir } from '../../test/support/servers.js';
import { MAILVAULT_BIN } from '../../test/support/workspace.js';
import { median, progress, type Bench } from '../common.js';
import { fileBytes, timed, type Timed } from '../proc.js';
import { Report, fmtBytes, fmtCount, fmtMiB, fmtSeconds } from '../report.js';
import { Borg, Restic } from '../tools.js';

export interface DumpFormat {
  key: string;
  label: string;
  args: string[];
}

export const DUMP_FORMATS: DumpFormat[] = [
  { key: 'plain', label: 'plain SQL (pg_dump)', args: [] },
  { key: 'custom0', label: 'custom, uncompressed (pg_dump -Fc -Z0)', args: ['-Fc', '-Z0'] },
  { key: 'custom', label: 'custom, compressed (pg_dump -Fc)', args: ['-Fc'] },
];

export interface DumpChurn {
  key: 'scattered' | 'clustered';
  label: string;
}

export const DUMP_CHURNS: DumpChurn[] = [
  { key: 'scattered', label: '1 % of rows updated, anywhere in each table' },
  {
    key: 'clustered',
    label:
      '1 % of rows changed: 0.5 % new, 0.4 % of recent ones updated, 0.1 % of the oldest deleted',
  },
];

export interface DumpDay {
  day: number;
  /** Size of the day's dump. */
  dumpBytes: number;
  /** pg_dump alone, to a file. */
  dumpSeconds: number;
  /** `mailvault backup` of the set, pg_dump included (wall, whole CLI). */
  backupSeconds: number;
  /** The backup run itself as it reports it (without starting node and opening the repository). */
  runSeconds: number;
  backupRssKb: number;
  /** What the backup reported it added, and the repository's size after it. */
  bytesAdded: number;
  repositoryBytes: number;
  resticBytes?: number;
  resticSeconds?: number;
  borgBytes?: number;
  borgSeconds?: number;
}

export interface DumpSeries {
  churn: DumpChurn['key'];
  format: string;
  days: DumpDay[];
}

export interface DumpsResult {
  rows: number;
  days: number;
  series: DumpSeries[];
  /** `restore command --output` of the last plain dump: seconds and bytes. */
  restore: { seconds: number; bytes: number; rssKb: number } | null;
}

interface DumpSettings {
  rows: number;
  days: number;
  baselines: boolean;
}

function envNumber(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number`);
  return n;
}

function readDumpSettings(): DumpSettings {
  return {
    rows: envNumber('BENCH_DUMP_ROWS', 300_000),
    days: envNumber('BENCH_DUMP_DAYS', 7),
    baselines: process.env.BENCH_DUMP_BASELINES !== '0',
  };
}

/**
 * A groupware database: `rows` messages (about 230 bytes each in a plain dump), a tenth as many
 * contacts and events. Deterministic (setseed), text of real words, so it compresses as real data
 * does rather than as noise or as zeros.
 */
function schemaSql(rows: number): string {
  return `
SELECT setseed(0.20251101);
CREATE FUNCTION phrase(k bigint) RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT string_agg(w[1 + floor(random() * array_length(w, 1))::int], ' ')
  FROM (SELECT string_to_array(
    'meeting invoice project budget quarterly review draft contract schedule holiday team update ' ||
    'customer support ticket release server backup storage network security password reset account ' ||
    'order shipping delivery payment refund report summary agenda minutes offer proposal deadline ' ||
    'lunch travel conference training hiring candidate interview feedback roadmap design launch', ' ') AS w) a,
    generate_series(1, k) $$;
CREATE TABLE messages (
  id bigint PRIMARY KEY, mailbox_id int NOT NULL, uid int NOT NULL, subject text, sender text,
  recipients text, sent_at timestamptz, flags int, size int, preview text);
INSERT INTO messages
  SELECT i, 1 + i % 997, i / 997 + 1, initcap(phrase(4 + i % 5)),
    'user' || (i % 64) || '.' || (i * 7919 % 5003) || '@example.com',
    'team' || (i % 31) || '@example.com',
    timestamptz '2024-01-01 00:00:00+00' + i * interval '97 seconds',
    i % 16, 2000 + (i * 104729) % 200000, phrase(12 + i % 9)
  FROM generate_series(1::bigint, ${rows}) i;
CREATE TABLE contacts (
  id bigint PRIMARY KEY, owner int, name text, email text, phone text, note text, updated timestamptz);
INSERT INTO contacts
  SELECT i, 1 + i % 997, initcap(phrase(2)), 'contact' || i || '@example.org',
    '+33 1 ' || lpad((i * 7907 % 100000000)::text, 8, '0'), phrase(6), timestamptz '2024-01-01' + i * interval '1 hour'
  FROM generate_series(1::bigint, ${Math.max(1, Math.floor(rows / 10))}) i;
CREATE TABLE events (
  id bigint PRIMARY KEY, calendar int, title text, starts timestamptz, ends timestamptz, location text);
INSERT INTO events
  SELECT i, 1 + i % 997, initcap(phrase(3)), timestamptz '2024-01-01' + i * interval '50 minutes',
    timestamptz '2024-01-01' + i * interval '50 minutes' + interval '1 hour', 'Room ' || (i % 40)
  FROM generate_series(1::bigint, ${Math.max(1, Math.floor(rows / 10))}) i;
VACUUM ANALYZE;
`;
}

const TABLES = ['messages', 'contacts', 'events'] as const;

/** One day of churn: 1 % of each table's rows changed, the way `churn` says. */
function churnSql(churn: DumpChurn['key'], day: number): string {
  const seed = `SELECT setseed(${(day / 100).toFixed(2)});`;
  if (churn === 'scattered')
    return [
      seed,
      `UPDATE messages SET flags = flags # 1, subject = subject || ' (day ${day})' WHERE random() < 0.01;`,
      `UPDATE contacts SET note = note || ' (day ${day})', updated = now() WHERE random() < 0.01;`,
      `UPDATE events SET location = 'Room ${day}', title = title || '!' WHERE random() < 0.01;`,
    ].join('\n');
  const statements = [seed];
  for (const table of TABLES) {
    const set =
      table === 'messages'
        ? `flags = flags # 1, subject = subject || ' (day ${day})'`
        : table === 'contacts'
          ? `note = note || ' (day ${day})', updated = now()`
          : `location = 'Room ${day}'`;
    const copy =
      table === 'messages'
        ? `id + n, mailbox_id, uid + 1000000, subject, sender, recipients, sent_at + interval '1 day', flags, size, preview`
        : table === 'contacts'
          ? `id + n, owner, name, 'new' || email, phone, note, now()`
          : `id + n, calendar, title, starts + interval '1 year', ends + interval '1 year', location`;
    statements.push(
      // 0.5 % new rows (copies of the newest ones, shifted), appended as new rows are.
      `WITH top AS (SELECT max(id) AS n, count(*) AS c FROM ${table})
       INSERT INTO ${table} SELECT ${copy} FROM ${table}, top WHERE id > n - c * 0.005;`,
      // 0.4 % updated among the newest 5 %.
      `WITH top AS (SELECT max(id) AS n, count(*) AS c FROM ${table})
       UPDATE ${table} SET ${set} FROM top WHERE id > n - c * 0.05 AND random() < 0.08;`,
      // 0.1 % of the oldest deleted (a retention policy).
      `WITH low AS (SELECT min(id) AS m, count(*) AS c FROM ${table})
       DELETE FROM ${table} USING low WHERE id < m + c * 0.001;`,
    );
  }
  return statements.join('\n');
}

/** A mailvault installation with one command set per format, its repository and catalog. */
class DumpVault {
  readonly config: string;
  readonly repository: string;

  constructor(
    readonly dir: string,
    private readonly pg: PostgresServer,
  ) {
    this.config = join(dir, 'mailvault.yml');
    this.repository = join(dir, 'repo');
  }

  async create(database: string, format: DumpFormat): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFile(join(this.dir, 'repo.pass'), 'correct horse battery staple\n', { mode: 0o600 });
    const backup = [this.pg.bin('pg_dump'), ...format.args, '-d', database].join(' ');
    await writeFile(
      this.config,
      [
        'repository:',
        `  url: ${this.repository}`,
        `  passwordFile: ${join(this.dir, 'repo.pass')}`,
        'catalog:',
        `  url: ${join(this.dir, 'catalog.sqlite')}`,
        'commands:',
        `  - { name: ${format.key}, backup: ${JSON.stringify(backup)} }`,
        '',
      ].join('\n'),
    );
    await this.run(['init']);
  }

  run(args: string[]): Promise<Timed> {
    const env = { ...process.env, ...this.pg.env };
    delete env.MAILVAULT_PASSWORD;
    delete env.MAILVAULT_CONFIG;
    return timed(
      process.execPath,
      [MAILVAULT_BIN, '--config', this.config, '--no-progress', '--json', ...args],
      { env },
    );
  }
}

async function dumpAlone(
  pg: PostgresServer,
  database: string,
  format: DumpFormat,
  file: string,
): Promise<{ seconds: number; bytes: number }> {
  const run = await timed(pg.bin('pg_dump'), [...format.args, '-d', database, '-f', file], {
    env: { ...process.env, ...pg.env },
  });
  return { seconds: run.seconds, bytes: await fileSize(file) };
}

async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}

async function runChurn(
  pg: PostgresServer,
  work: string,
  churn: DumpChurn,
  settings: DumpSettings,
  restores: { last: DumpsResult['restore'] },
): Promise<DumpSeries[]> {
  const database = `shop_${churn.key}`;
  await pg.sql('postgres', `CREATE DATABASE ${database} TEMPLATE shop_template`);
  const vaults = new Map<string, DumpVault>();
  for (const format of DUMP_FORMATS) {
    const vault = new DumpVault(join(work, `dumps-${churn.key}-${format.key}`), pg);
    await vault.create(database, format);
    vaults.set(format.key, vault);
  }
  const restic = settings.baselines
    ? new Restic(join(work, `restic-dumps-${churn.key}`))
    : undefined;
  const borg = settings.baselines ? new Borg(join(work, `borg-dumps-${churn.key}`)) : undefined;
  await restic?.init();
  await borg?.init();
  const plainDir = join(work, `plain-${churn.key}`);
  await mkdir(plainDir, { recursive: true });
  const series = DUMP_FORMATS.map((format) => ({
    churn: churn.key,
    format: format.key,
    days: [] as DumpDay[],
  }));
  for (let day = 1; day <= settings.days; day++) {
    if (day > 1) await pg.sql(database, churnSql(churn.key, day));
    for (const [i, format] of DUMP_FORMATS.entries()) {
      const vault = vaults.get(format.key);
      if (!vault) throw new Error(`no vault for ${format.key}`);
      // The same path every day, so that restic and borg see one file change.
      const file = join(plainDir, format.key === 'plain' ? 'shop.sql' : `shop.${format.key}`);
      const alone = await dumpAlone(pg, database, format, file);
      const backup = await vault.run(['backup']);
      const json = JSON.parse(backup.stdout) as {
        seconds: number;
        sets: Array<{ ok: boolean; error: string | null; bytesRead: number; bytesAdded: number }>;
      };
      const set = json.sets[0];
      if (!set?.ok)
        throw new Error(`backup of ${format.key} failed: ${set?.error ?? backup.stderr}`);
      const record: DumpDay = {
        day,
        dumpBytes: set.bytesRead,
        dumpSeconds: alone.seconds,
        backupSeconds: backup.seconds,
        runSeconds: json.seconds,
        backupRssKb: backup.maxRssKb,
        bytesAdded: set.bytesAdded,
        repositoryBytes: await fileBytes(vault.repository),
      };
      if (format.key === 'plain') {
        const resticRun = await restic?.backup(file);
        const borgRun = await borg?.backup(file);
        if (restic && resticRun) {
          record.resticSeconds = resticRun.seconds;
          record.resticBytes = await restic.size();
        }
        if (borg && borgRun) {
          record.borgSeconds = borgRun.seconds;
          record.borgBytes = await borg.size();
        }
        if (day === settings.days && churn.key === 'clustered') {
          const out = join(plainDir, 'restored.sql');
          const restore = await vault.run(['restore', 'command', 'plain', '--output', out]);
          restores.last = {
            seconds: restore.seconds,
            bytes: await fileSize(out),
            rssKb: restore.maxRssKb,
          };
          await rm(out, { force: true });
        }
      }
      await rm(file, { force: true }).catch(() => undefined);
      series[i]?.days.push(record);
    }
    const plain = series[0]?.days.at(-1);
    progress(
      `  dumps ${churn.key} day ${day}: ${DUMP_FORMATS.map((f, i) => `${f.key} +${fmtBytes(growth(series[i]?.days ?? [], day - 1))}`).join(', ')}` +
        (plain
          ? ` (plain dump ${fmtBytes(plain.dumpBytes)}, backup ${fmtSeconds(plain.backupSeconds)})`
          : ''),
    );
  }
  await pg.dropDatabase(database);
  return series;
}

/** Bytes the repository grew by on day index `i` (the first day: its whole size). */
function growth(days: DumpDay[], i: number): number {
  const today = days[i]?.repositoryBytes ?? NaN;
  return i === 0 ? today : today - (days[i - 1]?.repositoryBytes ?? NaN);
}

export async function measureDumps(bench: Pick<Bench, 'work'>): Promise<DumpsResult> {
  const settings = readDumpSettings();
  const pg = await startPostgres();
  try {
    progress(
      `dumps: a database of ${fmtCount(settings.rows)} messages, ${settings.days} daily dumps`,
    );
    await pg.createDatabase('shop_template');
    await pg.sql('shop_template', schemaSql(settings.rows));
    const restores: { last: DumpsResult['restore'] } = { last: null };
    const series: DumpSeries[] = [];
    for (const churn of DUMP_CHURNS) {
      progress(`dumps, ${churn.key}: ${churn.label}`);
      series.push(...(await runChurn(pg, bench.work, churn, settings, restores)));
    }
    return { rows: settings.rows, days: settings.days, series, restore: restores.last };
  } finally {
    await pg.stop();
  }
}

export function reportDumps(bench: Pick<Bench, 'report' | 'details'>, result: DumpsResult): void {
  const { report, details } = bench;
  details.dumps = result;
  const S = `11. Database dumps (PostgreSQL, ${fmtCount(result.rows)} messages, ${result.days} daily dumps, 1 % of rows changed a day)`;
  const x = (ratio: number): string => `${ratio.toFixed(2)}×`;
  for (const churn of DUMP_CHURNS) {
    for (const format of DUMP_FORMATS) {
      const series = result.series.find((s) => s.churn === churn.key && s.format === format.key);
      if (!series || series.days.length === 0) continue;
      const days = series.days;
      const first = days[0] as DumpDay;
      const last = days.at(-1) as DumpDay;
      const dumps = days.reduce((sum, d) => sum + d.dumpBytes, 0);
      const daily = days.slice(1).map((_, i) => growth(days, i + 1));
      const id = `dumps.${churn.key}.${format.key}`;
      report.add({
        id: `${id}.total`,
        section: S,
        label: `${churn.key}, ${format.label}: repository after ${days.length} / the ${days.length} dumps`,
        value: last.repositoryBytes / dumps,
        unit: 'ratio',
        display: `${fmtBytes(last.repositoryBytes)} for ${fmtBytes(dumps)} of dumps (${x(last.repositoryBytes / dumps)}; ${x(last.repositoryBytes / first.dumpBytes)} one dump)`,
        target: '',
      });
      report.add({
        id: `${id}.dailyGrowth`,
        section: S,
        label: `${churn.key}, ${format.key}: growth per later day (median), against one dump`,
        value: median(daily),
        unit: 'B',
        display: `${fmtBytes(median(daily))} (${((median(daily) / last.dumpBytes) * 100).toFixed(1)} % of a ${fmtBytes(last.dumpBytes)} dump); first day ${fmtBytes(first.repositoryBytes)}`,
        target: '',
      });
      report.add({
        id: `${id}.backupSeconds`,
        section: S,
        label: `${churn.key}, ${format.key}: backup per dump, median wall; its run; pg_dump alone`,
        value: median(days.map((d) => d.backupSeconds)),
        unit: 's',
        display: `${fmtSeconds(median(days.map((d) => d.backupSeconds)))}; ${fmtSeconds(median(days.map((d) => d.runSeconds)))}; ${fmtSeconds(median(days.map((d) => d.dumpSeconds)))}; ${fmtMiB(Math.max(...days.map((d) => d.backupRssKb)))} peak RSS`,
        target: '',
      });
      if (format.key === 'plain') {
        for (const tool of ['restic', 'borg'] as const) {
          const bytes = last[`${tool}Bytes`];
          if (bytes === undefined) continue;
          report.add({
            id: `${id}.${tool}`,
            section: S,
            label: `${churn.key}, plain: ${tool}, repository after ${days.length} / the dumps`,
            value: bytes / dumps,
            unit: 'ratio',
            display: `${fmtBytes(bytes)} (${x(bytes / dumps)}), ${fmtSeconds(median(days.map((d) => d[`${tool}Seconds`] ?? NaN)))} a day`,
            target: '',
          });
        }
      }
    }
  }
  if (result.restore)
    report.add({
      id: 'dumps.restoreSeconds',
      section: S,
      label: 'restore command --output of the last plain dump',
      value: result.restore.seconds,
      unit: 's',
      display: `${fmtSeconds(result.restore.seconds)} for ${fmtBytes(result.restore.bytes)}, ${fmtMiB(result.restore.rssKb)} peak RSS`,
      target: '',
    });
}

/** Per-day table for the standalone run. */
function dayTable(result: DumpsResult): string {
  const lines: string[] = [];
  for (const churn of DUMP_CHURNS) {
    lines.push(`\n${churn.key}: ${churn.label}`);
    lines.push(
      `day | ${DUMP_FORMATS.map((f) => `${f.key}: dump / growth / backup s`).join(' | ')}${result.series.some((s) => s.days[0]?.resticBytes !== undefined) ? ' | restic growth | borg growth' : ''}`,
    );
    for (let i = 0; i < result.days; i++) {
      const cells = DUMP_FORMATS.map((format) => {
        const days =
          result.series.find((s) => s.churn === churn.key && s.format === format.key)?.days ?? [];
        const d = days[i];
        return d
          ? `${fmtBytes(d.dumpBytes)} / ${fmtBytes(growth(days, i))} / ${d.backupSeconds.toFixed(2)}`
          : '';
      });
      const plain =
        result.series.find((s) => s.churn === churn.key && s.format === 'plain')?.days ?? [];
      const tool = (key: 'resticBytes' | 'borgBytes'): string => {
        const today = plain[i]?.[key];
        if (today === undefined) return '';
        return fmtBytes(i === 0 ? today : today - (plain[i - 1]?.[key] ?? 0));
      };
      lines.push(
        `${i + 1} | ${cells.join(' | ')}${plain[i]?.resticBytes !== undefined ? ` | ${tool('resticBytes')} | ${tool('borgBytes')}` : ''}`,
      );
    }
  }
  return lines.join('\n');
}

const invokedDirectly =
  process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);

if (invokedDirectly) {
  const work = await makeTempDir('bench-dumps');
  try {
    const report = new Report();
    const details: Record<string, unknown> = {};
    const result = await measureDumps({ work });
    reportDumps({ report, details }, result);
    console.log(report.table());
    console.log(dayTable(result));
  } finally {
    await removeTempDir(work);
  }
}
