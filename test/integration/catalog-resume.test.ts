// A `catalog rebuild` killed with SIGKILL midway, once it has recorded some but not all of the
// entries of a run file (accounts a backup found unchanged): the next sync (any command) and the
// next rebuild must end with the catalog equal to the repository, every snapshot file and every
// run-file entry listed once, and the same items as a rebuild never interrupted. Before, a run
// file counted as recorded once any one of its entries was, and the others stayed missing for
// good. Against a real Dovecot.
import { rm } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Repository } from '../../src/repository/repository.js';
import { expandRunFile } from '../../src/repository/snapshot/run-file.js';
import { LocalStorage } from '../../src/storage/local/local-storage.js';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { createWorkspace, shown, type Workspace } from '../support/workspace.js';

const PASSPHRASE = 'correct horse battery staple';
const ACCOUNTS = Array.from({ length: 10 }, (_, i) => `user${i}`);

/** The repository's snapshots by id, with the run file holding each (null: a snapshot file). */
async function repositorySnapshots(repository: string): Promise<Map<string, string | null>> {
  const storage = new LocalStorage(repository);
  const ids = new Map<string, string | null>();
  try {
    const opened = await Repository.open(storage, PASSPHRASE);
    for await (const name of storage.names('snapshots')) ids.set(name, null);
    for await (const name of storage.names('runs'))
      for (const { id } of expandRunFile(await opened.loadRunFile(name))) ids.set(id, name);
  } finally {
    await storage.close();
  }
  return ids;
}

interface SnapshotJson {
  id: string;
  account: string;
  time: string;
  items: number;
}

/** What `mailvault snapshots` lists (it syncs the catalog first). */
async function listed(ws: Workspace): Promise<SnapshotJson[]> {
  const result = await ws.run(['snapshots', '--json']);
  expect(result.code, shown(result)).toBe(0);
  return result
    .json<SnapshotJson[]>()
    .map(({ id, account, time, items }) => ({ id, account, time, items }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** Rows of the catalog's own tables a user sees through ls, search and history. */
function catalogCounts(path: string): Record<string, number> {
  const db = new Database(path, { readonly: true });
  try {
    const count = (table: string): number =>
      (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return Object.fromEntries(
      ['snapshots', 'accounts', 'folders', 'folder_states', 'items', 'item_states'].map((t) => [
        t,
        count(t),
      ]),
    );
  } finally {
    db.close();
  }
}

async function removeCatalog(ws: Workspace): Promise<void> {
  for (const suffix of ['', '-wal', '-shm']) await rm(`${ws.catalog}${suffix}`, { force: true });
}

describe.skipIf(!haveDovecot)('a catalog rebuild killed midway', () => {
  let server: DovecotServer;
  let ws: Workspace;
  let expected: Map<string, string | null>;
  /** What an uninterrupted rebuild gives. */
  let whole: { snapshots: SnapshotJson[]; counts: Record<string, number> };

  beforeAll(async () => {
    server = await startDovecot({ users: Object.fromEntries(ACCOUNTS.map((a) => [a, 'pw'])) });
    ws = await createWorkspace(server, { accounts: ACCOUNTS, concurrency: 2 });
    expect((await ws.run(['init', '--scrypt-cost', '10'])).code).toBe(0);
    // Three runs; in the later two every other account changes: the unchanged ones go into a
    // run file, whose entries interleave in time with the snapshot files of the changed ones.
    for (let run = 0; run < 3; run++) {
      for (const [i, account] of ACCOUNTS.entries()) {
        if (run > 0 && (i + run) % 2 === 0) continue;
        await fillMailbox(server, account, {
          INBOX: generateMessages({ tag: `resume-${run}-${account}`, count: 15 }),
        });
      }
      const backup = await ws.run(['backup']);
      expect(backup.code, shown(backup)).toBe(0);
    }
    expected = await repositorySnapshots(ws.repository);
    expect(new Set(expected.values()).size, 'run files and snapshot files').toBeGreaterThan(2);

    await removeCatalog(ws);
    const rebuild = await ws.run(['catalog', 'rebuild']);
    expect(rebuild.code, shown(rebuild)).toBe(0);
    whole = { snapshots: await listed(ws), counts: catalogCounts(ws.catalog) };
    expect(whole.snapshots.map((s) => s.id)).toEqual([...expected.keys()].sort());
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    await ws?.remove();
  });

  /**
   * Starts a rebuild on an empty catalog and kills it once a run file is partly recorded (some
   * of its entries in the catalog, not all); tried again if the kill came too late or too early.
   */
  async function killRebuildMidway(): Promise<void> {
    const runFiles = new Map<string, number>();
    for (const runFile of expected.values())
      if (runFile !== null) runFiles.set(runFile, (runFiles.get(runFile) ?? 0) + 1);
    for (let attempt = 0; attempt < 10; attempt++) {
      await removeCatalog(ws);
      const child = ws.spawn(['catalog', 'rebuild']);
      const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
      let done = false;
      void exited.then(() => (done = true));
      let partly = false;
      let db: Database.Database | undefined;
      while (!done && !partly) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        try {
          db ??= new Database(ws.catalog, { readonly: true, fileMustExist: true });
          const rows = db
            .prepare(
              'SELECT run_file AS runFile, count(*) AS n FROM snapshots WHERE run_file IS NOT NULL GROUP BY run_file',
            )
            .all() as Array<{ runFile: string; n: number }>;
          if (rows.length === 0) continue;
          child.kill('SIGSTOP');
          const again = db
            .prepare(
              'SELECT run_file AS runFile, count(*) AS n FROM snapshots WHERE run_file IS NOT NULL GROUP BY run_file',
            )
            .all() as Array<{ runFile: string; n: number }>;
          partly = again.some((row) => row.n < (runFiles.get(row.runFile) ?? 0));
          if (!partly) child.kill('SIGCONT');
        } catch {
          // Not created yet, or its tables not yet there.
        }
      }
      db?.close();
      child.kill('SIGKILL');
      await exited;
      if (partly) return;
    }
    throw new Error('no rebuild was caught with a run file partly recorded');
  }

  it('is completed by the next command’s sync: every snapshot and run-file entry once', async () => {
    await killRebuildMidway();
    const after = await listed(ws);
    expect(after.map((s) => s.id)).toEqual([...expected.keys()].sort());
    expect(after).toEqual(whole.snapshots);
    expect(catalogCounts(ws.catalog)).toEqual(whole.counts);
  }, 300_000);

  it('is resumed by the next rebuild, which ends equal to the repository', async () => {
    await killRebuildMidway();
    const before = catalogCounts(ws.catalog).snapshots;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(expected.size);
    const rebuild = await ws.run(['catalog', 'rebuild']);
    expect(rebuild.code, shown(rebuild)).toBe(0);
    expect(rebuild.stdout).toContain(
      `catalog rebuilt (an interrupted rebuild resumed) from ${expected.size} snapshots`,
    );
    expect(await listed(ws)).toEqual(whole.snapshots);
    expect(catalogCounts(ws.catalog)).toEqual(whole.counts);
    // Once finished, a rebuild starts afresh again.
    const fresh = await ws.run(['catalog', 'rebuild']);
    expect(fresh.code, shown(fresh)).toBe(0);
    expect(fresh.stdout).toContain(`catalog rebuilt from ${expected.size} snapshots`);
    expect(catalogCounts(ws.catalog)).toEqual(whole.counts);
  }, 300_000);
});
