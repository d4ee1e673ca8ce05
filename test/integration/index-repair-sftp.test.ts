// One damaged index file on a remote repository (SFTP against a real OpenSSH), backed up from a
// real Dovecot: a second machine with the same configuration (no local cache to hide the damage)
// backs up and restores through it, warning; check names the file and the messages only its packs
// hold; check --repair rebuilds the index on the server from the packs' own headers, after which
// both machines work without a warning and check finds nothing.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox, mailOf, readAccount } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { haveSshd, startSshd, type SshdServer } from '../support/sshd.js';
import { createWorkspace, shown, type Workspace } from '../support/workspace.js';

interface CheckJson {
  errors: string[];
  damagedItems: unknown[];
  unindexedItems: Array<{ account: string; folder: string; uid: number | null }>;
  repair?: { packsIndexed: number; indexFilesSuperseded: number } | null;
}

const INBOX = generateMessages({ tag: 'sx-inbox', count: 12, largeEvery: 4 });

describe.skipIf(!haveDovecot || !haveSshd)('a damaged index file on SFTP', () => {
  let server: DovecotServer;
  let sshd: SshdServer;
  /** The machine that wrote the repository... */
  let first: Workspace;
  /** ...and another, whose local cache holds no copy of the index file. */
  let second: Workspace;
  let indexDir: string;
  let victim: string;

  beforeAll(async () => {
    server = await startDovecot({ users: { alice: 'a', copy: 'c' } });
    sshd = await startSshd();
    const repository = {
      url: `sftp://${sshd.user}@127.0.0.1:${sshd.port}${join(sshd.sftpRoot, 'vault')}`,
      extra: [`sftp: { keyFile: ${sshd.clientKeyFile}, knownHostsFile: ${sshd.knownHostsFile} }`],
    };
    indexDir = join(sshd.sftpRoot, 'vault', 'index');
    await fillMailbox(server, 'alice', { INBOX });
    first = await createWorkspace(server, { accounts: ['alice'], repository });
    second = await createWorkspace(server, { accounts: ['alice'], repository });
    expect((await first.run(['init', '--scrypt-cost', '10'])).code).toBe(0);
    const backup = await first.run(['backup']);
    expect(backup.code, shown(backup)).toBe(0);
    const names = await readdir(indexDir);
    expect(names.length).toBe(1);
    victim = names[0] as string;
    const path = join(indexDir, victim);
    const bytes = await readFile(path);
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0x20;
    await writeFile(path, bytes);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await sshd?.stop();
    await first?.remove();
    await second?.remove();
  });

  it('another machine backs up and restores through it, warning', async () => {
    await fillMailbox(server, 'alice', { INBOX: generateMessages({ tag: 'sx-new', count: 1 }) });
    const backup = await second.run(['backup']);
    expect(backup.code, shown(backup)).toBe(0);
    expect(backup.stderr).toContain(`index ${victim} is unreadable`);
    const restore = await second.run(['restore', 'account', 'alice', '--to-account', 'copy']);
    expect(restore.code, shown(restore)).toBe(0);
    expect(mailOf(await readAccount(server, 'copy'))).toEqual(
      mailOf(await readAccount(server, 'alice')),
    );
  });

  it('check names the file and the messages; check --repair rebuilds the index on the server', async () => {
    const check = await first.run(['check', '--json']);
    expect(check.code, shown(check)).toBe(1);
    const report = check.json<CheckJson>();
    expect(report.errors.find((error) => error.includes(victim))).toMatch(/check --repair/);
    expect(report.damagedItems).toEqual([]);
    expect(
      report.unindexedItems
        .filter((item) => item.uid !== null)
        .map((item) => `${item.account} ${item.folder} ${item.uid}`)
        .sort(),
    ).toEqual(INBOX.map((_, i) => `alice INBOX ${i + 1}`).sort());

    const repaired = await first.run(['check', '--repair', '--json']);
    expect(repaired.code, shown(repaired)).toBe(1);
    expect(repaired.json<CheckJson>().repair?.packsIndexed).toBeGreaterThan(0);
    expect(await readdir(indexDir)).not.toContain(victim);

    const again = await first.run(['check', '--read-data']);
    expect(again.code, shown(again)).toBe(0);
    for (const ws of [first, second]) {
      const backup = await ws.run(['backup']);
      expect(backup.code, shown(backup)).toBe(0);
      // (It may say that it uploads from its local cache: a note, not a warning.)
      expect(backup.stderr).not.toContain('warning');
    }
  });
});
