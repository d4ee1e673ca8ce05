// The CLI's surface as a person and a script meet it, against a real Dovecot: --quiet keeps only
// what matters on every command; every time and snapshot id the product prints is taken back by
// --at and means that snapshot; names from the server never reach the terminal raw.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox } from '../support/imap-fixture.js';
import { sleep } from '../support/servers.js';
import { createWorkspace, type CliResult, type Workspace } from '../support/workspace.js';

/** A folder name holding a CSI (U+009B) sequence that clears the screen. */
const EVIL_FOLDER = 'Evil\u009b2JRed';
/** A subject and a sender that would retitle the terminal window and recolour it. */
const EVIL_SUBJECT = 'Hello \x1b]0;owned\x07\x1b[31mred';

const message = (n: number, subject = `message ${n}`, from = `sender${n}@example.org`) => ({
  raw: Buffer.from(
    `Message-ID: <m${n}@example.com>\r\nFrom: ${from}\r\nSubject: ${subject}\r\n\r\nbody ${n}\r\n`,
    'latin1',
  ),
});

/** Any byte a terminal takes for a control: C0 but line ends, DEL, and C1 as UTF-8. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f\u0080-\u009f]/;

interface SnapshotLine {
  id: string;
  time: string;
  account: string;
}

/** The table `snapshots` prints: ID, TIME (local, to the second), ACCOUNT... */
function snapshotLines(stdout: string): SnapshotLine[] {
  return stdout
    .split('\n')
    .slice(1)
    .map((line) => /^([0-9a-f]{12})\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+(\S+)/.exec(line))
    .filter((match) => match !== null)
    .map(([, id = '', time = '', account = '']) => ({ id, time, account }));
}

