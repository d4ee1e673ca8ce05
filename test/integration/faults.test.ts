// What an administrator's worst nights look like: the backup killed with SIGKILL halfway, the
// IMAP connection dropped in the middle of a FETCH, a restore killed halfway, a message the
// server lists but cannot read. Each runs the real CLI against a real Dovecot.
import { appendFile, chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox, readAccount, type AccountState } from '../support/imap-fixture.js';
import { MessageCounter, maildirFile, wipeAccount } from '../support/mail-admin.js';
import { generateMessages } from '../support/mail-generator.js';
import {
  auditRepository,
  watchRepository,
  type RepositoryEvent,
} from '../support/repository-files.js';
import { sleep } from '../support/servers.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { createWorkspace, withImapEndpoint, type Workspace, shown } from '../support/workspace.js';

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Running {
  kill(): void;
  finished: Promise<Finished>;
}

/** Starts the CLI on a workspace without waiting, for tests that kill it. */
function startCli(ws: Workspace, args: string[]): Running {
  const child = ws.spawn(args);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (data: Buffer) => out.push(data));
  child.stderr?.on('data', (data: Buffer) => err.push(data));
  const finished = new Promise<Finished>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
  });
  return {
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    finished,
  };
}

interface SnapshotRow {
  id: string;
  source: string;
  account: string;
  items: number;
}

interface LsFolders {
  folders: Array<{ path: string; count: number }>;
}

interface BackupJson {
  accounts: Array<{ account: string; ok: boolean; snapshot: string | null; items: number }>;
  failures: Array<{ account: string; folder?: string; uid?: number; reason: string }>;
  totals: { items: number };
}

interface RestoreJson {
  totals: { restored: number; alreadyPresent: number; failed: number };
}

async function snapshotsOf(ws: Workspace, account: string): Promise<SnapshotRow[]> {
  const result = await ws.run(['snapshots', '--json']);
  expect(result.code, shown(result)).toBe(0);
  return result.json<SnapshotRow[]>().filter((row) => row.account === account);
}

/** Messages per folder, as readAccount saw them: what a complete snapshot must list. */
function countsOf(state: AccountState): Record<string, number> {
  return Object.fromEntries(
    state.folders
      .filter((folder) => folder.messages.length > 0)
      .map((folder) => [folder.path, folder.messages.length]),
  );
}

function totalOf(state: AccountState): number {
  return state.folders.reduce((sum, folder) => sum + folder.messages.length, 0);
}

/** Folder counts of an account's latest snapshot, as `ls` shows them (empty folders left out). */
async function listedCounts(ws: Workspace, account: string): Promise<Record<string, number>> {
  const result = await ws.run(['ls', account, '--json']);
  expect(result.code, shown(result)).toBe(0);
  return Object.fromEntries(
    result
      .json<LsFolders>()
      .folders.filter((folder) => folder.count > 0)
      .map((folder) => [folder.path, folder.count]),
  );
}

/**
 * What a crash may leave in the repository: files under a temporary name inside the folder their
 * real name would go to (which check must ignore), and nothing else that is not complete.
 */
async function expectNoHalfWrittenFiles(ws: Workspace, when: string): Promise<void> {
  const audit = await auditRepository(ws.repository);
  expect(audit.mismatched, `${when}: files whose content does not match their name`).toEqual([]);
  expect(audit.strange, `${when}: files the repository format does not name so`).toEqual([]);
  for (const path of audit.temporary) {
    expect(path, `${when}: a temporary file outside its folder`).toMatch(
      /^(data\/[0-9a-f]{2}|index|snapshots|keys)\/\.tmp-[0-9a-f]+$/,
    );
  }
}

async function expectCheckPasses(ws: Workspace, readData: boolean, when: string): Promise<void> {
  const result = await ws.run(readData ? ['check', '--read-data'] : ['check']);
  expect(result.code, `${when}: check${readData ? ' --read-data' : ''}\n${shown(result)}`).toBe(0);
  expect(result.stdout).toMatch(/^no errors/m);
}

const INIT = ['init', '--scrypt-cost', '10'];

