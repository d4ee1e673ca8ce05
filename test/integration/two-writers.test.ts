// Two backups at once on one repository and one catalog (two cron lines, a manual run beside the
// scheduled one): they take turns per account and file set. Both end well, what one stored the
// other does not store again, the run history shows two good runs and no interrupted one, and a
// backup killed while it held accounts keeps no later run waiting. The real CLI, twice at the
// same moment, against a real Dovecot.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { listRepository } from '../support/repository-files.js';
import { sleep } from '../support/servers.js';
import { createWorkspace, shown, type CliResult, type Workspace } from '../support/workspace.js';

const ACCOUNTS = ['alice', 'bob', 'carol'];
const WAITING =
  /^mail1\/(\w+): backup run (\S+) \(process (\d+) on .*\) is backing it up; this run backs up the rest first, then waits for it/m;

interface SnapshotJson {
  account: string;
  source: string;
}

async function repositoryBytes(ws: Workspace): Promise<number> {
  return (await listRepository(ws.repository)).reduce((sum, entry) => sum + entry.size, 0);
}

/** Rows of the catalog, read beside the CLI as an administrator's sqlite3 would. */
function catalogRows<T>(ws: Workspace, query: string): T[] {
  let db;
  try {
    db = new Database(ws.catalog, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    return db.prepare(query).all() as T[];
  } catch {
    return []; // no catalog yet, or not this table
  } finally {
    db?.close();
  }
}

/** A CLI process started with spawn, its output gathered, its end awaited. */
function watch(child: ChildProcess): { stderr: () => string; done: Promise<CliResult> } {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code) =>
      resolve({ code, stdout, stderr, json: () => JSON.parse(stdout) as never }),
    ),
  );
  return { stderr: () => stderr, done };
}

