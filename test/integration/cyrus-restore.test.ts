// Restoring into Cyrus IMAP, where an administrator may act for any name, mailbox or not: an
// account exists when its INBOX does, so an external restore provisions the accounts that have
// none instead of taking a successful login for an existing account and failing every CREATE.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveCyrus, startCyrus, type CyrusServer } from '../support/cyrus.js';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox, readAccount } from '../support/imap-fixture.js';
import { createWorkspace, shown, type Workspace } from '../support/workspace.js';

interface Phase {
  account: string;
  phase: string;
  ok: boolean;
  detail: string;
}

const message = (n: number): Buffer =>
  Buffer.from(
    `Message-ID: <cyrus-${n}@example.com>\r\nFrom: sender@example.org\r\nSubject: message ${n}\r\n\r\nbody ${n}\r\n`,
  );

/** Folders, their subscription and their messages' SHA-256, as Cyrus itself answers. */
async function cyrusAccount(
  server: CyrusServer,
  user: string,
): Promise<{ folders: Record<string, string[]>; subscribed: string[] }> {
  const client = await server.login(user);
  try {
    const names = (await client.ok('LIST "" "*"')).untagged
      .map((response) => /^\* LIST \([^)]*\) "\/" "?([^"]*)"?$/.exec(response.text)?.[1])
      .filter((name): name is string => name !== undefined);
    const folders: Record<string, string[]> = {};
    for (const name of names.sort()) {
      const selected = await client.ok(`EXAMINE "${name}"`);
      const exists = selected.untagged.some((r) => /^\* [1-9]\d* EXISTS$/.test(r.text));
      const fetched = exists ? (await client.ok('FETCH 1:* (BODY.PEEK[])')).untagged : [];
      folders[name] = fetched
        .flatMap((response) => response.literals)
        .map((body) => createHash('sha256').update(body).digest('hex'))
        .sort();
    }
    const subscribed = (await client.ok('LSUB "" "*"')).untagged
      .map((response) => /^\* LSUB \([^)]*\) "\/" "?([^"]*)"?$/.exec(response.text)?.[1])
      .filter((name): name is string => name !== undefined)
      .sort();
    return { folders, subscribed };
  } finally {
    await client.logout();
  }
}

