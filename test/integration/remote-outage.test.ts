// A remote repository that goes away in the middle of a backup, on a real OpenSSH server (SFTP)
// and on s3rver (S3): the backup finishes into the local cache and says what waits to upload;
// the remote holds nothing that refers to what did not reach it; the catalog and the cache
// answer `snapshots`, `ls` and `search` meanwhile; once the remote is back, the next backup
// sends everything, and the repository checks out and restores the same mail. A backup started
// with the remote already down works from what the cache kept. And a backup killed between its
// first pack reaching the remote and its index, or in the middle of uploading a pack, leaves a
// remote that checks out, and a next backup that completes. A remote that freezes (its
// processes stopped, its connections open and silent) does not hold a backup either.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox, readAccount, type AccountState, mailOf } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { REMOTE_KINDS, type RemoteStore } from '../support/remote-stores.js';
import { sleep } from '../support/servers.js';
import {
  createWorkspace,
  runCli,
  type CliResult,
  type Workspace,
  shown,
} from '../support/workspace.js';

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Running {
  exited: boolean;
  kill(): void;
  finished: Promise<Finished>;
}

/** Starts the CLI without waiting, for tests that act while it runs. */
function startCli(ws: Workspace, args: string[]): Running {
  const child = ws.spawn(args);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (data: Buffer) => out.push(data));
  child.stderr?.on('data', (data: Buffer) => err.push(data));
  const running: Running = {
    exited: false,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    finished: new Promise<Finished>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => {
        running.exited = true;
        resolve({
          code,
          signal,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        });
      });
    }),
  };
  return running;
}

/** Polls until `condition` holds (every 10 ms: a remote's first pack is a short moment to catch). */
async function waitFor(condition: () => Promise<boolean>, what: string): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > 120_000) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

interface BackupJson {
  accounts: Array<{ account: string; ok: boolean; snapshot: string | null }>;
  totals: { items: number; newItems: number };
  pendingUploads: { files: number; bytes: number; remoteError?: string };
}

interface SnapshotRow {
  id: string;
  account: string;
  items: number;
}

const totalOf = (state: AccountState): number =>
  state.folders.reduce((sum, folder) => sum + folder.messages.length, 0);

/** The test waits this long for uploads at the end of a backup, not a minute. */
const CACHE = 'cache: { uploadWait: 3s }';

/**
 * Runs the CLI with the workspace's configuration but an empty cache: what it sees is what the
 * remote holds, nothing of what waits to upload.
 */
async function runOnRemoteAlone(ws: Workspace, args: string[]): Promise<CliResult> {
  const empty = await mkdtemp(join(ws.dir, 'empty-cache-'));
  const yaml = await readFile(ws.config, 'utf8');
  const config = join(empty, 'remote-alone.yml');
  const changed = yaml.replace(CACHE, `cache: { uploadWait: 3s, dir: ${empty} }`);
  if (changed === yaml) throw new Error('no cache settings in the configuration');
  await writeFile(config, changed);
  return runCli(config, args);
}

async function expectCheckPasses(ws: Workspace, args: string[], when: string): Promise<void> {
  const result = await runOnRemoteAlone(ws, args);
  expect(result.code, `${when}: ${args.join(' ')} on the remote alone\n${shown(result)}`).toBe(0);
  expect(result.stdout).toMatch(/^no errors/m);
}

