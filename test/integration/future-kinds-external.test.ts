// restore external from a repository a newer mailvault wrote to (test/fixtures/future-kind-v1):
// the account snapshots are restored, and the snapshots of a kind this mailvault does not know
// are passed over with a warning that says how many and which, not silently.
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { readAccount } from '../support/imap-fixture.js';
import { createWorkspace, shown, type Workspace } from '../support/workspace.js';

const checkout = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURE = join(checkout, 'test', 'fixtures', 'future-kind-v1');
const ACCOUNT = 'alice@example.com';

describe.skipIf(!haveDovecot)('restore external of a repository a newer mailvault wrote', () => {
  let server: DovecotServer;
  let ws: Workspace;

  beforeAll(async () => {
    server = await startDovecot({ users: { [ACCOUNT]: 'alicepw' } });
    ws = await createWorkspace(server, { accounts: [ACCOUNT] });
  });
  afterAll(async () => {
    await server?.stop();
    await ws?.remove();
  });

  it('restores the accounts and says which snapshots of unknown kinds it passed over', async () => {
    const expected = JSON.parse(await readFile(join(FIXTURE, 'EXPECTED.json'), 'utf8')) as {
      passphrase: string;
      futureKind: string;
      account: { subject: string; sha256: string };
    };
    const passwordFile = join(ws.dir, 'fixture.pass');
    await writeFile(passwordFile, `${expected.passphrase}\n`);
    // Read only: the fixture is used in place.
    const result = await ws.run([
      'restore',
      'external',
      '--repo',
      FIXTURE,
      '--password-file',
      passwordFile,
      '--skip-provisioning',
    ]);
    expect(result.code, shown(result)).toBe(0);
    expect(result.stderr).toMatch(
      /2 snapshot\(s\) of .* are of kinds this mailvault does not know/,
    );
    expect(result.stderr).toContain(`"${expected.futureKind}"`);
    const inbox = (await readAccount(server, ACCOUNT)).folders.find((f) => f.path === 'INBOX');
    expect(inbox?.messages.map((m) => m.sha256)).toEqual([expected.account.sha256]);
  });
});