describe.skipIf(!haveDovecot)('the CLI surface', () => {
  let server: DovecotServer;
  let ws: Workspace;
  const run = (...args: string[]): Promise<CliResult> => ws.run(args);
  const ok = async (...args: string[]): Promise<CliResult> => {
    const result = await run(...args);
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
    return result;
  };

  beforeAll(async () => {
    server = await startDovecot();
    ws = await createWorkspace(server, {
      accounts: ['alice', 'bob'],
      extra: 'retention: { keepWithin: 30d }',
    });
    await fillMailbox(server, 'alice', {
      INBOX: [message(1), message(2, EVIL_SUBJECT, '"\x1b[2J" <evil@example.org>')],
      [EVIL_FOLDER]: [message(3)],
    });
    await fillMailbox(server, 'bob', { INBOX: [message(4)] });
    await ok('init', '--scrypt-cost', '10');
    await ok('backup');
    await fillMailbox(server, 'alice', { INBOX: [message(5)] });
    // snapshots prints times to the second, and a time names the last snapshot up to its end:
    // the second backup must fall in a later second for each printed time to name one snapshot.
    await sleep(1000 - (Date.now() % 1000) + 10);
    await ok('backup', 'alice');
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await ws?.remove();
  });

  it('takes back every time and id snapshots prints, meaning that snapshot', async () => {
    const listed = snapshotLines((await ok('snapshots')).stdout);
    const full = (await ok('snapshots', '--json')).json<Array<{ id: string; time: string }>>();
    const alice = listed.filter((line) => line.account === 'mail1/alice');
    expect(alice).toHaveLength(2);
    for (const line of alice) {
      const id = full.find((row) => row.id.startsWith(line.id))?.id;
      expect(id).toBeDefined();
      const iso = full.find((row) => row.id === id)?.time ?? '';
      // Snapshots are taken at some millisecond: the printed second, the short id, the whole
      // id and the JSON time all name this one.
      for (const at of [line.time, line.id, id ?? '', iso]) {
        const ls = await ok('ls', 'alice', '--at', at, '--json');
        expect(ls.json<{ snapshot: string }>().snapshot, `--at ${at}`).toBe(id);
      }
      const exported = await ok(
        'export',
        'alice',
        '--format',
        'eml',
        '--output',
        `${ws.dir}/export-${line.id}`,
        '--at',
        line.time,
        '--json',
      );
      expect(exported.json<{ snapshot: string }>().snapshot).toBe(id);
    }
  });

  it("refuses another account's snapshot id, and an id no snapshot has, in one line (exit 2)", async () => {
    const bob = snapshotLines((await ok('snapshots', '--account', 'bob')).stdout)[0];
    expect(bob).toBeDefined();
    const other = await run('ls', 'alice', '--at', bob?.id ?? '');
    expect(other.code).toBe(2);
    expect(other.stderr).toBe(
      `mailvault: --at ${bob?.id}: that snapshot is of mail1/bob, not of mail1/alice\n`,
    );
    const none = await run('restore', 'account', 'alice', '--at', 'ffffffffffff');
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(
      'mailvault: --at ffffffffffff: no snapshot has this id (mailvault snapshots lists them)\n',
    );
  });

  it('prints folder names, subjects and senders from the server escaped', async () => {
    const folders = await ok('ls', 'alice');
    expect(folders.stdout).not.toMatch(RAW_CONTROL);
    expect(folders.stdout).toContain('Evil\\x9b2JRed');
    const items = await ok('ls', 'alice', 'INBOX');
    expect(items.stdout).not.toMatch(RAW_CONTROL);
    expect(items.stdout).toMatch(/Hello .*owned.*red/);
    const found = await ok('search', '--subject', 'Hello');
    expect(found.stdout).toMatch(/Hello .*owned.*red/);
    expect(found.stdout + found.stderr).not.toMatch(RAW_CONTROL);
    // JSON keeps the exact names, escaped by JSON itself.
    const json = await ok('ls', 'alice', '--json');
    expect(json.stdout).not.toMatch(RAW_CONTROL);
    expect(json.json<{ folders: Array<{ path: string }> }>().folders.map((f) => f.path)).toContain(
      EVIL_FOLDER,
    );
    // An error naming a folder, and a restore's table of folders.
    const missing = await run('ls', 'alice', `${EVIL_FOLDER}\x1b[2J`);
    expect(missing.code).toBe(1);
    expect(missing.stderr).not.toMatch(RAW_CONTROL);
    expect(missing.stderr).toContain('Evil\\x9b2JRed\\x1b[2J');
    const restored = await ok('restore', 'account', 'alice', '--to-account', 'bob');
    expect(restored.stdout).toContain('Evil\\x9b2JRed');
    expect(restored.stdout + restored.stderr).not.toMatch(RAW_CONTROL);
  });

  it('--quiet keeps listings and problems, and leaves out the reports of what was done', async () => {
    // Reports of actions done: nothing when all went well, the exit code says it.
    for (const args of [
      ['backup'],
      ['restore', 'account', 'alice', '--to-account', 'bob'],
      ['export', 'alice', '--format', 'mbox', '--output', `${ws.dir}/quiet-export`],
      ['check'],
      ['prune'],
      ['forget'],
      ['catalog', 'rebuild'],
    ]) {
      const result = await run('--quiet', ...args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
      expect({ args, stdout: result.stdout, stderr: result.stderr }).toEqual({
        args,
        stdout: '',
        stderr: '',
      });
    }
    // After the command works too, as every global option does.
    const status = await run('status', '--quiet');
    expect(status.stdout.trim().split('\n')[0] ?? '').toMatch(/^(|\d+ problems?:)$/);
    expect(status.stdout).not.toMatch(/ACCOUNT|repository:|healthy/);
    // Listings are what was asked for: --quiet leaves them whole.
    const quiet = await ok('snapshots', '--quiet');
    expect(quiet.stdout).toBe((await ok('snapshots')).stdout);
    expect((await ok('ls', 'alice', '--quiet')).stdout).toContain('INBOX');
    expect((await ok('prune', '--dry-run', '--quiet')).stdout).toMatch(/condemned now/);
  });
});
