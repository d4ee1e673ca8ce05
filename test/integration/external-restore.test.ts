// Moving house: another installation's repository (its own passphrase) restored into this
// installation's fresh server, accounts created through the provisioning hook, in phases, a
// domain at a time or all, several accounts at once; run again, it adds nothing.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusMessages, servedByDovecot } from '../support/corpus.js';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox, readAccount } from '../support/imap-fixture.js';
import { createWorkspace, type Workspace } from '../support/workspace.js';

interface Phase {
  account: string;
  phase: string;
  ok: boolean;
  detail: string;
}

// Messages whose bytes Dovecot serves unchanged after a second APPEND, so both servers agree.
const corpus = corpusMessages().filter((m) => {
  const served = servedByDovecot(m.raw);
  return served !== null && servedByDovecot(served)?.equals(served);
});

describe.skipIf(!haveDovecot)('external restore', () => {
  let old: DovecotServer;
  let fresh: DovecotServer;
  let before: Workspace;
  let after: Workspace;
  const accounts = {
    'alice@example.com': corpus.slice(0, 60),
    'bob@example.com': corpus.slice(60, 90),
    'carol@other.org': corpus.slice(90, 100),
  };

  beforeAll(async () => {
    old = await startDovecot({
      users: { 'alice@example.com': 'a', 'bob@example.com': 'b', 'carol@other.org': 'c' },
    });
    // The new server knows nobody yet: the provisioning hook adds users to its passwd-file.
    fresh = await startDovecot({ users: { 'someone@else.net': 'x' } });
    before = await createWorkspace(old, { accounts: Object.keys(accounts) });
    // The configuration names the one account the new server has (an empty list is refused).
    after = await createWorkspace(fresh, { accounts: ['someone@else.net'] });
    const provisioning = `    provisioning: { command: "printf '%s:{PLAIN}pw\\\\n' {account} >> ${join(fresh.dir, 'users')}" }`;
    await writeFile(
      after.config,
      (await readFile(after.config, 'utf8')).replace(
        /( {4}accounts: \{[^\n]*\n)/,
        `$1${provisioning}\n`,
      ),
    );
    for (const [account, messages] of Object.entries(accounts)) {
      await fillMailbox(
        old,
        account,
        {
          INBOX: messages.slice(0, 5).map((m) => ({ raw: m.raw, flags: ['\\Seen'] })),
          'Archive/Old': messages.slice(5).map((m) => ({ raw: m.raw, flags: ['$Label1'] })),
        },
        { subscribe: ['Archive/Old'] },
      );
    }
    expect((await before.run(['init', '--scrypt-cost', '12'])).code).toBe(0);
    expect((await before.run(['backup'])).code).toBe(0);
    expect((await after.run(['init', '--scrypt-cost', '12'])).code).toBe(0);
  });
  afterAll(async () => {
    await old?.stop();
    await fresh?.stop();
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

  it('restores one domain, creating its accounts, in phases', async () => {
    const result = await external('--domain', 'example.com', '--concurrency', '2');
    expect(result.code, result.stderr).toBe(0);
    const phases = result.json<{ phases: Phase[] }>().phases;
    expect(
      phases
        .filter((p) => p.phase === 'provisioning')
        .map((p) => [p.account, p.detail])
        .sort(),
    ).toEqual([
      ['alice@example.com', 'created'],
      ['bob@example.com', 'created'],
    ]);
    expect(phases.map((p) => p.phase)).toEqual([
      'provisioning',
      'provisioning',
      'folders',
      'folders',
      'items',
      'items',
    ]);
    for (const account of ['alice@example.com', 'bob@example.com'])
      expect(await readAccount(fresh, account)).toEqual(await readAccount(old, account));
  });

  it('resumes: run again for every account, it adds only what is missing', async () => {
    const result = await external('--concurrency', '4');
    expect(result.code, result.stderr).toBe(0);
    const phases = result.json<{ phases: Phase[] }>().phases;
    expect(
      phases
        .filter((p) => p.phase === 'provisioning')
        .map((p) => `${p.account} ${p.detail}`)
        .sort(),
    ).toEqual(['alice@example.com exists', 'bob@example.com exists', 'carol@other.org created']);
    expect(
      phases
        .filter((p) => p.phase === 'items' && p.account !== 'carol@other.org')
        .map((p) => p.detail),
    ).toEqual(['0 restored, 0 failed', '0 restored, 0 failed']);
    expect(await readAccount(fresh, 'carol@other.org')).toEqual(
      await readAccount(old, 'carol@other.org'),
    );
  });

  it('does not create accounts with --skip-provisioning, and refuses an unknown account or a wrong passphrase', async () => {
    await fresh.removeUser('carol@other.org');
    const skipped = await external('--account', 'carol@other.org', '--skip-provisioning');
    expect(skipped.code).toBe(1);
    expect(skipped.json<{ phases: Phase[] }>().phases).toEqual([
      {
        account: 'carol@other.org',
        phase: 'provisioning',
        ok: false,
        detail: 'does not exist on the target, and provisioning was skipped',
      },
    ]);
    const result = await after.run([
      'restore',
      'external',
      '--repo',
      before.repository,
      '--password-file',
      join(before.dir, 'repo.pass'),
      '--account',
      'dave@example.com',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no account of .* matches --account dave@example.com/);
    const wrong = await after.run([
      'restore',
      'external',
      '--repo',
      before.repository,
      '--password-file',
      join(after.dir, 'admin.pass'),
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/wrong passphrase/);
  });
});
