// Mistakes an administrator makes, and what they must see: one line on stderr that says what
// went wrong and where, the contract's exit code (2 bad usage or configuration, 1 the operation
// failed), and a repository left exactly as it was.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { listRepository, type RepositoryEntry } from '../support/repository-files.js';
import { freePort } from '../support/servers.js';
import {
  createWorkspace,
  runCli,
  withImapEndpoint,
  type CliResult,
  type Workspace,
  shown,
} from '../support/workspace.js';

/** The single line a failed command must print on stderr (and no stack trace). */
function oneLine(result: CliResult): string {
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  expect(lines, `exactly one line on stderr\n${shown(result)}`).toHaveLength(1);
  return lines[0] ?? '';
}

describe.skipIf(!haveDovecot)('bad input', () => {
  let server: DovecotServer;
  let ws: Workspace;
  let config: string;
  let variants = 0;
  let listingBefore: RepositoryEntry[];
  let itemId: string;
  let snapshotsBefore: unknown;

  /** Writes a configuration beside the workspace's one (same folder, so relative paths agree). */
  async function variant(text: string): Promise<string> {
    const path = join(ws.dir, `variant-${++variants}.yml`);
    await writeFile(path, text);
    return path;
  }

  /** The repository must be exactly as it was: no file added, removed or changed in size. */
  async function expectRepositoryUntouched(): Promise<void> {
    expect(await listRepository(ws.repository)).toEqual(listingBefore);
  }

  beforeAll(async () => {
    server = await startDovecot();
    ws = await createWorkspace(server, { accounts: ['alice', 'bob'] });
    config = await readFile(ws.config, 'utf8');
    await fillMailbox(server, 'alice', {
      INBOX: generateMessages({ tag: 'bad-input', count: 12 }),
    });
    expect((await ws.run(['init', '--scrypt-cost', '10'])).code).toBe(0);
    const backup = await ws.run(['backup']);
    expect(backup.code, shown(backup)).toBe(0);
    const ls = await ws.run(['ls', 'alice', 'INBOX', '--json']);
    expect(ls.code, shown(ls)).toBe(0);
    const first = ls.json<{ items: Array<{ key: string }> }>().items[0];
    if (!first) throw new Error(`ls listed no items:\n${shown(ls)}`);
    itemId = first.key;
    const snapshots = await ws.run(['snapshots', '--json']);
    expect(snapshots.code, shown(snapshots)).toBe(0);
    snapshotsBefore = snapshots.json();
  });
  afterAll(async () => {
    await ws?.remove();
    await server?.stop();
  });
  beforeEach(async () => {
    listingBefore = await listRepository(ws.repository);
  });

  describe('a wrong repository passphrase', () => {
    async function expectRefused(result: CliResult): Promise<void> {
      expect(result.code, shown(result)).toBe(1);
      const line = oneLine(result);
      expect(line).toMatch(/passphrase/i);
      // Where: which repository refused it.
      expect(line).toContain(ws.repository);
      await expectRepositoryUntouched();
    }

    it('from the passwordFile: backup and ls refuse', async () => {
      await writeFile(join(ws.dir, 'wrong.pass'), 'not the passphrase\n');
      const path = await variant(
        config.replace(/passwordFile: .*repo\.pass/, `passwordFile: ${join(ws.dir, 'wrong.pass')}`),
      );
      await expectRefused(await runCli(path, ['backup']));
      await expectRefused(await runCli(path, ['ls', 'alice']));
    });

    it('from $MAILVAULT_PASSWORD: backup and ls refuse', async () => {
      const path = await variant(config.replace(/^ {2}passwordFile: .*repo\.pass\n/m, ''));
      expect(await readFile(path, 'utf8')).not.toContain('repo.pass');
      const env = { MAILVAULT_PASSWORD: 'not the passphrase' };
      await expectRefused(await runCli(path, ['backup'], { env }));
      await expectRefused(await runCli(path, ['ls', 'alice'], { env }));
    });
  });

  describe('a bad configuration file', () => {
    it('missing: exit 2, naming the file', async () => {
      const path = join(ws.dir, 'no-such-config.yml');
      const result = await runCli(path, ['backup']);
      expect(result.code, shown(result)).toBe(2);
      const line = oneLine(result);
      expect(line).toContain(path);
      expect(line).toMatch(/no such file/i);
      await expectRepositoryUntouched();
    });

    it('unreadable (a folder in its place, since tests run as root): exit 2, naming the file', async () => {
      const path = join(ws.dir, 'a-folder.yml');
      await mkdir(path, { recursive: true });
      const result = await runCli(path, ['backup']);
      expect(result.code, shown(result)).toBe(2);
      expect(oneLine(result)).toContain(path);
      await expectRepositoryUntouched();
    });

    it('invalid YAML: exit 2, naming the file and the line', async () => {
      const lines = config.split('\n');
      const at = lines.findIndex((line) => line.startsWith('backup:'));
      expect(at).toBeGreaterThan(0);
      // A mapping nested in a compact one: a YAML error on exactly this line.
      lines[at] = 'backup: concurrency: 4';
      const path = await variant(lines.join('\n'));
      const result = await runCli(path, ['backup']);
      expect(result.code, shown(result)).toBe(2);
      const line = oneLine(result);
      expect(line).toMatch(/yaml/i);
      // Lines count from 1, as editors show them.
      expect(line).toContain(`${path}:${at + 1}`);
      await expectRepositoryUntouched();
    });

    it('a misspelt key: exit 2, naming its path', async () => {
      const path = await variant(config.replace('imap: { host:', 'imap: { hots:'));
      const result = await runCli(path, ['backup']);
      expect(result.code, shown(result)).toBe(2);
      const line = oneLine(result);
      expect(line).toContain(path);
      expect(line).toContain('servers[0].imap.hots');
      await expectRepositoryUntouched();
    });

    it('a value of the wrong type: exit 2, naming the key', async () => {
      const path = await variant(config.replace(/concurrency: \d+/, 'concurrency: many'));
      expect(await readFile(path, 'utf8')).toContain('concurrency: many');
      const result = await runCli(path, ['backup']);
      expect(result.code, shown(result)).toBe(2);
      const line = oneLine(result);
      expect(line).toContain(path);
      expect(line).toContain('backup.concurrency');
      await expectRepositoryUntouched();
    });
  });

  describe('a configuration that could never work is refused when it is loaded', () => {
    it('a DAV source read with the administrator login but no principalPath: exit 2, naming the key, before anything runs', async () => {
      const path = await variant(
        config.replace(/( {4}imap: [^\n]*\n)/, '$1    dav: { url: "http://127.0.0.1:9/dav/" }\n'),
      );
      for (const args of [['backup'], ['snapshots']]) {
        const result = await runCli(path, args);
        expect(result.code, `${args.join(' ')}\n${shown(result)}`).toBe(2);
        const line = oneLine(result);
        expect(line).toContain(path);
        expect(line).toContain('servers[0].dav.principalPath');
        expect(line).toContain('{account}');
      }
      await expectRepositoryUntouched();
    });

    it('a password file that does not exist: exit 2, naming its key and path, whatever the command', async () => {
      const missing = join(ws.dir, 'no-such-admin.pass');
      const path = await variant(
        config.replace(/passwordFile: .*admin\.pass/, `passwordFile: ${missing}`),
      );
      for (const args of [['backup'], ['snapshots'], ['status']]) {
        const result = await runCli(path, args);
        expect(result.code, `${args.join(' ')}\n${shown(result)}`).toBe(2);
        const line = oneLine(result);
        expect(line).toContain('servers[0].imap.auth.passwordFile');
        expect(line).toContain(missing);
        expect(line).toMatch(/no such file/);
      }
      await expectRepositoryUntouched();
    });
  });

  it("restore external without the other repository's passphrase names --password-file and its variable, not this repository's", async () => {
    const result = await ws.run([
      'restore',
      'external',
      '--repo',
      ws.repository,
      '--account',
      'alice',
    ]);
    expect(result.code, shown(result)).toBe(2);
    const line = oneLine(result);
    expect(line).toContain('--password-file');
    expect(line).toContain('$MAILVAULT_EXTERNAL_PASSWORD');
    expect(line).not.toContain('repository.passwordFile');
    expect(line).not.toContain('$MAILVAULT_PASSWORD');
    await expectRepositoryUntouched();
  });

  it('an unreachable IMAP server: backup exits 1 with one line naming the server', async () => {
    const closed = await freePort();
    // One retry keeps the test short; what is printed does not depend on the count.
    const path = await variant(
      withImapEndpoint(config, { host: '127.0.0.1', port: closed }, 'retries: 1'),
    );
    const result = await runCli(path, ['backup']);
    expect(result.code, shown(result)).toBe(1);
    const line = oneLine(result);
    expect(line).toContain('mail1');
    expect(line).toContain(`127.0.0.1:${closed}`);
    expect(line).toMatch(/connect|refused|unreachable/i);
    await expectRepositoryUntouched();
  });

  it('a wrong admin password: backup exits 1 with one line saying the login was refused', async () => {
    await writeFile(join(ws.dir, 'wrong-admin.pass'), 'not-the-admin-password\n');
    const path = await variant(
      config.replace(
        /passwordFile: .*admin\.pass/,
        `passwordFile: ${join(ws.dir, 'wrong-admin.pass')}`,
      ),
    );
    const result = await runCli(path, ['backup', 'alice']);
    expect(result.code, shown(result)).toBe(1);
    const line = oneLine(result);
    expect(line).toMatch(/login/i);
    expect(line).toMatch(/refused|failed|rejected/i);
    expect(line).toContain('mail1');
    await expectRepositoryUntouched();
  });

  describe('unknown accounts', () => {
    it('backup of an account not in the configuration: exit 2, naming it', async () => {
      const result = await ws.run(['backup', 'carol']);
      expect(result.code, shown(result)).toBe(2);
      expect(oneLine(result)).toContain('carol');
      await expectRepositoryUntouched();
    });

    it('ls and restore of an account with no backups: exit 2, naming it', async () => {
      for (const args of [
        ['ls', 'nobody'],
        ['restore', 'account', 'nobody'],
      ]) {
        const result = await ws.run(args);
        expect(result.code, `${args.join(' ')}\n${shown(result)}`).toBe(2);
        expect(oneLine(result)).toContain('nobody');
        await expectRepositoryUntouched();
      }
    });
  });

  it('dates that do not parse: exit 2, naming the option and the text', async () => {
    for (const [args, text] of [
      [['ls', 'alice', '--at', 'yesterday'], 'yesterday'],
      [['restore', 'account', 'alice', '--at', '2026-13-45'], '2026-13-45'],
    ] as const) {
      const result = await ws.run([...args]);
      expect(result.code, `${args.join(' ')}\n${shown(result)}`).toBe(2);
      const line = oneLine(result);
      expect(line).toContain('--at');
      expect(line).toContain(text);
      await expectRepositoryUntouched();
    }
  });

  it('show with a malformed id, and with an unknown well-formed one: exit 2', async () => {
    const malformed = await ws.run(['show', 'not-an-id']);
    expect(malformed.code, shown(malformed)).toBe(2);
    expect(oneLine(malformed)).toContain('not-an-id');
    // Same form as a real id (from ls), but no backup holds it.
    const unknown = itemId === '0123456789abcdef' ? 'fedcba9876543210' : '0123456789abcdef';
    const missing = await ws.run(['show', unknown]);
    expect(missing.code, shown(missing)).toBe(2);
    expect(oneLine(missing)).toContain(unknown);
    // The real one is shown, so the refusal above is about the id, not about show.
    const real = await ws.run(['show', itemId]);
    expect(real.code, shown(real)).toBe(0);
    await expectRepositoryUntouched();
  });

  it('init where a repository already is: refused, exit 1, the repository intact', async () => {
    const result = await ws.run(['init', '--scrypt-cost', '10']);
    expect(result.code, shown(result)).toBe(1);
    const line = oneLine(result);
    expect(line).toContain(ws.repository);
    expect(line).toMatch(/already/i);
    await expectRepositoryUntouched();
    const check = await ws.run(['check']);
    expect(check.code, shown(check)).toBe(0);
    const snapshots = await ws.run(['snapshots', '--json']);
    expect(snapshots.json()).toEqual(snapshotsBefore);
  });
});
