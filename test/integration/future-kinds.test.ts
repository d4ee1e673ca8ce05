// A repository written by a newer mailvault may hold snapshots of a kind this one does not know
// (test/fixtures/future-kind-v1: a "mailbox-archive" snapshot file and run-file entry, each with
// objects of its own in packs of their own). What such a snapshot needs cannot be known here, so
// the commands that would delete or rewrite on that knowledge refuse, naming the snapshot and its
// kind, and change nothing: prune (which would otherwise condemn and then delete the archives'
// packs), forget and check --repair. check reports them and checks the rest; listing, restore,
// backup and copy go on with the kinds they know.
import { createHash } from 'node:crypto';
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { readAccount } from '../support/imap-fixture.js';
import { createWorkspace, shown, type CliResult, type Workspace } from '../support/workspace.js';

interface Expected {
  passphrase: string;
  futureKind: string;
  newerProgram: string;
  account: { source: string; name: string; subject: string; sha256: string };
  snapshotFiles: { account: string; archive: string };
  runFile: string;
  runEntries: { account: string; archive: string };
  packs: { account: string[]; archive: string[]; runArchive: string[] };
}

const checkout = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURE = join(checkout, 'test', 'fixtures', 'future-kind-v1');
const ACCOUNT = 'alice@example.com';

/** Every file of a repository with a hash of its bytes: what "nothing changed" means. */
async function contents(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (path: string): Promise<void> => {
    for (const entry of await readdir(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) await walk(full);
      else
        out[relative(dir, full)] = createHash('sha256')
          .update(await readFile(full))
          .digest('hex');
    }
  };
  await walk(dir);
  return out;
}

const packsIn = (files: Record<string, string>): string[] =>
  Object.keys(files)
    .filter((path) => path.startsWith('data/'))
    .map((path) => path.split('/').at(-1) ?? '')
    .sort();

