// An SFTP repository configured as the product's brief spells it: `repository.sftp.identityFile`
// (OpenSSH's word) with paths from the home folder (`~/.ssh/...`). Against a real OpenSSH
// server: init and a backup work; `keyFile` still works as its older name; both at once, or a
// key file that is not there, are refused when the configuration is loaded (exit 2, the key named).
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { haveSshd, startSshd, type SshdServer } from '../support/sshd.js';
import { createWorkspace, runCli, shown, type Workspace } from '../support/workspace.js';

describe.skipIf(!haveDovecot || !haveSshd)('repository.sftp.identityFile', () => {
  let mail: DovecotServer;
  let sshd: SshdServer;
  let ws: Workspace;
  /** A home folder for the CLI, holding the key and known_hosts where ssh keeps them. */
  let home: string;
  let url: string;

  beforeAll(async () => {
    mail = await startDovecot({ users: { alice: 'a' } });
    sshd = await startSshd();
    await fillMailbox(mail, 'alice', { INBOX: generateMessages({ tag: 'sftp-id', count: 5 }) });
    url = `sftp://${sshd.user}@127.0.0.1:${sshd.port}${join(sshd.sftpRoot, 'vault')}`;
    ws = await createWorkspace(mail, {
      accounts: ['alice'],
      repository: {
        url,
        extra: ['sftp: { identityFile: ~/.ssh/id_ed25519, knownHostsFile: ~/.ssh/known_hosts }'],
      },
    });
    home = join(ws.dir, 'home');
    await mkdir(join(home, '.ssh'), { recursive: true });
    await copyFile(sshd.clientKeyFile, join(home, '.ssh', 'id_ed25519'));
    await copyFile(sshd.knownHostsFile, join(home, '.ssh', 'known_hosts'));
  }, 120_000);
  afterAll(async () => {
    await ws?.remove();
    await sshd?.stop();
    await mail?.stop();
  });

  it('logs in with the key it names, from the home folder', async () => {
    const env = { HOME: home };
    const init = await ws.run(['init', '--scrypt-cost', '10'], { env });
    expect(init.code, shown(init)).toBe(0);
    const backup = await ws.run(['backup', '--json'], { env });
    expect(backup.code, shown(backup)).toBe(0);
    expect(backup.json<{ totals: { items: number } }>().totals.items).toBe(5);
  });

  it('takes keyFile as its older name, and refuses both at once naming both', async () => {
    const yaml = await readFile(ws.config, 'utf8');
    const older = join(ws.dir, 'older.yml');
    await writeFile(
      older,
      yaml.replace('identityFile: ~/.ssh/id_ed25519', 'keyFile: ~/.ssh/id_ed25519'),
    );
    const snapshots = await runCli(older, ['snapshots', '--json'], { env: { HOME: home } });
    expect(snapshots.code, shown(snapshots)).toBe(0);
    expect(snapshots.json<unknown[]>()).toHaveLength(1);

    const both = join(ws.dir, 'both.yml');
    await writeFile(
      both,
      yaml.replace(
        'identityFile: ~/.ssh/id_ed25519',
        'identityFile: ~/.ssh/id_ed25519, keyFile: ~/.ssh/id_ed25519',
      ),
    );
    const refused = await runCli(both, ['snapshots'], { env: { HOME: home } });
    expect(refused.code, shown(refused)).toBe(2);
    expect(refused.stderr).toMatch(/repository\.sftp: identityFile and keyFile .* not both/);
  });

  it('refuses a key file that is not there when the configuration is loaded, naming the key', async () => {
    const result = await ws.run(['snapshots'], { env: { HOME: join(ws.dir, 'elsewhere') } });
    expect(result.code, shown(result)).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(
      `repository.sftp.identityFile: cannot read ${join(ws.dir, 'elsewhere', '.ssh', 'id_ed25519')}: no such file`,
    );
  });
});
