// `mailvault serve` against a real Dovecot, with schedules seconds apart: it runs backups on its
// schedule one at a time, answers on its health endpoint, reloads its configuration on SIGHUP,
// stops cleanly on SIGTERM in the middle of a backup (the repository checks out, and the next
// daemon catches up the run and completes it), survives SIGKILL the same way, and e-mails the
// admins when a scheduled backup fails.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { freePort, sleep } from '../support/servers.js';
import { parseMail, startSmtpReceiver, type SmtpReceiver } from '../support/smtp-receiver.js';
import { createWorkspace, type Workspace, shown } from '../support/workspace.js';

interface LogLine {
  msg: string;
  kind?: string;
  code?: number | null;
  signal?: string | null;
}

/** A running daemon and the JSON lines it logged so far. */
class Serving {
  readonly lines: LogLine[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private stderr = '';

  constructor(readonly child: ChildProcess) {
    let pending = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const complete = pending.split('\n');
      pending = complete.pop() ?? '';
      for (const line of complete) {
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          // not a log line
        }
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    this.exited = new Promise((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
  }

  count(msg: string): number {
    return this.lines.filter((line) => line.msg === msg).length;
  }

  async waitFor(what: string, condition: () => boolean, timeoutMs = 60_000): Promise<void> {
    const started = Date.now();
    while (!condition()) {
      if (Date.now() - started > timeoutMs)
        throw new Error(
          `timed out waiting for ${what}; log:\n${this.lines.map((l) => JSON.stringify(l)).join('\n')}\nstderr:\n${this.stderr}`,
        );
      await sleep(50);
    }
  }
}

describe.skipIf(!haveDovecot)('mailvault serve', () => {
  let server: DovecotServer;
  let smtp: SmtpReceiver;
  let ws: Workspace;
  let port: number;
  let baseYaml: string;

  const configure = async (extra: string): Promise<void> => {
    await writeFile(ws.config, `${baseYaml}${extra}`);
  };

  beforeAll(async () => {
    server = await startDovecot({ users: { alice: 'a' } });
    smtp = await startSmtpReceiver();
    await fillMailbox(server, 'alice', {
      INBOX: generateMessages({ tag: 'serve', count: 400, largeEvery: 20 }),
    });
    ws = await createWorkspace(server, { accounts: ['alice'] });
    expect((await ws.run(['init', '--scrypt-cost', '10'])).code).toBe(0);
    baseYaml = await readFile(ws.config, 'utf8');
    port = await freePort();
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await smtp?.stop();
    await ws?.remove();
  });

  it('runs backups on its schedule, one at a time, and says how it is on /health', async () => {
    await configure(`schedule: { backup: "*/2 * * * * *" }\nserve: { healthPort: ${port} }\n`);
    const daemon = new Serving(ws.spawn(['serve']));
    try {
      await daemon.waitFor('two backups', () => daemon.count('backup finished') >= 2);
      // Never two at once: each start is followed by its end before the next start.
      const events = daemon.lines
        .filter((line) => line.msg === 'backup started' || line.msg === 'backup finished')
        .map((line) => line.msg);
      for (let i = 1; i < events.length; i++) expect(events[i]).not.toBe(events[i - 1]);

      const response = await fetch(`http://127.0.0.1:${port}/health`);
      const body = (await response.json()) as {
        healthy: boolean;
        daemon: { next: Array<{ kind: string; at: string }> };
        status: { runs: Array<{ kind: string; outcome: string }> };
      };
      expect(response.status).toBe(200);
      expect(body.healthy).toBe(true);
      expect(body.daemon.next.map((next) => next.kind)).toEqual(['backup']);
      expect(body.status.runs.find((run) => run.kind === 'backup')?.outcome).toBe('ok');

      // SIGHUP: the new schedule (once a year) is in force.
      await configure(`schedule: { backup: "0 0 1 1 *" }\nserve: { healthPort: ${port} }\n`);
      daemon.child.kill('SIGHUP');
      await daemon.waitFor('the reload', () => daemon.count('configuration reloaded') === 1);
      const reloaded = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as {
        daemon: { next: Array<{ at: string }> };
      };
      expect(reloaded.daemon.next[0]?.at).toMatch(/-01-01T/);
    } finally {
      daemon.child.kill('SIGTERM');
    }
    expect(await daemon.exited).toEqual({ code: 0, signal: null });
  });

  it('stops in the middle of a backup on SIGTERM; the next daemon catches the run up', async () => {
    await fillMailbox(server, 'alice', {
      Archive: generateMessages({ tag: 'serve-more', count: 600, largeEvery: 5 }),
    });
    await configure('schedule: { backup: "*/2 * * * * *" }\n');
    const first = new Serving(ws.spawn(['serve']));
    await first.waitFor('a backup to start', () => first.count('backup started') >= 1);
    await sleep(300);
    first.child.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.count('backup finished')).toBe(0);
    expect(first.count('backup failed')).toBe(0);
    const stopped = first.lines.find((line) => line.msg === 'backup interrupted');
    expect(stopped?.signal).toBe('SIGTERM');
    const check = await ws.run(['check']);
    expect(check.code, shown(check)).toBe(0);
    // The run it stopped is in the history, as interrupted: status is not fooled.
    const interrupted = await ws.run(['status', '--json']);
    expect(interrupted.code, shown(interrupted)).toBe(3);
    expect(
      interrupted
        .json<{ runs: Array<{ kind: string; outcome: string; error: string | null }> }>()
        .runs.find((run) => run.kind === 'backup'),
    ).toMatchObject({ outcome: 'interrupted', error: 'stopped by SIGTERM before it finished' });

    // Every ten seconds, and more than ten since the last backup that ran to its end: the
    // daemon starts with the run it missed, before any timer fires.
    const history = await ws.run(['status', '--json']);
    const lastBackup = history
      .json<{ runs: Array<{ kind: string; started: string }> }>()
      .runs.find((run) => run.kind === 'backup');
    const since = Date.now() - Date.parse(lastBackup?.started ?? '');
    if (since < 10_500) await sleep(10_500 - since);
    // Started just after a ten-second mark, so that the daemon (slow to start on a loaded
    // machine) sees the missed run before the next mark fires a scheduled one in its place.
    const intoPeriod = Date.now() % 10_000;
    if (intoPeriod > 1_000 || intoPeriod < 300) await sleep((10_300 - intoPeriod) % 10_000);
    await configure('schedule: { backup: "*/10 * * * * *" }\n');
    const second = new Serving(ws.spawn(['serve']));
    try {
      await second.waitFor('the missed backup', () => second.count('backup finished') >= 1);
      const queued = second.lines.find((line) => line.msg === 'backup queued') as
        (LogLine & { why?: string }) | undefined;
      expect(queued?.why).toMatch(/^missed: due /);
    } finally {
      second.child.kill('SIGTERM');
    }
    expect((await second.exited).code).toBe(0);
    const status = await ws.run(['status', '--json']);
    expect(status.code, shown(status)).toBe(0);
  }, 120_000);

  it('leaves a repository that checks out when killed outright, and e-mails a failed backup', async () => {
    await configure('schedule: { backup: "*/2 * * * * *" }\n');
    const killed = new Serving(ws.spawn(['serve']));
    await killed.waitFor('a backup to start', () => killed.count('backup started') >= 1);
    killed.child.kill('SIGKILL');
    await killed.exited;
    await sleep(3_000); // the orphaned backup ends on its own
    const check = await ws.run(['check']);
    expect(check.code, shown(check)).toBe(0);

    // A scheduled backup whose login is refused: the admins hear of it.
    const wrongPassword = baseYaml.replace(
      /accounts: \{ list: \[alice\] \}/,
      'accounts: { list: [ghost] }',
    );
    expect(wrongPassword).not.toBe(baseYaml);
    await writeFile(
      ws.config,
      `${wrongPassword}schedule: { backup: "*/2 * * * * *" }\nnotify: { smtp: { host: 127.0.0.1, port: ${smtp.port}, from: mailvault@example.com }, admins: [ops@example.com] }\n`,
    );
    const before = smtp.messages().length;
    const failing = new Serving(ws.spawn(['serve']));
    try {
      const [mail] = (await smtp.waitFor(before + 1, 60_000)).slice(before);
      const parsed = parseMail(mail?.raw ?? Buffer.alloc(0));
      expect(mail?.rcptTo).toEqual(['ops@example.com']);
      expect(parsed.subject).toMatch(/scheduled backup/);
      expect(parsed.text).toMatch(/ghost/);
    } finally {
      failing.child.kill('SIGTERM');
    }
    await failing.exited;

    // A job that fails before it can record itself (a wrong passphrase) is recorded by the
    // daemon, so that `status` does not say all is well.
    const wrongPass = `${ws.dir}/wrong.pass`;
    await writeFile(wrongPass, 'not the passphrase\n');
    await writeFile(
      ws.config,
      `${baseYaml.replace(`${ws.dir}/repo.pass`, wrongPass)}schedule: { backup: "*/2 * * * * *" }\n`,
    );
    const locked = new Serving(ws.spawn(['serve']));
    try {
      await locked.waitFor('the failed backup', () => locked.count('backup failed') >= 1);
    } finally {
      locked.child.kill('SIGTERM');
    }
    await locked.exited;
    await configure('');
    const status = await ws.run(['status', '--json']);
    expect(status.code).toBe(3);
    const backup = status
      .json<{ runs: Array<{ kind: string; outcome: string; error: string | null }> }>()
      .runs.find((run) => run.kind === 'backup');
    expect(backup?.outcome).toBe('failed');
    expect(backup?.error).toMatch(/passphrase/);
  }, 120_000);

  it('logs a job that had finished its run when SIGTERM came as it finished, not as failed', async () => {
    // The hook runs after the run is recorded; it holds the job open until the daemon stops.
    const hookPid = `${ws.dir}/hook.pid`;
    await configure(
      `schedule: { backup: "*/2 * * * * *" }\nhooks: { postBackup: "echo $$ > ${hookPid}; exec sleep 60 >/dev/null 2>&1" }\n`,
    );
    const daemon = new Serving(ws.spawn(['serve']));
    let pid: number | undefined;
    try {
      await daemon.waitFor('the hook to run', () => {
        try {
          pid = Number(readFileSync(hookPid, 'utf8'));
        } catch {
          return false;
        }
        return Number.isInteger(pid) && pid > 0;
      });
    } finally {
      daemon.child.kill('SIGTERM');
    }
    try {
      expect(await daemon.exited).toEqual({ code: 0, signal: null });
      const ended = daemon.lines.filter((line) =>
        /^backup (finished|failed|interrupted)$/.test(line.msg),
      );
      expect(ended.map((line) => [line.msg, line.signal])).toEqual([
        ['backup finished', 'SIGTERM'],
      ]);
      const status = await ws.run(['status', '--json']);
      expect(status.code, shown(status)).toBe(0);
    } finally {
      try {
        if (pid) process.kill(pid, 'SIGKILL');
      } catch {
        // gone with the job already
      }
      await configure('');
    }
  }, 120_000);
});
