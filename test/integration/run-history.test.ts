// The run history tells the truth about runs that did not end: a backup or a check killed with
// SIGKILL or stopped with SIGTERM halfway is recorded (from its start) and shows as interrupted
// in `status`, which exits 3 for it until a later run of the kind goes well; a backup refused its
// repository (a wrong passphrase) is in the history as failed. The real CLI against a real
// Dovecot; the runs are stopped once the catalog shows them started.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { sleep } from '../support/servers.js';
import { createWorkspace, runCli, shown, type Workspace } from '../support/workspace.js';

interface StatusJson {
  healthy: boolean;
  problems: string[];
  runs: Array<{
    kind: string;
    id: string;
    outcome: string;
    finished: string | null;
    error: string | null;
    running: unknown;
  }>;
}

/** The runs of a kind the catalog holds as started and not ended, read beside the CLI. */
function runningRuns(ws: Workspace, kind: string): string[] {
  let db;
  try {
    db = new Database(ws.catalog, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    const rows = db
      .prepare("SELECT id FROM runs WHERE kind = ? AND outcome = 'running'")
      .all(kind) as Array<{ id: string }>;
    return rows.map((row) => row.id);
  } catch {
    return []; // no catalog, or no runs table yet
  } finally {
    db?.close();
  }
}

/**
 * Starts `args`, waits until its run of `kind` is in the catalog as started, sends `signal`, and
 * waits for the process to end; gives the id of the run it stopped.
 */
async function stopWhenStarted(
  ws: Workspace,
  args: string[],
  kind: string,
  signal: NodeJS.Signals,
): Promise<string> {
  const before = new Set(runningRuns(ws, kind));
  const child = ws.spawn(args);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdout?.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, how) => resolve({ code, signal: how })),
  );
  let id: string | undefined;
  const deadline = Date.now() + 60_000;
  while (id === undefined) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} ended first:\n${stderr}`);
    if (Date.now() > deadline) throw new Error(`${args.join(' ')} never recorded its start`);
    id = runningRuns(ws, kind).find((run) => !before.has(run));
    if (id === undefined) await sleep(20);
  }
  child.kill(signal);
  expect(await exited, stderr).toEqual({ code: null, signal });
  return id;
}

async function status(ws: Workspace): Promise<{ code: number | null; json: StatusJson }> {
  const result = await ws.run(['status', '--json']);
  expect([0, 3], shown(result)).toContain(result.code);
  return { code: result.code, json: result.json<StatusJson>() };
}

describe.skipIf(!haveDovecot)('run history: runs that did not end', () => {
  let server: DovecotServer;
  let ws: Workspace;

  beforeAll(async () => {
    server = await startDovecot({ users: { alice: 'a' } });
    await fillMailbox(server, 'alice', {
      INBOX: generateMessages({ tag: 'history', count: 1500, largeEvery: 10 }),
    });
    ws = await createWorkspace(server, { accounts: ['alice'] });
    expect((await ws.run(['init', '--scrypt-cost', '10'])).code).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await ws?.remove();
    await server?.stop();
  });

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`a backup stopped by ${signal} halfway shows as interrupted, and status exits 3 until a backup ends well`, async () => {
      const id = await stopWhenStarted(ws, ['backup'], 'backup', signal);
      const after = await status(ws);
      expect(after.code).toBe(3);
      expect(after.json.healthy).toBe(false);
      const backup = after.json.runs.find((run) => run.kind === 'backup');
      expect(backup).toMatchObject({ id, outcome: 'interrupted', finished: null, running: null });
      expect(backup?.error).toMatch(/ended before the run did/);
      expect(after.json.problems).toContainEqual(
        expect.stringMatching(new RegExp(`^the last backup run \\(${id}, .*\\) did not finish`)),
      );
      const human = await ws.run(['status']);
      expect(human.code).toBe(3);
      expect(human.stdout).toMatch(/INTERRUPTED/);

      const again = await ws.run(['backup']);
      expect(again.code, shown(again)).toBe(0);
      const healthy = await status(ws);
      expect(healthy.code, healthy.json.problems.join('\n')).toBe(0);
      expect(healthy.json.runs.find((run) => run.kind === 'backup')?.outcome).toBe('ok');
    }, 240_000);
  }

  it('a check killed halfway shows as interrupted', async () => {
    const id = await stopWhenStarted(ws, ['check', '--read-data'], 'check', 'SIGKILL');
    const after = await status(ws);
    expect(after.code).toBe(3);
    expect(after.json.runs.find((run) => run.kind === 'check')).toMatchObject({
      id,
      outcome: 'interrupted',
    });
    const check = await ws.run(['check']);
    expect(check.code, shown(check)).toBe(0);
    expect((await status(ws)).json.runs.find((run) => run.kind === 'check')?.outcome).toBe('ok');
  }, 240_000);

  it('a backup refused by its repository (a wrong passphrase) is recorded as failed', async () => {
    const wrong = join(ws.dir, 'wrong.pass');
    await writeFile(wrong, 'not the passphrase\n');
    const config = join(ws.dir, 'wrong-passphrase.yml');
    await writeFile(
      config,
      (await readFile(ws.config, 'utf8')).replace(join(ws.dir, 'repo.pass'), wrong),
    );
    const refused = await runCli(config, ['backup']);
    expect(refused.code, shown(refused)).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    const after = await status(ws);
    expect(after.code).toBe(3);
    const backup = after.json.runs.find((run) => run.kind === 'backup');
    expect(backup?.outcome).toBe('failed');
    expect(backup?.error).toMatch(/wrong passphrase/);
  }, 120_000);
});
