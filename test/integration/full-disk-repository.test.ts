// A full disk under a local repository: the backup says there is no space and where (exit 1),
// leaves the repository whole (check finds nothing wrong), and the next backup, once there is
// space again, goes well. The repository lives on a real tmpfs (mounted as root) filled with a
// file until the kernel says ENOSPC; a real Dovecot.
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { createWorkspace, runCli, shown, type Workspace } from '../support/workspace.js';
import { canMount, fill } from '../support/full-disk.js';

describe.skipIf(!haveDovecot || !canMount)('a full disk under a local repository', () => {
  let server: DovecotServer;
  let ws: Workspace;
  let mounted: string;
  let config: string;
  let repository: string;

  beforeAll(async () => {
    server = await startDovecot({ users: { alice: 'pw' } });
    await fillMailbox(server, 'alice', {
      INBOX: generateMessages({ tag: 'full-repo', count: 10 }),
    });
    ws = await createWorkspace(server, { accounts: ['alice'] });
    mounted = join(ws.dir, 'small-fs');
    await mkdir(mounted);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', mounted]);
    repository = join(mounted, 'repo');
    config = join(ws.dir, 'small-repository.yml');
    await writeFile(
      config,
      (await readFile(ws.config, 'utf8')).replace(join(ws.dir, 'repo') + '\n', `${repository}\n`),
    );
    expect(await readFile(config, 'utf8')).toContain(repository);
    expect((await runCli(config, ['init', '--scrypt-cost', '10'])).code).toBe(0);
    const first = await runCli(config, ['backup']);
    expect(first.code, shown(first)).toBe(0);
  }, 180_000);
  afterAll(async () => {
    if (mounted) execFileSync('umount', [mounted]);
    await ws?.remove();
    await server?.stop();
  });

  it('a backup says there is no space and where (exit 1), the repository stays whole, and the next backup goes well', async () => {
    await fillMailbox(server, 'alice', {
      INBOX: generateMessages({ tag: 'full-repo-more', count: 40, largeEvery: 5 }),
    });
    const filler = join(mounted, 'filler');
    await fill(filler);
    try {
      const refused = await runCli(config, ['backup']);
      expect(refused.code, shown(refused)).toBe(1);
      expect(refused.stderr, shown(refused)).toMatch(/no space left/i);
      expect(refused.stderr, shown(refused)).toContain(mounted);
    } finally {
      await rm(filler);
    }
    const check = await runCli(config, ['check']);
    expect(check.code, shown(check)).toBe(0);
    const next = await runCli(config, ['backup']);
    expect(next.code, shown(next)).toBe(0);
    const after = await runCli(config, ['check', '--read-data']);
    expect(after.code, shown(after)).toBe(0);
  }, 240_000);
});
