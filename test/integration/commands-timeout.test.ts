// Commands that hang, through the real CLI and without a database: a backup command that sleeps
// past its commands[].timeout is stopped with everything it started, fails loudly (exit 1 alone,
// exit 3 beside one that works), leaves no snapshot of what it had written, and the previous
// output stays restorable; a restore command that hangs is stopped the same way, never given an
// end of file. Also: a timeout that is not a duration is a configuration error (exit 2).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../support/servers.js';
import { runCli, type CliResult } from '../support/workspace.js';

interface BackupJson {
  sets: Array<{ kind: string; name: string; ok: boolean; error: string | null }>;
  totals: { commands: number; failedCommands: number };
}

interface SnapshotJson {
  id: string;
  source: string;
  account: string;
}

/**
 * Processes of the group led by `pgid` that still run. Zombies do not count: whatever reaps
 * orphans here may never do it, and a zombie does nothing.
 */
function runningInGroup(pgid: number): number[] {
  const running: number[] = [];
  for (const name of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(group) === pgid && state !== 'Z') running.push(Number(name));
  }
  return running;
}

describe('commands that hang', () => {
  let dir: string;
  let working: string;
  let hanging: string;
  const shown = (run: CliResult): string => `exit ${run.code}\n${run.stdout}\n${run.stderr}`;

  /** A configuration over the shared repository and catalog with these `commands:` entries. */
  async function writeConfig(name: string, commands: string[]): Promise<string> {
    const path = join(dir, name);
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

  async function dumpSnapshots(): Promise<string[]> {
    const run = await runCli(working, ['--json', 'snapshots']);
    expect(run.code, shown(run)).toBe(0);
    return run
      .json<SnapshotJson[]>()
      .filter((row) => row.source === 'commands' && row.account === 'dump')
      .map((row) => row.id);
  }

  beforeAll(async () => {
    dir = await makeTempDir('commands-timeout');
    await writeFile(join(dir, 'repo.pass'), 'correct horse battery staple\n');
    await writeFile(
      join(dir, 'source.sql'),
      'CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n',
    );
    working = await writeConfig('working.yml', [
      '{ name: dump, backup: "cat source.sql", timeout: 1m }',
    ]);
    // The same command set, now hanging halfway through its output (a dump waiting for a lock),
    // with its process group's leader written down so the test can see that it is gone.
    hanging = await writeConfig('hanging.yml', [
      '{ name: dump, backup: "echo $$ > dump.pid; echo \'CREATE TABLE t\'; echo \'pg_dump: waiting for a lock\' >&2; sleep 30 | cat; touch dump.finished", restore: "cat > restored.sql", timeout: 1s }',
      '{ name: other, backup: "echo fine" }',
    ]);
    expect((await runCli(working, ['init', '--scrypt-cost', '10'])).code).toBe(0);
    const first = await runCli(working, ['backup', 'dump']);
    expect(first.code, shown(first)).toBe(0);
  });

  afterAll(async () => {
    if (dir) await removeTempDir(dir);
  });

  it('stops a backup command at its timeout and fails it loudly, writing no snapshot', async () => {
    const before = await dumpSnapshots();
    const started = Date.now();
    const run = await runCli(hanging, ['backup', 'dump']);
    // The only thing asked for failed: the backup failed.
    expect(run.code, shown(run)).toBe(1);
    expect(run.stderr).toContain(
      'mailvault: error: command dump timed out after 1s (commands[0].timeout) and was stopped: pg_dump: waiting for a lock',
    );
    expect(Date.now() - started).toBeLessThan(15_000);
    // Everything the command started is gone, not left sleeping.
    const pid = Number(readFileSync(join(dir, 'dump.pid'), 'utf8'));
    expect(runningInGroup(pid)).toEqual([]);
    expect(existsSync(join(dir, 'dump.finished'))).toBe(false);
    expect(await dumpSnapshots()).toEqual(before);
  });

  it('lists the timed-out command beside the one that worked (exit 3), in text and in --json', async () => {
    const text = await runCli(hanging, ['backup']);
    expect(text.code, shown(text)).toBe(3);
    expect(text.stdout).toContain(
      'FAILED  command dump: command dump timed out after 1s (commands[0].timeout) and was stopped',
    );
    expect(text.stdout).toMatch(/^backed up 1\/2 commands: .* read, .* added in /m);
    expect(text.stdout).not.toContain('accounts');

    const json = await runCli(hanging, ['--json', 'backup']);
    expect(json.code, shown(json)).toBe(3);
    const report = json.json<BackupJson>();
    expect(report.totals).toMatchObject({ commands: 2, failedCommands: 1 });
    expect(report.sets.find((set) => set.name === 'other')).toMatchObject({ ok: true });
    expect(report.sets.find((set) => set.name === 'dump')).toMatchObject({ ok: false });
    expect(report.sets.find((set) => set.name === 'dump')?.error).toMatch(/timed out after 1s/);
  });

  it('keeps the previous output restorable', async () => {
    const output = join(dir, 'previous.sql');
    const run = await runCli(hanging, ['restore', 'command', 'dump', '--output', output]);
    expect(run.code, shown(run)).toBe(0);
    expect(readFileSync(output, 'utf8')).toBe(readFileSync(join(dir, 'source.sql'), 'utf8'));
  });

  it('stops a restore command at the same timeout, before it sees an end of file', async () => {
    const config = await writeConfig('slow-restore.yml', [
      `{ name: dump, backup: "cat source.sql", restore: "sleep 30; cat > restored.sql", timeout: 1s }`,
    ]);
    const started = Date.now();
    const run = await runCli(config, ['restore', 'command', 'dump']);
    expect(run.code, shown(run)).toBe(1);
    expect(run.stderr).toContain(
      'mailvault: error: restore command of dump timed out after 1s (commands[0].timeout) and was stopped',
    );
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(existsSync(join(dir, 'restored.sql'))).toBe(false);
  });

  it('refuses a timeout that is not a duration, naming its key', async () => {
    const config = await writeConfig('bad-timeout.yml', [
      '{ name: dump, backup: "cat source.sql", timeout: 90 }',
    ]);
    const run = await runCli(config, ['backup']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('commands[0].timeout: a duration such as 30s, 30m, 6h or 2d');
  });
});
