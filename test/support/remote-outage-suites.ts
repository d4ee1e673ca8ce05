// A remote repository that goes away in the middle of a backup, on a real OpenSSH server (SFTP)
// and on s3rver (S3): the backup finishes into the local cache and says what waits to upload;
// the remote holds nothing that refers to what did not reach it; the catalog and the cache
// answer `snapshots`, `ls` and `search` meanwhile; once the remote is back, the next backup
// sends everything, and the repository checks out and restores the same mail. A backup started
// with the remote already down works from what the cache kept. And a backup killed between its
// first pack reaching the remote and its index, or in the middle of uploading a pack, leaves a
// remote that checks out, and a next backup that completes. A remote that freezes (its
// processes stopped, its connections open and silent) does not hold a backup either.
//
// Three suites, each run for one remote kind by a test file of its own (remote-outage-*,
// remote-offline-*, remote-killed-*), so that vitest runs them side by side.
import { describe, expect, it } from 'vitest';
import { haveDovecot } from './dovecot.js';
import { fillMailbox, mailOf, readAccount } from './imap-fixture.js';
import { generateMessages } from './mail-generator.js';
import {
  expectCheckPasses,
  outageFixture,
  runOnRemoteAlone,
  startCli,
  totalOf,
  waitFor,
  type BackupJson,
  type Finished,
  type SnapshotRow,
} from './remote-outage.js';
import type { RemoteKind } from './remote-stores.js';
import { shown } from './workspace.js';

/** The remote goes away, or freezes, while a backup of a large mailbox runs. */
export function outageWhileRunning(remote: RemoteKind): void {
  describe.skipIf(!haveDovecot || !remote.available)(`a repository on ${remote.name}`, () => {
    const fx = outageFixture(remote, { alice: 'a', copy: 'c' }, { largeMailbox: true });

    it('finishes a backup the remote went away from, and sends everything at the next one', async () => {
      const ws = await fx.workspace('outage');
      const running = startCli(ws, ['backup', '--json']);
      await waitFor(
        async () => running.exited || (await fx.store.files('outage', 'data')).length > 0,
        'the first pack on the remote',
      );
      await fx.store.shutDown();
      const outcome = await running.finished;
      expect(outcome.code, shown(outcome)).toBe(0);
      const report = JSON.parse(outcome.stdout) as BackupJson;
      expect(report.accounts.map((account) => account.ok)).toEqual([true]);
      expect(report.totals.items).toBe(totalOf(fx.before));
      expect(report.pendingUploads.files, shown(outcome)).toBeGreaterThan(0);
      expect(report.pendingUploads.remoteError).toBeTruthy();
      // The remote holds nothing that refers to what did not reach it: no index, no snapshot.
      expect(await fx.store.files('outage', 'snapshots')).toEqual([]);
      expect(await fx.store.files('outage', 'index')).toEqual([]);

      // Meanwhile, the catalog and the cache answer what an administrator asks.
      const snapshots = await ws.run(['snapshots', '--json']);
      expect(snapshots.code, shown(snapshots)).toBe(0);
      const rows = snapshots.json<SnapshotRow[]>();
      expect(rows.map((row) => [row.account, row.items])).toEqual([['alice', totalOf(fx.before)]]);
      expect(snapshots.stderr).toMatch(/cannot be reached .*working from the local cache/);
      expect(snapshots.stderr).toMatch(/waiting in the local cache to upload/);
      const ls = await ws.run(['ls', 'alice', 'INBOX', '--json']);
      expect(ls.code, shown(ls)).toBe(0);
      const search = await ws.run(['search', '--subject', 'outage-sent message 7', '--json']);
      expect(search.code, shown(search)).toBe(0);
      expect(search.json<unknown[]>().length).toBeGreaterThan(0);

      await fx.store.startAgain();
      const next = await ws.run(['backup', '--json']);
      expect(next.code, shown(next)).toBe(0);
      const nextReport = next.json<BackupJson>();
      expect(nextReport.totals.newItems).toBe(0);
      expect(nextReport.pendingUploads).toEqual({ files: 0, bytes: 0 });
      // The account is as the first backup found it: recorded in a run file, not a snapshot.
      expect((await fx.store.files('outage', 'snapshots')).length).toBe(1);
      expect((await fx.store.files('outage', 'runs')).length).toBe(1);

      await expectCheckPasses(ws, ['check', '--read-data'], 'after the outage');
      const restore = await ws.run(['restore', 'account', 'alice', '--to-account', 'copy']);
      expect(restore.code, shown(restore)).toBe(0);
      expect(mailOf(await readAccount(fx.server, 'copy'))).toEqual(mailOf(fx.before));
    }, 300_000);

    it('ends a backup whose remote froze (answering nothing, closing nothing), and sends it all once it thaws', async () => {
      const ws = await fx.workspace('frozen');
      const running = startCli(ws, ['backup', '--json']);
      await waitFor(
        async () => running.exited || (await fx.store.files('frozen', 'data')).length > 0,
        'the first pack on the remote',
      );
      fx.store.freeze();
      const started = Date.now();
      let outcome: Finished;
      try {
        outcome = await running.finished;
      } finally {
        fx.store.thaw();
      }
      // Saves go to the cache, the end waits 3 s without progress, the close 10 s at most.
      expect(Date.now() - started, shown(outcome)).toBeLessThan(90_000);
      expect(outcome.code, shown(outcome)).toBe(0);
      const report = JSON.parse(outcome.stdout) as BackupJson;
      expect(report.totals.items).toBe(totalOf(fx.before));
      expect(report.pendingUploads.files, shown(outcome)).toBeGreaterThan(0);
      expect(await fx.store.files('frozen', 'snapshots')).toEqual([]);
      const next = await ws.run(['backup', '--json']);
      expect(next.code, shown(next)).toBe(0);
      expect(next.json<BackupJson>().pendingUploads).toEqual({ files: 0, bytes: 0 });
      await expectCheckPasses(ws, ['check'], 'after the freeze');
    }, 300_000);
  });
}

