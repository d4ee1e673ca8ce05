// Backups that report on themselves: the postBackup hook is told of each finished run (and its
// failure never fails the backup), every run is recorded in the catalog, and `status` says
// which account's last backup failed, how the last runs went, when the next ones are due and
// how big the repository is, against a real Dovecot.
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox, type FixtureMessage } from '../support/imap-fixture.js';
import { createWorkspace, runCli, type CliResult, type Workspace } from '../support/workspace.js';

interface BackupJson {
  run: string;
  started: string;
  finished: string;
  totals: { accounts: number; items: number; newItems: number; bytesAdded: number };
  hook: { command: string; exitCode: number | null; error: string | null } | null;
}

interface StatusJson {
  time: string;
  healthy: boolean;
  problems: string[];
  accounts: Array<{
    source: string;
    account: string;
    state: 'ok' | 'failed' | 'none';
    lastBackup: string | null;
    lastAttempt: { run: string; started: string; ok: boolean; error: string | null } | null;
  }>;
  runs: Array<{ kind: string; id: string; outcome: string; error: string | null }>;
  schedule: { timezone: string; jobs: Array<{ kind: string; cron: string; nextRuns: string[] }> };
  repository: { packs: number; packBytes: number; totalBytes: number; error: string | null };
}

const HOOK = 'env | grep ^MAILVAULT_ | sort > hook.env';
const FAILING_HOOK = "echo 'bacula: director unreachable' >&2; exit 5";
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function messages(count: number, tag: string): FixtureMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    raw: Buffer.from(
      `From: sender@example.com\r\nTo: you@example.com\r\nSubject: ${tag} ${i}\r\n` +
        `Message-ID: <${tag}-${i}@example.com>\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\n\r\n` +
        `Body of ${tag} ${i}\r\n`,
    ),
    flags: i % 2 ? ['\\Seen'] : [],
  }));
}