describe.skipIf(!haveDovecot)('snapshots of a kind this mailvault does not know', () => {
  let server: DovecotServer;
  let ws: Workspace;
  let expected: Expected;
  let fixtureFiles: Record<string, string>;

  /** Says which snapshot, of which kind, and who wrote it. */
  const namesTheArchive = (result: CliResult, id: string): void => {
    const said = result.stderr + result.stdout;
    expect(said).toContain(id.slice(0, 8));
    expect(said).toContain(`"${expected.futureKind}"`);
    expect(said).toContain('newer mailvault');
    expect(said).toContain(expected.newerProgram);
  };

  beforeAll(async () => {
    expected = JSON.parse(await readFile(join(FIXTURE, 'EXPECTED.json'), 'utf8')) as Expected;
    fixtureFiles = await contents(FIXTURE);
    server = await startDovecot({ users: { [ACCOUNT]: 'alicepw' } });
    ws = await createWorkspace(server, {
      accounts: [ACCOUNT],
      extra: 'retention: { keepLast: 1 }',
    });
    await writeFile(join(ws.dir, 'repo.pass'), `${expected.passphrase}\n`);
  });
  afterAll(async () => {
    await server?.stop();
    await ws?.remove();
  });

  // Each test starts from the fixture as committed, and no catalog.
  beforeEach(async () => {
    await rm(ws.repository, { recursive: true, force: true });
    await rm(ws.catalog, { force: true });
    await cp(FIXTURE, ws.repository, { recursive: true });
  });

  it('makes prune refuse, naming the snapshot and its kind, and delete nothing', async () => {
    expect(packsIn(fixtureFiles)).toEqual(
      [...expected.packs.account, ...expected.packs.archive, ...expected.packs.runArchive].sort(),
    );
    for (const args of [
      ['prune', '--dry-run'],
      ['prune', '--grace', '0s'],
      ['prune', '--grace', '0s'],
    ]) {
      const result = await ws.run(args);
      expect(result.code, shown(result)).toBe(1);
      expect(result.stderr).toMatch(/prune refused/);
      namesTheArchive(result, expected.snapshotFiles.archive);
      namesTheArchive(result, expected.runEntries.archive);
    }
    // No pack condemned, none deleted, no index rewritten: the repository as it was.
    expect(await contents(ws.repository)).toEqual(fixtureFiles);
  });

  it('makes prune refuse for an entry of a run file alone', async () => {
    await rm(join(ws.repository, 'snapshots', expected.snapshotFiles.archive));
    const before = await contents(ws.repository);
    const result = await ws.run(['prune', '--grace', '0s']);
    expect(result.code, shown(result)).toBe(1);
    namesTheArchive(result, expected.runEntries.archive);
    expect(await contents(ws.repository)).toEqual(before);
    expect(packsIn(before)).toEqual(expect.arrayContaining(expected.packs.runArchive));
  });

  it('makes forget refuse, with or without --dry-run, and change nothing', async () => {
    for (const args of [['forget', '--dry-run'], ['forget']]) {
      const result = await ws.run(args);
      expect(result.code, shown(result)).toBe(1);
      expect(result.stderr).toMatch(/forget refused/);
      namesTheArchive(result, expected.snapshotFiles.archive);
    }
    expect(await contents(ws.repository)).toEqual(fixtureFiles);
  });

  it('has check report the snapshots it cannot check, and check --repair refuse', async () => {
    const check = await ws.run(['check', '--read-data']);
    expect(check.code, shown(check)).toBe(1);
    namesTheArchive(check, expected.snapshotFiles.archive);
    namesTheArchive(check, expected.runEntries.archive);
    // The rest was checked: no object is damaged or missing, and every snapshot was counted.
    expect(check.stdout).not.toMatch(/damaged|missing|in no index/);
    expect(check.stdout).toMatch(/2 error\(s\): 4 snapshots/);

    const repair = await ws.run(['check', '--repair']);
    expect(repair.code, shown(repair)).toBe(1);
    expect(repair.stderr).toMatch(/check --repair refused/);
    namesTheArchive(repair, expected.snapshotFiles.archive);
    expect(await contents(ws.repository)).toEqual(fixtureFiles);
  });

  it('lists, restores, backs up and copies the kinds it knows', async () => {
    const snapshots = await ws.run(['snapshots', '--json']);
    expect(snapshots.code, shown(snapshots)).toBe(0);
    expect(
      snapshots
        .json<Array<{ id: string }>>()
        .map((s) => s.id)
        .sort(),
    ).toEqual([expected.snapshotFiles.account, expected.runEntries.account].sort());

    const listing = await ws.run(['ls', ACCOUNT, 'INBOX']);
    expect(listing.code, shown(listing)).toBe(0);
    expect(listing.stdout).toContain(expected.account.subject);

    // The archive is the account's newest snapshot: nothing may take it for the account's.
    const restore = await ws.run(['restore', 'account', ACCOUNT]);
    expect(restore.code, shown(restore)).toBe(0);
    const restored = await readAccount(server, ACCOUNT);
    const inbox = restored.folders.find((folder) => folder.path === 'INBOX');
    expect(inbox?.messages.map((m) => m.sha256)).toEqual([expected.account.sha256]);

    const backup = await ws.run(['backup']);
    expect(backup.code, shown(backup)).toBe(0);
    const after = await ws.run(['snapshots', '--json', '--account', ACCOUNT]);
    expect(after.json<unknown[]>()).toHaveLength(3);

    const destination = join(ws.dir, 'copy');
    const copy = await ws.run(['copy', '--to', destination]);
    // Exit 3: what could not be copied is listed, the rest is.
    expect(copy.code, shown(copy)).toBe(3);
    namesTheArchive(copy, expected.snapshotFiles.archive);
    namesTheArchive(copy, expected.runEntries.archive);
    const copied = await contents(destination);
    for (const pack of [...expected.packs.archive, ...expected.packs.runArchive])
      expect(packsIn(copied)).not.toContain(pack);
    expect(Object.keys(copied)).toContain(`snapshots/${expected.snapshotFiles.account}`);
  });
});