/** The remote is down before a backup starts. */
export function outageAtStart(remote: RemoteKind): void {
  describe.skipIf(!haveDovecot || !remote.available)(`a repository on ${remote.name}`, () => {
    const fx = outageFixture(remote, { bob: 'b', bobcopy: 'c' }, { largeMailbox: false });

    it('backs up an account again while the remote is down, from the packs the cache kept', async () => {
      await fillMailbox(fx.server, 'bob', {
        INBOX: generateMessages({ tag: 'offline-inbox', count: 40, largeEvery: 10 }),
      });
      const ws = await fx.workspace('offline', 'bob');
      const online = await ws.run(['backup', '--json']);
      expect(online.code, shown(online)).toBe(0);
      expect(online.json<BackupJson>().pendingUploads.files).toBe(0);

      await fillMailbox(fx.server, 'bob', {
        INBOX: generateMessages({ tag: 'offline-new', count: 15 }),
      });
      await fx.store.shutDown();
      const offline = await ws.run(['backup', '--json']);
      expect(offline.code, shown(offline)).toBe(0);
      const report = offline.json<BackupJson>();
      expect(report.totals.newItems).toBe(15);
      expect(report.pendingUploads.files).toBeGreaterThan(0);
      const snapshots = await ws.run(['snapshots', '--json']);
      expect(snapshots.json<SnapshotRow[]>().map((row) => row.items)).toEqual([40, 55]);

      await fx.store.startAgain();
      const next = await ws.run(['backup', '--json']);
      expect(next.code, shown(next)).toBe(0);
      expect(next.json<BackupJson>().pendingUploads.files).toBe(0);
      await expectCheckPasses(ws, ['check', '--read-data'], 'after the offline backup');
      const restore = await ws.run(['restore', 'account', 'bob', '--to-account', 'bobcopy']);
      expect(restore.code, shown(restore)).toBe(0);
      expect(mailOf(await readAccount(fx.server, 'bobcopy'))).toEqual(
        mailOf(await readAccount(fx.server, 'bob')),
      );
    }, 300_000);
  });
}

/** A backup is killed while it uploads. */
export function killedWhileUploading(remote: RemoteKind): void {
  describe.skipIf(!haveDovecot || !remote.available)(`a repository on ${remote.name}`, () => {
    const fx = outageFixture(remote, { alice: 'a' }, { largeMailbox: true });

    it('leaves a remote that checks out when killed in the middle of a pack', async () => {
      const ws = await fx.workspace('torn');
      const running = startCli(ws, ['backup']);
      await waitFor(
        async () => running.exited || (await fx.store.packsArriving('torn')) > 0,
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
      const ws = await fx.workspace('crash');
      const running = startCli(ws, ['backup']);
      await waitFor(
        async () => running.exited || (await fx.store.files('crash', 'data')).length > 0,
        'the first pack on the remote',
      );
      running.kill();
      const outcome = await running.finished;
      expect(outcome.signal, shown(outcome)).toBe('SIGKILL');
      expect(await fx.store.files('crash', 'index')).toEqual([]);
      expect((await fx.store.files('crash', 'data')).length).toBeGreaterThan(0);
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
        items.every((count) => count === totalOf(fx.before)),
        String(items),
      ).toBe(true);
    }, 300_000);
  });
}