async function until(
  what: string,
  ready: () => boolean,
  ms = 60_000,
  shownOnFailure = () => '',
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}\n${shownOnFailure()}`);
    await sleep(20);
  }
}

/**
 * Stops a CLI process (SIGSTOP) between two writes to the catalog: stopped inside one, it would
 * hold the catalog's write lock and stall every other process, which is not what is tested here.
 */
function stopBetweenCatalogWrites(ws: Workspace, child: ChildProcess): void {
  const db = new Database(ws.catalog, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 30000');
    db.exec('BEGIN IMMEDIATE');
    child.kill('SIGSTOP');
    db.exec('ROLLBACK');
  } finally {
    db.close();
  }
}

/** The accounts and sets a backup run holds, as the catalog says. */
const heldBy = (ws: Workspace): Array<{ source: string; name: string; run_id: string }> =>
  catalogRows(ws, 'SELECT source, name, run_id FROM backup_claims');

describe.skipIf(!haveDovecot)('two backups at once on one repository and catalog', () => {
  let server: DovecotServer;
  let files: string;
  const workspaces: Workspace[] = [];
  /** What one backup of everything adds to an empty repository. */
  let oneBackup: number;

  beforeAll(async () => {
    server = await startDovecot({ users: Object.fromEntries(ACCOUNTS.map((a) => [a, 'pw'])) });
    for (const account of ACCOUNTS)
      await fillMailbox(server, account, {
        INBOX: generateMessages({ tag: `two-${account}`, count: 400, largeEvery: 20 }),
      });
    // A file set too: it takes turns as accounts do.
    files = join(server.dir, 'etc-app');
    await mkdir(files);
    for (let i = 0; i < 4; i++) await writeFile(join(files, `blob-${i}`), randomBytes(200_000));
    const alone = await workspace();
    const before = await repositoryBytes(alone);
    const one = await alone.run(['backup']);
    expect(one.code, shown(one)).toBe(0);
    oneBackup = (await repositoryBytes(alone)) - before;
  }, 240_000);
  afterAll(async () => {
    for (const ws of workspaces) await ws.remove();
    await server?.stop();
  });

  async function workspace(): Promise<Workspace> {
    const ws = await createWorkspace(server, {
      accounts: ACCOUNTS,
      concurrency: 2,
      extra: ['files:', '  - name: app', `    include: [${JSON.stringify(files)}]`].join('\n'),
    });
    workspaces.push(ws);
    expect((await ws.run(['init', '--scrypt-cost', '10'])).code).toBe(0);
    return ws;
  }

  /** Both runs ended well, each account and the file set has one snapshot of each, and status is healthy. */
  async function expectTwoGoodRuns(ws: Workspace, grew: number): Promise<void> {
    // Each account's and the file set's data once: the run that came second stored none of it.
    expect(grew).toBeLessThan(oneBackup * 1.05);
    const runs = catalogRows<{ outcome: string }>(
      ws,
      "SELECT outcome FROM runs WHERE kind = 'backup'",
    );
    expect(runs.map((run) => run.outcome)).toEqual(['ok', 'ok']);
    expect(heldBy(ws)).toEqual([]);
    const status = await ws.run(['status', '--json']);
    expect(status.code, shown(status)).toBe(0);
    expect(status.json<{ problems: string[] }>().problems).toEqual([]);
    const snapshots = await ws.run(['snapshots', '--json']);
    expect(snapshots.code, shown(snapshots)).toBe(0);
    const count = new Map<string, number>();
    for (const row of snapshots.json<SnapshotJson[]>())
      count.set(row.account, (count.get(row.account) ?? 0) + 1);
    expect(Object.fromEntries(count)).toEqual({ alice: 2, bob: 2, carol: 2, app: 2 });
    const check = await ws.run(['check', '--read-data']);
    expect(check.code, shown(check)).toBe(0);
  }

  it('started together, both end well and store everything once', async () => {
    const ws = await workspace();
    const before = await repositoryBytes(ws);
    // Two processes, as two cron jobs would be: the catalog's locks are the system's, per process.
    const [a, b] = await Promise.all([
      ws.run(['backup'], { process: true }),
      ws.run(['backup'], { process: true }),
    ]);
    expect(a.code, shown(a)).toBe(0);
    expect(b.code, shown(b)).toBe(0);
    for (const run of [a, b]) expect(run.stderr).not.toMatch(/warning|error|interrupted/i);
    await expectTwoGoodRuns(ws, (await repositoryBytes(ws)) - before);
  }, 300_000);

  it('a backup started beside a running one waits for the accounts it is backing up, and says so', async () => {
    const ws = await workspace();
    const before = await repositoryBytes(ws);
    const first = ws.spawn(['backup']);
    const firstRun = watch(first);
    await until('the first backup holds two accounts', () => heldBy(ws).length >= 2);
    // Held still, the first keeps its accounts: the second must back up the others, then wait.
    stopBetweenCatalogWrites(ws, first);
    const second = watch(ws.spawn(['backup']));
    try {
      await until(
        'the second backup says it waits',
        () => WAITING.test(second.stderr()),
        120_000,
        () => `its stderr:\n${second.stderr()}`,
      );
    } finally {
      first.kill('SIGCONT');
    }
    const [a, b] = await Promise.all([firstRun.done, second.done]);
    expect(a.code, shown(a)).toBe(0);
    expect(b.code, shown(b)).toBe(0);
    const [, account, run, pid] = WAITING.exec(b.stderr) ?? [];
    expect(ACCOUNTS).toContain(account);
    expect(pid).toBe(String(first.pid));
    expect(run).toMatch(/^\d{8}T\d{6}-[0-9a-f]{8}$/);
    await expectTwoGoodRuns(ws, (await repositoryBytes(ws)) - before);
  }, 300_000);

  it('a backup killed while it held accounts keeps no later backup waiting', async () => {
    const ws = await workspace();
    const first = ws.spawn(['backup']);
    const firstRun = watch(first);
    await until('the first backup holds an account', () => heldBy(ws).length > 0);
    first.kill('SIGKILL');
    await firstRun.done;
    expect(heldBy(ws).length).toBeGreaterThan(0);
    const next = await ws.run(['backup'], { timeoutMs: 120_000 });
    expect(next.code, shown(next)).toBe(0);
    expect(next.stderr).not.toMatch(/is backing it up/);
    expect(heldBy(ws)).toEqual([]);
  }, 300_000);
});