describe.skipIf(!haveDovecot || !haveCyrus)('restore into Cyrus', () => {
  let old: DovecotServer;
  let cyrus: CyrusServer;
  let before: Workspace;
  let after: Workspace;

  beforeAll(async () => {
    old = await startDovecot({ users: { alice: 'a', bob: 'b' } });
    // bob has a mailbox on Cyrus already; alice has none, though the administrator may act for her.
    cyrus = await startCyrus({ accounts: ['bob'] });
    before = await createWorkspace(old, { accounts: ['alice', 'bob'] });
    after = await createWorkspace(cyrus, { accounts: ['bob'] });
    await writeFile(
      after.config,
      (await readFile(after.config, 'utf8')).replace(
        /( {4}accounts: \{[^\n]*\n)/,
        `$1    provisioning: { command: "${cyrus.provisionCommand}" }\n`,
      ),
    );
    await fillMailbox(
      old,
      'alice',
      { INBOX: [{ raw: message(1), flags: ['\\Seen'] }], Projects: [{ raw: message(2) }] },
      { subscribe: ['INBOX', 'Projects'] },
    );
    await fillMailbox(old, 'bob', { INBOX: [{ raw: message(3) }] });
    expect((await before.run(['init', '--scrypt-cost', '12'])).code).toBe(0);
    const backup = await before.run(['backup']);
    expect(backup.code, shown(backup)).toBe(0);
    expect((await after.run(['init', '--scrypt-cost', '12'])).code).toBe(0);
  });

  afterAll(async () => {
    await old?.stop();
    await cyrus?.stop();
    await before?.remove();
    await after?.remove();
  });

  const external = (...args: string[]) =>
    after.run([
      'restore',
      'external',
      '--repo',
      before.repository,
      '--password-file',
      join(before.dir, 'repo.pass'),
      ...args,
      '--json',
    ]);

  it('does not take a login for a name without INBOX as an existing account', async () => {
    const result = await external('--account', 'alice', '--skip-provisioning');
    expect(result.code, shown(result)).toBe(1);
    expect(result.json<{ phases: Phase[] }>().phases).toEqual([
      {
        account: 'alice',
        phase: 'provisioning',
        ok: false,
        detail: 'does not exist on the target, and provisioning was skipped',
      },
    ]);
  });

  it('provisions the account without INBOX, keeps the one with, and restores both', async () => {
    const result = await external();
    expect(result.code, shown(result)).toBe(0);
    const phases = result.json<{ phases: Phase[] }>().phases;
    expect(
      phases
        .filter((p) => p.phase === 'provisioning')
        .map((p) => `${p.account} ${p.detail}`)
        .sort(),
    ).toEqual(['alice created', 'bob exists']);
    for (const user of ['alice', 'bob']) {
      const source = await readAccount(old, user);
      const restored = await cyrusAccount(cyrus, user);
      for (const folder of source.folders.filter((f) => f.messages.length > 0))
        expect(restored.folders[folder.path], `${user} ${folder.path}`).toEqual(
          folder.messages.map((m) => m.sha256).sort(),
        );
    }
    // Subscribed as on Dovecot: INBOX and Projects by alice, Sent and Trash by its configuration.
    expect((await cyrusAccount(cyrus, 'alice')).subscribed).toEqual(
      (await readAccount(old, 'alice')).folders.filter((f) => f.subscribed).map((f) => f.path),
    );
    expect((await cyrusAccount(cyrus, 'alice')).subscribed).toEqual([
      'INBOX',
      'Projects',
      'Sent',
      'Trash',
    ]);
    const again = await external();
    expect(again.code, shown(again)).toBe(0);
    expect(
      again
        .json<{ phases: Phase[] }>()
        .phases.filter((p) => p.phase === 'items')
        .map((p) => p.detail),
    ).toEqual(['0 restored, 0 failed', '0 restored, 0 failed']);
  });

  it('refuses, in one clear message, a restore into an account that has no INBOX', async () => {
    // The Dovecot installation gets Cyrus as a second server, and restores alice into a name
    // the Cyrus administrator may act for but that has no mailbox.
    await writeFile(join(before.dir, 'cyrus.pass'), `${cyrus.master.password}\n`);
    await writeFile(
      before.config,
      (await readFile(before.config, 'utf8')).replace(
        /^(servers:\n)/m,
        `$1  - name: cyrus1\n    imap: { host: ${cyrus.host}, port: ${cyrus.port}, tls: none, auth: { mode: authzid, user: ${cyrus.master.user}, passwordFile: ${join(before.dir, 'cyrus.pass')} } }\n    accounts: { list: [bob] }\n`,
      ),
    );
    const result = await before.run([
      'restore',
      'account',
      'alice',
      '--source',
      'mail1',
      '--to-account',
      'dave',
      '--to-server',
      'cyrus1',
    ]);
    expect(result.code, shown(result)).toBe(1);
    expect(result.stderr).toMatch(/dave on cyrus1: the account has no INBOX, so it does not exist/);
    expect(result.stderr).not.toMatch(/CREATE/);
  });

  it('backs up a Cyrus account byte for byte, NUL bytes and subscriptions included', async () => {
    // Cyrus answers BODY[] in literal8 when a message holds NUL, and takes it only in literal8.
    const withNul = Buffer.from(
      'Message-ID: <cyrus-nul@example.com>\r\nSubject: nul\r\n\r\na\0b\r\n',
    );
    const client = await cyrus.login('bob');
    try {
      await client.ok(`APPEND INBOX () ~{${withNul.length}+}\r\n`, withNul);
      await client.ok('UNSUBSCRIBE INBOX');
    } finally {
      await client.logout();
    }
    const backup = await after.run(['backup', '--json']);
    expect(backup.code, shown(backup)).toBe(0);
    expect(backup.json<{ warnings: unknown[] }>().warnings).toEqual([]);
    const found = (
      await after.run(['search', '--account', 'bob', '--subject', 'nul', '--json'])
    ).json<Array<{ key: string }>>();
    expect(found).toHaveLength(1);
    const item = await after.run(['show', found[0]?.key ?? '', '--json']);
    expect(item.json<{ sha256: string }>().sha256).toBe(
      createHash('sha256').update(withNul).digest('hex'),
    );
    const folders = (await after.run(['ls', 'bob', '--json'])).json<{
      folders: Array<{ path: string; subscribed: boolean }>;
    }>().folders;
    expect(folders.find((f) => f.path === 'INBOX')?.subscribed).toBe(false);
  });
});
