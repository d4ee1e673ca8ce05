// A wrong passphrase writes nothing in the repository: every command that opens it (a cron line
// with a stale password file, a typo at the prompt) is refused before it changes anything, not
// even a lock file made and deleted again (prune and forget took the repository's lock before
// they checked the passphrase). The catalog may record the refused run: `status` then shows the
// failing cron job. The real CLI against a real Dovecot; the repository is compared file by file,
// contents and modification times, folders included (a file made and deleted changes its folder's).
import { createHash } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { createWorkspace, runCli, shown, type Workspace } from '../support/workspace.js';

/** Every file and folder below root: its size, content hash and modification time (ns). */
async function fingerprint(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    const info = await stat(dir, { bigint: true });
    out[`${relative(root, dir)}/`] = `folder mtime ${info.mtimeNs}`;
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        await walk(path);
        continue;
      }
      const file = await stat(path, { bigint: true });
      const sha = createHash('sha256')
        .update(await readFile(path))
        .digest('hex');
      out[relative(root, path)] = `${file.size} bytes sha256 ${sha} mtime ${file.mtimeNs}`;
    }
  };
  await walk(root);
  return out;
}

describe.skipIf(!haveDovecot)('a wrong passphrase writes nothing in the repository', () => {
  let server: DovecotServer;
  let ws: Workspace;
  /** The same configuration with a password file holding another passphrase. */
  let wrongConfig: string;

  beforeAll(async () => {
    server = await startDovecot({ users: { alice: 'pw' } });
    await fillMailbox(server, 'alice', {
      INBOX: generateMessages({ tag: 'wrong-pass', count: 20 }),
    });
    ws = await createWorkspace(server, {
      accounts: ['alice'],
      extra: 'retention: { keepLast: 1 }\n',
    });
    expect((await ws.run(['init', '--scrypt-cost', '10'])).code).toBe(0);
    // Two snapshots: forget has one to forget, prune has something to weigh.
    for (let i = 0; i < 2; i++) {
      await fillMailbox(server, 'alice', {
        INBOX: generateMessages({ tag: `wrong-pass-${i}`, count: 3 }),
      });
      const backup = await ws.run(['backup']);
      expect(backup.code, shown(backup)).toBe(0);
    }
    const wrong = join(ws.dir, 'wrong.pass');
    await writeFile(wrong, 'not the passphrase\n');
    wrongConfig = join(ws.dir, 'wrong-passphrase.yml');
    await writeFile(
      wrongConfig,
      (await readFile(ws.config, 'utf8')).replace(join(ws.dir, 'repo.pass'), wrong),
    );
  }, 180_000);
  afterAll(async () => {
    await ws?.remove();
    await server?.stop();
  });

  const commands: string[][] = [
    ['backup'],
    ['prune'],
    ['forget'],
    ['check'],
    ['check', '--read-data'],
    ['check', '--repair'],
    ['snapshots'],
    ['ls', 'alice'],
    ['stats'],
    ['export', 'alice', '--format', 'maildir', '--output', 'EXPORT'],
    ['catalog', 'rebuild'],
    ['key', 'list'],
  ];

  it.each(commands.map((args) => [args.join(' '), args] as const))(
    '%s is refused and leaves every file of the repository as it was',
    async (_name, args) => {
      const before = await fingerprint(ws.repository);
      const argv = args.map((arg) => (arg === 'EXPORT' ? join(ws.dir, 'export') : arg));
      const refused = await runCli(wrongConfig, argv);
      expect(refused.code, shown(refused)).toBe(1);
      expect(refused.stderr).toMatch(/wrong passphrase/);
      expect(await fingerprint(ws.repository)).toEqual(before);
    },
    120_000,
  );

  it('the refused prune is in the run history, and status names it', async () => {
    const refused = await runCli(wrongConfig, ['prune']);
    expect(refused.code, shown(refused)).toBe(1);
    const status = await ws.run(['status', '--json']);
    const prune = status
      .json<{ runs: Array<{ kind: string; outcome: string; error: string | null }> }>()
      .runs.find((run) => run.kind === 'prune');
    expect(prune?.outcome).toBe('failed');
    expect(prune?.error).toMatch(/wrong passphrase/);
    expect(status.code).toBe(3);
  }, 120_000);
});
