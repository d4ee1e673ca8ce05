// The application core without the CLI: a Session opened on a configuration, the backup and
// account-restore services called in this process against a real Dovecot, their progress events
// and results checked as a server or a worker would see them. The services come from the compiled
// core (dist/app/), as the bundle holds them, so that their worker threads have their scripts.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as BackupServiceModule from '../../src/app/backup/backup-service.js';
import type * as ErrorsModule from '../../src/app/errors.js';
import type { ProgressEvent } from '../../src/app/progress.js';
import type * as RestoreServiceModule from '../../src/app/restore/account-restore-service.js';
import type * as SessionModule from '../../src/app/session.js';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox, mailOf, readAccount, type AccountState } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { createWorkspace, shown, type Workspace } from '../support/workspace.js';

const compiled = (path: string): Promise<unknown> =>
  import(
    /* @vite-ignore */ pathToFileURL(join(import.meta.dirname, '..', '..', 'dist', path)).href
  );

describe.skipIf(!haveDovecot)('the application core, called in process', () => {
  let server: DovecotServer;
  let ws: Workspace;
  let before: AccountState;
  let app: {
    Session: typeof SessionModule.Session;
    backUp: typeof BackupServiceModule.backUp;
    restoreAccountAt: typeof RestoreServiceModule.restoreAccountAt;
    isBadRequest: typeof ErrorsModule.isBadRequest;
  };

  /** A session as a server would open one: its warnings kept, the passphrase from its file. */
  function openSession(passphrase?: string): {
    session: SessionModule.Session;
    warnings: string[];
  } {
    const warnings: string[] = [];
    const session = new app.Session({
      configPath: ws.config,
      notices: { warn: (text) => warnings.push(text), note: () => undefined },
      passphrase: async (file) => ({
        value: passphrase ?? (await readFile(file ?? '', 'utf8')).trim(),
        source: passphrase ? 'the test' : 'the password file',
      }),
      logging: { verbose: false, quiet: true },
    });
    return { session, warnings };
  }

  beforeAll(async () => {
    app = {
      ...((await compiled('app/session.js')) as typeof SessionModule),
      ...((await compiled('app/backup/backup-service.js')) as typeof BackupServiceModule),
      ...((await compiled(
        'app/restore/account-restore-service.js',
      )) as typeof RestoreServiceModule),
      ...((await compiled('app/errors.js')) as typeof ErrorsModule),
    };
    server = await startDovecot({ users: { alice: 'a', copy: 'c' } });
    await fillMailbox(server, 'alice', {
      INBOX: generateMessages({ tag: 'inbox', count: 30 }),
      'Archive/2025': generateMessages({ tag: 'archive', count: 12 }),
    });
    before = await readAccount(server, 'alice');
    ws = await createWorkspace(server, { accounts: ['alice', 'copy'] });
    const init = await ws.run(['init', '--scrypt-cost', '10']);
    expect(init.code, shown(init)).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await ws?.remove();
  });

  it('backs up an account, telling its progress as events, and returns the run as a result', async () => {
    const { session, warnings } = openSession();
    const events: ProgressEvent[] = [];
    try {
      const result = await app.backUp(
        session,
        { names: ['alice'], program: 'mailvault (service test)' },
        (event) => events.push(event),
      );
      expect(result.outcome).toBe('ok');
      expect(result.report.totals.items).toBe(42);
      expect(result.report.accounts.map((account) => [account.account, account.ok])).toEqual([
        ['alice', true],
      ]);
      expect(result.imapCommands).toBeGreaterThan(0);
    } finally {
      await session.close();
    }
    expect(warnings).toEqual([]);
    const alice = { kind: 'account', source: 'mail1', name: 'alice' };
    expect(events[0]).toEqual({ type: 'started', operation: 'backup', parts: 1 });
    expect(events).toContainEqual({ type: 'part-started', part: alice });
    const folders = events.flatMap((event) => (event.type === 'folder' ? [event.folder] : []));
    expect(folders).toEqual(expect.arrayContaining(['INBOX', 'Archive/2025']));
    const items = events.flatMap((event) => (event.type === 'items' ? [event] : []));
    expect(items.reduce((sum, event) => sum + event.items, 0)).toBe(42);
    expect(items.reduce((sum, event) => sum + event.bytes, 0)).toBeGreaterThan(42 * 100);
    expect(events).toContainEqual({ type: 'part-finished', part: alice, ok: true });
    expect(events.at(-1)).toEqual({ type: 'finished', outcome: 'ok' });
    // The CLI sees what the service recorded: the run, its snapshot.
    const snapshots = await ws.run(['snapshots', '--json']);
    expect(
      snapshots.json<Array<{ source: string; account: string }>>().map((row) => row.account),
    ).toEqual(['alice']);
  });

  it('restores the account into another one exactly, with its folders and items as events', async () => {
    const { session } = openSession();
    const events: ProgressEvent[] = [];
    try {
      const report = await app.restoreAccountAt(
        session,
        {
          account: 'alice',
          at: 'last',
          toAccount: 'copy',
          parts: new Set(['mail']),
          requestedBy: 'the service test',
        },
        (event) => events.push(event),
      );
      expect(report.totals).toMatchObject({ restored: 42, alreadyPresent: 0, failed: 0 });
      expect(report.target).toBe('mail1/copy');
    } finally {
      await session.close();
    }
    expect(mailOf(await readAccount(server, 'copy'))).toEqual(mailOf(before));
    const items = events.flatMap((event) => (event.type === 'items' ? [event.items] : []));
    expect(items.reduce((sum, count) => sum + count, 0)).toBe(42);
    expect(events.at(-1)).toEqual({ type: 'finished', outcome: 'ok' });
  });

  it('refuses an unknown account as a bad request and a wrong passphrase as a failure, changing nothing', async () => {
    const unknown = openSession();
    const refused = await app
      .restoreAccountAt(unknown.session, {
        account: 'mallory',
        at: 'last',
        parts: new Set(['mail']),
        requestedBy: 'the service test',
      })
      .catch((error: unknown) => error);
    await unknown.session.close();
    expect(app.isBadRequest(refused)).toBe(true);
    expect(String(refused)).toMatch(/mallory/);

    const wrong = openSession('not the passphrase');
    const failed = await app
      .backUp(wrong.session, { names: ['alice'], program: 'mailvault (service test)' })
      .catch((error: unknown) => error);
    await wrong.session.close();
    expect(app.isBadRequest(failed)).toBe(false);
    expect(String(failed)).toMatch(/passphrase/);
    const snapshots = await ws.run(['snapshots', '--json']);
    expect(snapshots.json<unknown[]>()).toHaveLength(1);
  });
});