for (const remote of REMOTE_KINDS) {
  describe.skipIf(!haveDovecot || !remote.available)(`a repository on ${remote.name}`, () => {
    let server: DovecotServer;
    let store: RemoteStore;
    let before: AccountState;
    const workspaces: Workspace[] = [];

    async function workspace(repository: string, account = 'alice'): Promise<Workspace> {
      const ws = await createWorkspace(server, {
        accounts: [account],
        repository: store.repository(repository, [CACHE]),
      });
      workspaces.push(ws);
      const init = await ws.run(['init', '--scrypt-cost', '10']);
      expect(init.code, shown(init)).toBe(0);
      return ws;
    }

    beforeAll(async () => {
      server = await startDovecot({ users: { alice: 'a', copy: 'c', bob: 'b', bobcopy: 'c' } });
      store = await remote.start();
      // Large messages first (Archive/2024 is backed up first): the first of some five packs
      // reaches the remote early, while the rest and the small messages after them keep the run
      // and its uploads going.
      await fillMailbox(server, 'alice', {
        'Archive/2024': generateMessages({ tag: 'outage-archive', count: 250, largeEvery: 1 }),
        INBOX: generateMessages({ tag: 'outage-inbox', count: 1200 }),
        Sent: generateMessages({ tag: 'outage-sent', count: 300 }),
      });
      before = await readAccount(server, 'alice');
    }, 180_000);

    // A test that fails while the remote is down or frozen leaves it up for the next one.
    afterEach(async () => {
      store?.thaw();
      await store?.startAgain();
    });

    afterAll(async () => {
      await server?.stop();
      await store?.stop();
      for (const ws of workspaces) await ws.remove();
    });

    it('finishes a backup the remote went away from, and sends everything at the next one', async () => {
      const ws = await workspace('outage');
      const running = startCli(ws, ['backup', '--json']);
      await waitFor(
        async () => running.exited || (await store.files('outage', 'data')).length > 0,
        'the first pack on the remote',
      );
      await store.shutDown();
      const outcome = await running.finished;
      expect(outcome.code, shown(outcome)).toBe(0);
      const report = JSON.parse(outcome.stdout) as BackupJson;
      expect(report.accounts.map((account) => account.ok)).toEqual([true]);
      expect(report.totals.items).toBe(totalOf(before));
      expect(report.pendingUploads.files, shown(outcome)).toBeGreaterThan(0);
      expect(report.pendingUploads.remoteError).toBeTruthy();
      // The remote holds nothing that refers to what did not reach it: no index, no snapshot.
      expect(await store.files('outage', 'snapshots')).toEqual([]);
      expect(await store.files('outage', 'index')).toEqual([]);

      // Meanwhile, the catalog and the cache answer what an administrator asks.
      const snapshots = await ws.run(['snapshots', '--json']);
      expect(snapshots.code, shown(snapshots)).toBe(0);
      const rows = snapshots.json<SnapshotRow[]>();
      expect(rows.map((row) => [row.account, row.items])).toEqual([['alice', totalOf(before)]]);
      expect(snapshots.stderr).toMatch(/cannot be reached .*working from the local cache/);
      expect(snapshots.stderr).toMatch(/waiting in the local cache to upload/);
      const ls = await ws.run(['ls', 'alice', 'INBOX', '--json']);
      expect(ls.code, shown(ls)).toBe(0);
      const search = await ws.run(['search', '--subject', 'outage-sent message 7', '--json']);
      expect(search.code, shown(search)).toBe(0);
      expect(search.json<unknown[]>().length).toBeGreaterThan(0);

      await store.startAgain();
      const next = await ws.run(['backup', '--json']);
      expect(next.code, shown(next)).toBe(0);
      const nextReport = next.json<BackupJson>();
      expect(nextReport.totals.newItems).toBe(0);
      expect(nextReport.pendingUploads).toEqual({ files: 0, bytes: 0 });
      // The account is as the first backup found it: recorded in a run file, not a snapshot.
      expect((await store.files('outage', 'snapshots')).length).toBe(1);
      expect((await store.files('outage', 'runs')).length).toBe(1);

      await expectCheckPasses(ws, ['check', '--read-data'], 'after the outage');
      const restore = await ws.run(['restore', 'account', 'alice', '--to-account', 'copy']);
      expect(restore.code, shown(restore)).toBe(0);
      expect(mailOf(await readAccount(server, 'copy'))).toEqual(mailOf(before));
    }, 300_000);

    it('ends a backup whose remote froze (answering nothing, closing nothing), and sends it all once it thaws', async () => {
      const ws = await workspace('frozen');
      const running = startCli(ws, ['backup', '--json']);
      await waitFor(
        async () => running.exited || (await store.files('frozen', 'data')).length > 0,
        'the first pack on the remote',
      );
      store.freeze();
      const started = Date.now();
      let outcome: Finished;
      try {
        outcome = await running.finished;
      } finally {
        store.thaw();
      }
      // Saves go to the cache, the end waits 3 s without progress, the close 10 s at most.
      expect(Date.now() - started, shown(outcome)).toBeLessThan(90_000);
      expect(outcome.code, shown(outcome)).toBe(0);
      const report = JSON.parse(outcome.stdout) as BackupJson;
      expect(report.totals.items).toBe(totalOf(before));
      expect(report.pendingUploads.files, shown(outcome)).toBeGreaterThan(0);
      expect(await store.files('frozen', 'snapshots')).toEqual([]);
      const next = await ws.run(['backup', '--json']);
      expect(next.code, shown(next)).toBe(0);
      expect(next.json<BackupJson>().pendingUploads).toEqual({ files: 0, bytes: 0 });
      await expectCheckPasses(ws, ['check'], 'after the freeze');
    }, 300_000);

    it('backs up an account again while the remote is down, from the packs the cache kept', async () => {
      await fillMailbox(server, 'bob', {
        INBOX: generateMessages({ tag: 'offline-inbox', count: 40, largeEvery: 10 }),
      });
      const ws = await workspace('offline', 'bob');
      const online = await ws.run(['backup', '--json']);
      expect(online.code, shown(online)).toBe(0);
      expect(online.json<BackupJson>().pendingUploads.files).toBe(0);

      await fillMailbox(server, 'bob', {
        INBOX: generateMessages({ tag: 'offline-new', count: 15 }),
      });
      await store.shutDown();
      const offline = await ws.run(['backup', '--json']);
      expect(offline.code, shown(offline)).toBe(0);
      const report = offline.json<BackupJson>();
      expect(report.totals.newItems).toBe(15);
      expect(report.pendingUploads.files).toBeGreaterThan(0);
      const snapshots = await ws.run(['snapshots', '--json']);
      expect(snapshots.json<SnapshotRow[]>().map((row) => row.items)).toEqual([40, 55]);

      await store.startAgain();
      const next = await ws.run(['backup', '--json']);
      expect(next.code, shown(next)).toBe(0);
      expect(next.json<BackupJson>().pendingUploads.files).toBe(0);
      await expectCheckPasses(ws, ['check', '--read-data'], 'after the offline backup');
      const restore = await ws.run(['restore', 'account', 'bob', '--to-account', 'bobcopy']);
      expect(restore.code, shown(restore)).toBe(0);
      expect(mailOf(await readAccount(server, 'bobcopy'))).toEqual(
        mailOf(await readAccount(server, 'bob')),
      );
    }, 300_000);

    it('leaves a remote that checks out when killed in the middle of a pack', async () => {
      const ws = await workspace('torn');
      const running = startCli(ws, ['backup']);
      await waitFor(
        async () => running.exited || (await store.packsArriving('torn')) > 0,
        'a pack arriving on the remote',
      );
      running.kill();
      const outcome = await running.finished;
      expect(outcome.signal, shown(outcome)).toBe('SIGKILL');
      await expectCheckPasses(ws, ['check'], 'killed in the middle of a pack');
      // The pack is sent again whole (s3rver keeps the torn one under its name: it is replaced).
      const next = await ws.run(['backup', '--json']);
      expect(next.code, shown(next)).toBe(0);
      expect(next.json<BackupJson>().pendingUploads.files).toBe(0);
      await expectCheckPasses(ws, ['check', '--read-data'], 'after the next backup');
    }, 300_000);

    it('leaves a remote that checks out when killed between a pack and its index', async () => {
      const ws = await workspace('crash');
      const running = startCli(ws, ['backup']);
      await waitFor(
        async () => running.exited || (await store.files('crash', 'data')).length > 0,
        'the first pack on the remote',
      );
      running.kill();
      const outcome = await running.finished;
      expect(outcome.signal, shown(outcome)).toBe('SIGKILL');
      expect(await store.files('crash', 'index')).toEqual([]);
      expect((await store.files('crash', 'data')).length).toBeGreaterThan(0);
      await expectCheckPasses(ws, ['check'], 'killed after a pack');

      const next = await ws.run(['backup', '--json']);
      expect(next.code, shown(next)).toBe(0);
      expect(next.json<BackupJson>().pendingUploads.files).toBe(0);
      await expectCheckPasses(ws, ['check', '--read-data'], 'after the next backup');
      // The killed run may have saved its snapshot to the cache already (saving there is quicker
      // than uploading): then it was sent with the rest, a backup as complete as any.
      const snapshots = await runOnRemoteAlone(ws, ['snapshots', '--json']);
      expect(snapshots.code, shown(snapshots)).toBe(0);
      const items = snapshots.json<SnapshotRow[]>().map((row) => row.items);
      expect(items.length).toBeGreaterThan(0);
      expect(
        items.every((count) => count === totalOf(before)),
        String(items),
      ).toBe(true);
    }, 300_000);
  });
}
