// A full disk under the catalog: the user reads that there is no space, and at which path (exit
// 1), not SQLite's "cannot rollback - no transaction is active" that hid it. A run that started
// before the space ran out cannot record its end; once there is space again the run history
// shows it as interrupted (status exits 3), and the next backup records itself and takes in the
// snapshots the failed run wrote to the repository. The catalog lives on a real tmpfs of 2 MiB
// (mounted as root) filled with a file until the kernel says ENOSPC; a real Dovecot.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { sleep } from '../support/servers.js';
import {
  createWorkspace,
  MAILVAULT_BIN,
  runCli,
  shown,
  type Workspace,
} from '../support/workspace.js';
import { canMount, fill } from '../support/full-disk.js';

interface StatusJson {
  runs: Array<{ kind: string; outcome: string; error: string | null }>;
}

/** The outcome of backup runs the catalog holds, read beside the CLI. */
function backupRuns(catalog: string): string[] {
  const db = new Database(catalog, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return (
      db.prepare("SELECT outcome FROM runs WHERE kind = 'backup' ORDER BY started").all() as Array<{
        outcome: string;
      }>
    ).map((row) => row.outcome);
  } finally {
    db.close();
  }
}

function exited(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

describe.skipIf(!haveDovecot || !canMount)('a full disk under the catalog', () => {
  let server: DovecotServer;
  let ws: Workspace;
  let mounted: string;
  let config: string;
  let catalog: string;
  let filler: string;

  beforeAll(async () => {
    server = await startDovecot({ users: { alice: 'pw', bob: 'pw' } });
    for (const account of ['alice', 'bob'])
      await fillMailbox(server, account, {
        INBOX: generateMessages({ tag: `full-${account}`, count: 10 }),
      });
    ws = await createWorkspace(server, { accounts: ['alice', 'bob'], concurrency: 1 });
    mounted = join(ws.dir, 'small-fs');
    await mkdir(mounted);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', mounted]);
    catalog = join(mounted, 'catalog.sqlite');
    filler = join(mounted, 'filler');
    config = join(ws.dir, 'small-catalog.yml');
    await writeFile(
      config,
      (await readFile(ws.config, 'utf8')).replace(join(ws.dir, 'catalog.sqlite'), catalog),
    );
    expect((await runCli(config, ['init', '--scrypt-cost', '10'])).code).toBe(0);
    const first = await runCli(config, ['backup']);
    expect(first.code, shown(first)).toBe(0);
  }, 180_000);
  afterAll(async () => {
    if (mounted) execFileSync('umount', [mounted]);
    await ws?.remove();
    await server?.stop();
  });

  /** The refusal a user must read: no space, and which file; SQLite's rollback complaint hid it. */
  function expectNoSpaceNamed(result: { code: number | null; stdout: string; stderr: string }) {
    expect(result.code, shown(result)).toBe(1);
    expect(result.stderr, shown(result)).toMatch(/no space left/);
    expect(result.stderr, shown(result)).toContain(catalog);
    expect(result.stderr, shown(result)).not.toMatch(/cannot rollback|no transaction is active/);
  }

  it('full before a backup starts: it says so and where (exit 1); once space is back the next backup records itself', async () => {
    await fillMailbox(server, 'alice', {
      INBOX: generateMessages({ tag: 'full-before', count: 20 }),
    });
    await fill(filler);
    try {
      expectNoSpaceNamed(await runCli(config, ['backup']));
    } finally {
      await rm(filler);
    }
    const next = await runCli(config, ['backup']);
    expect(next.code, shown(next)).toBe(0);
    expect(backupRuns(catalog).at(-1)).toBe('ok');
    const alice = await runCli(config, ['snapshots', '--json']);
    const latest = alice
      .json<Array<{ account: string; items: number }>>()
      .filter((row) => row.account === 'alice')
      .at(-1);
    expect(latest?.items).toBe(30);
  }, 240_000);

  it('full during a backup: it says so and where (exit 1); the history then shows it interrupted, and the next backup goes well', async () => {
    await fillMailbox(server, 'bob', {
      INBOX: generateMessages({ tag: 'full-during', count: 300 }),
    });
    const runsBefore = backupRuns(catalog).length;
    const child = spawn(
      process.execPath,
      [MAILVAULT_BIN, '--config', config, '--no-progress', 'backup'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const done = exited(child);
    // Recorded as started: the space goes now, before the run records a snapshot.
    const deadline = Date.now() + 60_000;
    while (backupRuns(catalog).length === runsBefore) {
      if (Date.now() > deadline) throw new Error('the backup never recorded its start');
      await sleep(20);
    }
    await fill(filler);
    try {
      expectNoSpaceNamed({ ...(await done), stdout: '' });
    } finally {
      await rm(filler);
    }
    const status = await runCli(config, ['status', '--json']);
    const last = status.json<StatusJson>().runs.find((run) => run.kind === 'backup');
    expect(last?.outcome, shown(status)).toBe('interrupted');
    expect(status.code).toBe(3);
    const next = await runCli(config, ['backup']);
    expect(next.code, shown(next)).toBe(0);
    expect(backupRuns(catalog).at(-1)).toBe('ok');
  }, 240_000);
});