const shown = (result: CliResult): string =>
  `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;

describe.skipIf(!haveDovecot)('status and the postBackup hook', () => {
  let server: DovecotServer;
  let ws: Workspace;
  /** The workspace's configuration with another hooks line, or a wrong admin password. */
  let variant: (name: string, change: (yaml: string) => string) => Promise<string>;

  beforeAll(async () => {
    server = await startDovecot();
    ws = await createWorkspace(server, {
      accounts: ['alice', 'bob'],
      extra: [
        `hooks: { postBackup: ${JSON.stringify(HOOK)} }`,
        'schedule: { timezone: UTC, backup: "0 1 * * *", check: "0 0 4 * * 6" }',
      ].join('\n'),
    });
    const yaml = await readFile(ws.config, 'utf8');
    variant = async (name, change) => {
      const path = join(ws.dir, `${name}.yml`);
      const changed = change(yaml);
      expect(changed).not.toBe(yaml);
      await writeFile(path, changed);
      return path;
    };
    await fillMailbox(server, 'alice', { INBOX: messages(6, 'alice'), Archive: messages(3, 'a2') });
    await fillMailbox(server, 'bob', { INBOX: messages(4, 'bob') });
    expect((await ws.run(['init', '--scrypt-cost', '12'])).code).toBe(0);
  });
  afterAll(async () => {
    await server?.stop();
    await ws?.remove();
  });

  async function hookEnvironment(): Promise<Record<string, string>> {
    const text = await readFile(join(ws.dir, 'hook.env'), 'utf8');
    return Object.fromEntries(
      text
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
  }

  async function snapshotIds(): Promise<string[]> {
    const listed = await ws.run(['snapshots', '--json']);
    expect(listed.code, shown(listed)).toBe(0);
    return listed.json<Array<{ id: string }>>().map((row) => row.id);
  }

  async function status(config = ws.config): Promise<{ result: CliResult; json: StatusJson }> {
    const result = await runCli(config, ['status', '--json']);
    return { result, json: result.json<StatusJson>() };
  }

  it('runs the hook after a backup with the run, its snapshots and counts in its environment', async () => {
    const first = await ws.run(['backup', '--json']);
    expect(first.code, shown(first)).toBe(0);
    const report = first.json<BackupJson>();
    expect(report.hook).toEqual({ command: HOOK, exitCode: 0, error: null });
    const env = await hookEnvironment();
    const afterFirst = await snapshotIds();
    expect(afterFirst).toHaveLength(2);
    expect(env).toEqual({
      MAILVAULT_RUN_ID: report.run,
      MAILVAULT_RUN_STARTED: report.started,
      MAILVAULT_RUN_FINISHED: report.finished,
      MAILVAULT_OUTCOME: 'ok',
      MAILVAULT_REPOSITORY: ws.repository,
      MAILVAULT_SNAPSHOTS: expect.any(String),
      MAILVAULT_ACCOUNTS: expect.any(String),
      MAILVAULT_FAILED_ACCOUNTS: '',
      MAILVAULT_ACCOUNT_COUNT: '2',
      MAILVAULT_FAILED_ACCOUNT_COUNT: '0',
      MAILVAULT_ITEMS: '13',
      MAILVAULT_NEW_ITEMS: '13',
      MAILVAULT_BYTES_ADDED: String(report.totals.bytesAdded),
    });
    expect(env.MAILVAULT_SNAPSHOTS?.split(' ').sort()).toEqual([...afterFirst].sort());
    expect(env.MAILVAULT_ACCOUNTS?.split(' ').sort()).toEqual(['alice', 'bob']);

    // Nothing changed: the run's snapshots are the unchanged accounts' new entries, as listed.
    const second = await ws.run(['backup', '--json']);
    expect(second.code, shown(second)).toBe(0);
    const again = await hookEnvironment();
    expect(again.MAILVAULT_RUN_ID).toBe(second.json<BackupJson>().run);
    expect(again.MAILVAULT_NEW_ITEMS).toBe('0');
    const fresh = (await snapshotIds()).filter((id) => !afterFirst.includes(id));
    expect(fresh).toHaveLength(2);
    expect(again.MAILVAULT_SNAPSHOTS?.split(' ').sort()).toEqual(fresh.sort());
  });

  it('status after good backups: healthy, exit 0, each account ok, the last backup run ok', async () => {
    const { result, json } = await status();
    expect(result.code, shown(result)).toBe(0);
    expect(json.healthy).toBe(true);
    expect(json.problems).toEqual([]);
    expect(json.accounts.map((a) => [a.source, a.account, a.state])).toEqual([
      ['mail1', 'alice', 'ok'],
      ['mail1', 'bob', 'ok'],
    ]);
    expect(json.runs.map((r) => [r.kind, r.outcome])).toEqual([['backup', 'ok']]);
  });

  it('a failing hook: the backup still exits 0, with a warning and the hook in its JSON', async () => {
    const config = await variant('failing-hook', (yaml) =>
      yaml.replace(JSON.stringify(HOOK), JSON.stringify(FAILING_HOOK)),
    );
    const expected = 'hooks.postBackup exited with code 5: bacula: director unreachable';
    const json = await runCli(config, ['backup', '--json']);
    expect(json.code, shown(json)).toBe(0);
    expect(json.json<BackupJson>().hook).toEqual({
      command: FAILING_HOOK,
      exitCode: 5,
      error: expected,
    });
    expect(json.stderr).toContain(`mailvault: warning: ${expected}`);

    const text = await runCli(config, ['backup']);
    expect(text.code, shown(text)).toBe(0);
    expect(text.stderr).toContain(`mailvault: warning: ${expected}`);
    expect(text.stdout).toMatch(/backed up 2\/2 accounts/);

    // status tells the administrator that the hand-over did not happen.
    const after = await status(config);
    expect(after.result.code, shown(after.result)).toBe(3);
    expect(after.json.runs.find((r) => r.kind === 'backup')?.outcome).toBe('ok');
    expect(after.json.problems).toEqual([expect.stringContaining(`failed: ${expected}`)]);
  });

  it('a backup whose logins fail is recorded as failed, skips the hook, and status names each account', async () => {
    const before = await status();
    const lastGood = new Map(before.json.accounts.map((a) => [a.account, a.lastBackup]));
    await writeFile(join(ws.dir, 'wrong-admin.pass'), 'not-the-admin-password\n');
    const config = await variant('wrong-login', (yaml) =>
      yaml.replace(
        /passwordFile: .*admin\.pass/,
        `passwordFile: ${join(ws.dir, 'wrong-admin.pass')}`,
      ),
    );
    await rm(join(ws.dir, 'hook.env'), { force: true });
    const failed = await runCli(config, ['backup']);
    expect(failed.code, shown(failed)).toBe(1);
    // No hook after a run that backed nothing up.
    await expect(stat(join(ws.dir, 'hook.env'))).rejects.toThrow(/ENOENT/);

    const { result, json } = await status();
    expect(result.code, shown(result)).toBe(3);
    expect(json.healthy).toBe(false);
    const backupRun = json.runs.find((r) => r.kind === 'backup');
    expect(backupRun?.outcome).toBe('failed');
    expect(backupRun?.error).toMatch(/login|auth/i);
    for (const name of ['alice', 'bob']) {
      const account = json.accounts.find((a) => a.account === name);
      expect(account?.state).toBe('failed');
      expect(account?.lastAttempt?.ok).toBe(false);
      expect(account?.lastAttempt?.run).toBe(backupRun?.id);
      expect(account?.lastAttempt?.error).toMatch(/login|auth/i);
      // The last good backup is still the one before.
      expect(account?.lastBackup).toBe(lastGood.get(name));
      expect(json.problems).toContainEqual(
        expect.stringMatching(
          new RegExp(`^mail1/${name}: the last backup failed \\(run ${backupRun?.id}`),
        ),
      );
    }
    expect(json.problems).toContainEqual(
      expect.stringMatching(new RegExp(`^the last backup run \\(${backupRun?.id}, .*\\) failed: `)),
    );

    const text = await runCli(ws.config, ['status']);
    expect(text.code, shown(text)).toBe(3);
    expect(text.stdout).toMatch(/mail1\/alice\s+FAILED/);
    expect(text.stdout).toMatch(/backup\s+.*FAILED/);
    expect(text.stdout).toMatch(/problems:\n {2}mail1\/alice: the last backup failed/);

    // The history is not in the repository: a rebuilt catalog still knows how the run went.
    const rebuilt = await ws.run(['catalog', 'rebuild']);
    expect(rebuilt.code, shown(rebuilt)).toBe(0);
    const afterRebuild = await status();
    expect(afterRebuild.result.code, shown(afterRebuild.result)).toBe(3);
    expect(afterRebuild.json.accounts.map((a) => [a.account, a.state, a.lastBackup])).toEqual([
      ['alice', 'failed', lastGood.get('alice')],
      ['bob', 'failed', lastGood.get('bob')],
    ]);

    // The next good run makes it healthy again.
    const good = await ws.run(['backup']);
    expect(good.code, shown(good)).toBe(0);
    const healed = await status();
    expect(healed.result.code, shown(healed.result)).toBe(0);
    expect(healed.json.accounts.map((a) => a.state)).toEqual(['ok', 'ok']);
  });

  it('status --json gives the next scheduled runs and the repository size', async () => {
    const { result, json } = await status();
    expect(result.code, shown(result)).toBe(0);
    const now = Date.parse(json.time);
    // "0 1 * * *" in UTC: 01:00 UTC today if still ahead, else tomorrow's.
    const today = new Date(now);
    const todayAtOne = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate(), 1);
    const nextBackup = todayAtOne > now ? todayAtOne : todayAtOne + DAY;
    // "0 0 4 * * 6" (seconds first): Saturdays at 04:00:00 UTC.
    const daysToSaturday = (6 - today.getUTCDay() + 7) % 7;
    const saturdayAtFour = todayAtOne + 3 * HOUR + daysToSaturday * DAY;
    const nextCheck = saturdayAtFour > now ? saturdayAtFour : saturdayAtFour + 7 * DAY;
    expect(json.schedule.timezone).toBe('UTC');
    expect(json.schedule.jobs).toEqual([
      {
        kind: 'backup',
        cron: '0 1 * * *',
        nextRuns: [0, 1, 2].map((n) => new Date(nextBackup + n * DAY).toISOString()),
        error: null,
      },
      {
        kind: 'check',
        cron: '0 0 4 * * 6',
        nextRuns: [0, 1, 2].map((n) => new Date(nextCheck + n * 7 * DAY).toISOString()),
        error: null,
      },
    ]);

    // The packs on disk, counted here.
    let packs = 0;
    let packBytes = 0;
    for (const sub of await readdir(join(ws.repository, 'data'))) {
      for (const name of await readdir(join(ws.repository, 'data', sub))) {
        packs++;
        packBytes += (await stat(join(ws.repository, 'data', sub, name))).size;
      }
    }
    expect(packs).toBeGreaterThan(0);
    expect(json.repository).toMatchObject({ packs, packBytes, error: null });
    expect(json.repository.totalBytes).toBeGreaterThan(packBytes);

    const text = await ws.run(['status']);
    expect(text.code, shown(text)).toBe(0);
    expect(text.stdout).toContain('healthy: nothing needs a look');
    expect(text.stdout).toMatch(/backup\s+0 1 \* \* \*\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
  });
});