describe.skipIf(!haveDovecot)('faults', () => {
  let server: DovecotServer;

  beforeAll(async () => {
    server = await startDovecot({
      users: { alice: 'a', bob: 'b', carol: 'c', dave: 'd', erin: 'e', frank: 'f' },
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('SIGKILL at any point of a backup leaves a valid repository, and the next run completes', async () => {
    // Archive/2024 is backed up first (folders go in name order) and its large messages fill the
    // first pack (8 MiB) early; the thousands of small ones after them keep the run going.
    await fillMailbox(server, 'alice', {
      'Archive/2024': generateMessages({ tag: 'kill-archive', count: 70, largeEvery: 1 }),
      INBOX: generateMessages({ tag: 'kill-inbox', count: 1200 }),
      Sent: generateMessages({ tag: 'kill-sent', count: 300 }),
    });
    const before = await readAccount(server, 'alice');
    const total = totalOf(before);
    const ws = await createWorkspace(server, { accounts: ['alice'] });
    try {
      expect((await ws.run(INIT)).code).toBe(0);
      const isReal = (event: RepositoryEvent): boolean => /^[0-9a-f]{64}$/.test(event.name);
      // From the start of the run to its very end; the same repository takes every blow in turn.
      const points: Array<{
        name: string;
        afterMs?: number;
        mayFinish?: boolean;
        when?: (event: RepositoryEvent) => boolean;
      }> = [
        { name: 'right after start', afterMs: 250 },
        {
          name: 'while the first pack is being written',
          when: (event) => event.kind === 'data' && !isReal(event),
        },
        {
          name: 'right after the first pack is in place, halfway',
          when: (event) => event.kind === 'data' && isReal(event),
        },
        {
          name: 'right after the first index file',
          when: (event) => event.kind === 'index' && isReal(event),
        },
        {
          name: 'right after the snapshot file, while the catalog records it',
          mayFinish: true,
          when: (event) => event.kind === 'snapshots' && isReal(event),
        },
      ];
      for (const [i, point] of points.entries()) {
        const running = startCli(ws, ['backup']);
        const stopWatching = await watchRepository(ws.repository, (event) => {
          if (point.when?.(event)) running.kill();
        });
        const timer = point.afterMs ? setTimeout(() => running.kill(), point.afterMs) : undefined;
        const outcome = await running.finished;
        clearTimeout(timer);
        stopWatching();
        // The last point can lose the race with the end of the run: then it simply completed.
        if (!(point.mayFinish && outcome.code === 0)) {
          expect(outcome.signal, `killed ${point.name}?\n${shown(outcome)}`).toBe('SIGKILL');
        }

        await expectNoHalfWrittenFiles(ws, `killed ${point.name}`);
        await expectCheckPasses(ws, i % 2 === 1, `killed ${point.name}`);
        // A snapshot, once listed, holds the whole account: never a part of it. (One account:
        // a run file records at most one unchanged snapshot.)
        const audit = await auditRepository(ws.repository);
        const snapshots = await snapshotsOf(ws, 'alice');
        expect(snapshots.length, `killed ${point.name}: snapshot and run files vs listed`).toBe(
          audit.counts.snapshots + audit.counts.runs,
        );
        for (const snapshot of snapshots) {
          expect(snapshot.items, `killed ${point.name}: snapshot ${snapshot.id}`).toBe(total);
        }
        if (snapshots.length > 0) {
          expect(await listedCounts(ws, 'alice'), `killed ${point.name}`).toEqual(countsOf(before));
        }
      }

      const completed = await ws.run(['backup']);
      expect(completed.code, shown(completed)).toBe(0);
      await expectNoHalfWrittenFiles(ws, 'after the completing backup');
      await expectCheckPasses(ws, true, 'after the completing backup');
      expect((await snapshotsOf(ws, 'alice')).at(-1)?.items).toBe(total);
      expect(await listedCounts(ws, 'alice')).toEqual(countsOf(before));

      // A night later: new mail, and the incremental run is killed halfway. The last complete
      // snapshot must stay what it was, and the run after that must catch up.
      await fillMailbox(server, 'alice', {
        'Archive/2025': generateMessages({ tag: 'kill-archive-2025', count: 70, largeEvery: 1 }),
      });
      const later = await readAccount(server, 'alice');
      const running = startCli(ws, ['backup']);
      const stopWatching = await watchRepository(ws.repository, (event) => {
        if (event.kind === 'data' && isReal(event)) running.kill();
      });
      const outcome = await running.finished;
      stopWatching();
      expect(outcome.signal, `incremental run killed?\n${shown(outcome)}`).toBe('SIGKILL');
      await expectNoHalfWrittenFiles(ws, 'killed an incremental run');
      await expectCheckPasses(ws, false, 'killed an incremental run');
      expect(await listedCounts(ws, 'alice')).toEqual(countsOf(before));

      const caughtUp = await ws.run(['backup']);
      expect(caughtUp.code, shown(caughtUp)).toBe(0);
      await expectCheckPasses(ws, true, 'after the incremental run that caught up');
      expect((await snapshotsOf(ws, 'alice')).at(-1)?.items).toBe(totalOf(later));
      expect(await listedCounts(ws, 'alice')).toEqual(countsOf(later));

      await wipeAccount(server, 'alice');
      const restored = await ws.run(['restore', 'account', 'alice']);
      expect(restored.code, shown(restored)).toBe(0);
      expect(await readAccount(server, 'alice')).toEqual(later);
    } finally {
      await ws.remove();
    }
  }, 240_000);

  describe('a dropped IMAP connection', () => {
    it('is reconnected and the fetch resumed: the backup completes and restores every message', async () => {
      await fillMailbox(server, 'bob', {
        INBOX: generateMessages({ tag: 'drop-inbox', count: 300, largeEvery: 10 }),
        Sent: generateMessages({ tag: 'drop-sent', count: 100 }),
      });
      const before = await readAccount(server, 'bob');
      const mailboxBytes = before.folders
        .flatMap((folder) => folder.messages)
        .reduce((sum, message) => sum + message.size, 0);
      const cutAfter = 2 * 1024 * 1024;
      const proxy = await startTcpProxy(server, {
        trigger: /BODY\.PEEK\[\]/i,
        afterBytes: cutAfter,
        times: 1,
      });
      const ws = await createWorkspace(server, { accounts: ['bob'] });
      try {
        await writeFile(ws.config, withImapEndpoint(await readFile(ws.config, 'utf8'), proxy));
        expect((await ws.run(INIT)).code).toBe(0);

        const backup = await ws.run(['backup', '--json']);
        expect(proxy.cuts, 'the proxy cut a connection in the middle of a FETCH').toBe(1);
        expect(backup.code, shown(backup)).toBe(0);
        const report = backup.json<BackupJson>();
        expect(report.accounts.map((account) => account.ok)).toEqual([true]);
        expect(report.totals.items).toBe(totalOf(before));
        expect(proxy.connections).toBeGreaterThanOrEqual(2);
        // Resumed, not started over: what was fetched before the cut is not fetched again.
        expect(proxy.bytesToClient).toBeLessThan(mailboxBytes + cutAfter / 2);
        await expectCheckPasses(ws, true, 'after a backup with a dropped connection');

        await wipeAccount(server, 'bob');
        const restored = await ws.run(['restore', 'account', 'bob']);
        expect(restored.code, shown(restored)).toBe(0);
        expect(await readAccount(server, 'bob')).toEqual(before);
      } finally {
        await ws.remove();
        await proxy.close();
      }
    }, 120_000);

    it('that drops every time ends the account with a clear error, and leaves nothing half-written', async () => {
      // Every connection is cut 100 KB into its message bodies. frank's messages are each larger
      // than that, so none ever gets through, however often the backup retries; dave's whole
      // mailbox is smaller, so his backup is never cut.
      await fillMailbox(server, 'dave', {
        INBOX: generateMessages({ tag: 'small', count: 20 }),
      });
      await fillMailbox(server, 'frank', {
        INBOX: generateMessages({ tag: 'always-cut', count: 10, largeEvery: 1 }),
      });
      const dave = await readAccount(server, 'dave');
      const daveBytes = dave.folders
        .flatMap((folder) => folder.messages)
        .reduce((sum, message) => sum + message.size, 0);
      const cutAfter = 100 * 1024;
      expect(daveBytes).toBeLessThan(cutAfter / 2);
      const proxy = await startTcpProxy(server, {
        trigger: /BODY\.PEEK\[\]/i,
        afterBytes: cutAfter,
      });
      const ws = await createWorkspace(server, { accounts: ['frank', 'dave'] });
      try {
        await writeFile(ws.config, withImapEndpoint(await readFile(ws.config, 'utf8'), proxy));
        expect((await ws.run(INIT)).code).toBe(0);

        const alone = await ws.run(['backup', 'frank']);
        expect(alone.code, shown(alone)).toBe(1);
        expect(proxy.cuts, 'every attempt was cut').toBeGreaterThanOrEqual(2);
        const errors = alone.stderr
          .split('\n')
          .filter((line) => line.startsWith('mailvault: error:'));
        expect(errors, shown(alone)).toHaveLength(1);
        expect(errors[0]).toMatch(/frank/);
        expect(errors[0]).toMatch(/mail1/);
        expect(errors[0]).toMatch(/connection/i);
        expect(alone.stderr, 'no stack trace without --verbose').not.toMatch(/^\s+at /m);
        await expectNoHalfWrittenFiles(ws, 'after a backup that failed');
        await expectCheckPasses(ws, false, 'after a backup that failed');
        expect(await snapshotsOf(ws, 'frank')).toEqual([]);

        const both = await ws.run(['backup']);
        expect(both.code, shown(both)).toBe(3);
        expect(both.stdout).toMatch(/^FAILED\s+mail1\/frank: .*connection/im);
        expect(both.stdout).toMatch(/backed up 1\/2 accounts/);
        await expectNoHalfWrittenFiles(ws, 'after a backup with a failed account');
        await expectCheckPasses(ws, true, 'after a backup with a failed account');
        expect(await snapshotsOf(ws, 'frank')).toEqual([]);
        expect((await snapshotsOf(ws, 'dave')).map((row) => row.items)).toEqual([totalOf(dave)]);
      } finally {
        await ws.remove();
        await proxy.close();
      }
    }, 120_000);
  });

  it('a restore killed halfway, run again, gives back exactly the account, and a third run adds nothing', async () => {
    await fillMailbox(server, 'carol', {
      INBOX: generateMessages({ tag: 'restore-inbox', count: 900 }),
      Work: generateMessages({ tag: 'restore-work', count: 500, largeEvery: 50 }),
      'Work/Projects': generateMessages({ tag: 'restore-projects', count: 350 }),
      Sent: generateMessages({ tag: 'restore-sent', count: 250 }),
    });
    const before = await readAccount(server, 'carol');
    const total = totalOf(before);
    const ws = await createWorkspace(server, { accounts: ['carol'] });
    try {
      expect((await ws.run(INIT)).code).toBe(0);
      const backup = await ws.run(['backup']);
      expect(backup.code, shown(backup)).toBe(0);
      await wipeAccount(server, 'carol');

      const counter = await MessageCounter.open(server, 'carol');
      let atKill = 0;
      try {
        const running = startCli(ws, ['restore', 'account', 'carol']);
        let done = false;
        void running.finished.then(() => (done = true));
        while (!done) {
          const count = await counter.total();
          if (count >= total * 0.3) {
            running.kill();
            break;
          }
          await sleep(20);
        }
        const outcome = await running.finished;
        expect(outcome.signal, `killed halfway?\n${shown(outcome)}`).toBe('SIGKILL');
        atKill = await counter.total();
      } finally {
        await counter.close();
      }
      expect(atKill, 'some messages were back when the restore was killed').toBeGreaterThan(0);
      expect(atKill, 'not all of them').toBeLessThan(total);

      const again = await ws.run(['restore', 'account', 'carol']);
      expect(again.code, shown(again)).toBe(0);
      expect(await readAccount(server, 'carol')).toEqual(before);

      const third = await ws.run(['restore', 'account', 'carol', '--json']);
      expect(third.code, shown(third)).toBe(0);
      expect(third.json<RestoreJson>().totals).toMatchObject({
        restored: 0,
        alreadyPresent: total,
        failed: 0,
      });
      expect(await readAccount(server, 'carol')).toEqual(before);
    } finally {
      await ws.remove();
    }
  }, 180_000);

  describe('a message the server lists but cannot read', () => {
    // The Maildir file made unreadable to the mail processes (uid 5000): Dovecot lists the
    // message, but a FETCH of its body fails ("open(...) failed: Permission denied").
    const BAD_UID = 57;

    /** Fills the account, then makes message BAD_UID of INBOX unreadable; returns how to undo that. */
    async function fillAndBreak(
      target: DovecotServer,
      user: string,
    ): Promise<{ before: AccountState; repair: () => Promise<void> }> {
      await fillMailbox(target, user, {
        INBOX: generateMessages({ tag: `unreadable-${user}`, count: 150 }),
        Archive: generateMessages({ tag: `unreadable-${user}-archive`, count: 30 }),
      });
      const before = await readAccount(target, user);
      const file = await maildirFile(target, user, 'INBOX', BAD_UID);
      const { mode } = await stat(file);
      await chmod(file, 0o000);
      return { before, repair: () => chmod(file, mode & 0o7777) };
    }

    function expectNamed(report: BackupJson, user: string): void {
      expect(report.failures.map((f) => [f.account, f.folder, f.uid])).toEqual([
        [user, 'INBOX', BAD_UID],
      ]);
    }

    it('is named with its folder and UID, exit 3, everything else backed up; never dropped silently', async () => {
      const { before, repair } = await fillAndBreak(server, 'erin');
      const total = totalOf(before);
      const ws = await createWorkspace(server, { accounts: ['erin'] });
      try {
        expect((await ws.run(INIT)).code).toBe(0);
        const first = await ws.run(['backup']);
        expect(first.stdout, shown(first)).toMatch(
          new RegExp(`^FAILED\\s+mail1/erin INBOX UID ${BAD_UID}: `, 'm'),
        );
        expect(first.code, shown(first)).toBe(3);
        expect((await snapshotsOf(ws, 'erin')).map((row) => row.items)).toEqual([total - 1]);
        expect(await listedCounts(ws, 'erin')).toEqual({
          ...countsOf(before),
          INBOX: (countsOf(before).INBOX ?? 0) - 1,
        });

        // Still unreadable: the next (incremental) run must still say so, not forget it.
        const second = await ws.run(['backup', '--json']);
        expect(second.code, shown(second)).toBe(3);
        expectNamed(second.json<BackupJson>(), 'erin');

        // Readable again: the next run picks it up.
        await repair();
        const third = await ws.run(['backup', '--json']);
        expect(third.code, shown(third)).toBe(0);
        expect(third.json<BackupJson>().failures).toEqual([]);
        expect(await listedCounts(ws, 'erin')).toEqual(countsOf(before));

        await wipeAccount(server, 'erin');
        const restored = await ws.run(['restore', 'account', 'erin']);
        expect(restored.code, shown(restored)).toBe(0);
        expect(await readAccount(server, 'erin')).toEqual(before);
      } finally {
        await ws.remove();
      }
    }, 120_000);

    it('also when the server answers NO for it instead of disconnecting', async () => {
      // Dovecot's default (imap_fetch_failure = disconnect-immediately) drops the connection at
      // such a message; no-after sends everything else and ends the FETCH with NO [SERVERBUG].
      const other = await startDovecot({ users: { erin: 'e' } });
      try {
        await appendFile(join(other.dir, 'dovecot.conf'), '\nimap_fetch_failure = no-after\n');
        await other.restart();
        const { before } = await fillAndBreak(other, 'erin');
        const ws = await createWorkspace(other, { accounts: ['erin'] });
        try {
          expect((await ws.run(INIT)).code).toBe(0);
          const backup = await ws.run(['backup', '--json']);
          expect(backup.code, shown(backup)).toBe(3);
          const report = backup.json<BackupJson>();
          expectNamed(report, 'erin');
          expect(report.totals.items).toBe(totalOf(before) - 1);
        } finally {
          await ws.remove();
        }
      } finally {
        await other.stop();
      }
    }, 60_000);
  });
});
