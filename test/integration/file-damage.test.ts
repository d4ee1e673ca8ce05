// One damaged file of another kind than an index file, on a real repository written by real
// backups of a real Dovecot: a snapshot file, a run file, a condemned file, one key file of two.
// Each stops only what it must (prune, which cannot tell what an unreadable snapshot needs; the
// passphrase whose key file it is), is named by check, and is put right by check --repair where
// the data allows: a snapshot or run file from the catalog's record of it, a condemned file by
// removing it. A file that cannot be read but is as it was written (another key's, a newer
// mailvault's) is not damaged, and a repair leaves it.
import { copyFile, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox, mailOf, readAccount, withImap } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { createWorkspace, shown, type Workspace } from '../support/workspace.js';

interface CheckJson {
  ok: boolean;
  errors: string[];
  warnings: string[];
  damagedObjects: string[];
  repair?: {
    files: Array<{ kind: string; name: string; written: string | null; snapshots: number }>;
    condemnedFilesRemoved: number;
    indexFilesSuperseded: number;
  } | null;
}

interface SnapshotJson {
  id: string;
  time: string;
  account: string;
  items: number;
  bytes: number;
}

const filesOf = async (repository: string, kind: string): Promise<string[]> =>
  (await readdir(join(repository, kind))).filter((name) => /^[0-9a-f]{64}$/.test(name)).sort();

/** Flips one bit in the middle of a file, as a failing disk or a careless copy would. */
async function flipByte(path: string): Promise<void> {
  const bytes = await readFile(path);
  bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0x01;
  await writeFile(path, bytes);
}

/** The snapshots as `mailvault snapshots` lists them, without their ids. */
async function listed(ws: Workspace): Promise<Array<Omit<SnapshotJson, 'id'>>> {
  const result = await ws.run(['snapshots', '--json']);
  expect(result.code, shown(result)).toBe(0);
  return result
    .json<SnapshotJson[]>()
    .map(({ time, account, items, bytes }) => ({ time, account, items, bytes }));
}

let server: DovecotServer;

beforeAll(async () => {
  server = await startDovecot({
    users: { alice: 'a', bob: 'b', copy: 'c', again: 'd', third: 'e' },
  });
  await fillMailbox(server, 'alice', {
    INBOX: generateMessages({ tag: 'fd-inbox', count: 12, largeEvery: 4 }),
  });
  await fillMailbox(server, 'bob', { INBOX: generateMessages({ tag: 'fd-bob', count: 4 }) });
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

/**
 * A repository with two backups: the first writes a snapshot file per account; the second, after
 * a message came to alice, a snapshot file for her and a run file for bob, who did not change.
 */
async function twoBackups(extra = ''): Promise<Workspace> {
  const ws = await createWorkspace(server, { accounts: ['alice', 'bob'], extra });
  expect((await ws.run(['init', '--scrypt-cost', '10'])).code).toBe(0);
  const first = await ws.run(['backup']);
  expect(first.code, shown(first)).toBe(0);
  return ws;
}

async function secondBackup(ws: Workspace, tag: string): Promise<void> {
  await fillMailbox(server, 'alice', { INBOX: generateMessages({ tag, count: 1 }) });
  const second = await ws.run(['backup']);
  expect(second.code, shown(second)).toBe(0);
}

describe.skipIf(!haveDovecot)('a damaged snapshot file', () => {
  let ws: Workspace;
  let victim: string;
  let before: Array<Omit<SnapshotJson, 'id'>>;

  beforeAll(async () => {
    ws = await twoBackups();
    const firstFiles = await filesOf(ws.repository, 'snapshots');
    await secondBackup(ws, 'fd-snap');
    victim = (await filesOf(ws.repository, 'snapshots')).find(
      (name) => !firstFiles.includes(name),
    ) as string;
    expect(victim).toBeDefined();
    before = await listed(ws);
    await flipByte(join(ws.repository, 'snapshots', victim));
  }, 120_000);

  afterAll(async () => {
    await ws?.remove();
  });

  it('check names it; prune refuses; restore and backup go on', async () => {
    const check = await ws.run(['check']);
    expect(check.code, shown(check)).toBe(1);
    expect(check.stdout).toContain(
      `error: snapshot ${victim}: its content does not match its name (damaged): check --repair writes it again`,
    );
    const prune = await ws.run(['prune']);
    expect(prune.code, shown(prune)).not.toBe(0);
    expect(prune.stderr).toContain(victim);
    // The catalog recorded the snapshot before the damage: restoring it needs nothing of the file.
    const restore = await ws.run(['restore', 'account', 'alice', '--to-account', 'copy']);
    expect(restore.code, shown(restore)).toBe(0);
    expect(mailOf(await readAccount(server, 'copy'))).toEqual(
      mailOf(await readAccount(server, 'alice')),
    );
    const backup = await ws.run(['backup']);
    expect(backup.code, shown(backup)).toBe(0);
  });

  it('check --repair writes it again from the catalog; then check, prune and restore go on', async () => {
    const repaired = await ws.run(['check', '--repair', '--json']);
    expect(repaired.code, shown(repaired)).toBe(1);
    const files = repaired.json<CheckJson>().repair?.files ?? [];
    expect(files).toHaveLength(1);
    expect(files[0]).toMatchObject({ kind: 'snapshots', name: victim, snapshots: 1 });
    const written = files[0]?.written ?? '';
    const now = await filesOf(ws.repository, 'snapshots');
    expect(now).not.toContain(victim);
    expect(now).toContain(written);
    const text = await ws.run(['check', '--repair']);
    expect(text.code, shown(text)).toBe(0);

    const check = await ws.run(['check', '--read-data', '--json']);
    expect(check.code, shown(check)).toBe(0);
    // The same snapshots, the repaired one under its new id: the time, items and size it had.
    const after = await listed(ws);
    for (const row of before) expect(after).toContainEqual(row);
    const ids = (await ws.run(['snapshots', '--json'])).json<SnapshotJson[]>().map((r) => r.id);
    expect(ids).toContain(written);
    expect(ids).not.toContain(victim);
    const prune = await ws.run(['prune']);
    expect(prune.code, shown(prune)).toBe(0);
    const restore = await ws.run(['restore', 'account', 'alice', '--to-account', 'copy']);
    expect(restore.code, shown(restore)).toBe(0);
    expect(mailOf(await readAccount(server, 'copy'))).toEqual(
      mailOf(await readAccount(server, 'alice')),
    );
  });
});

describe.skipIf(!haveDovecot)('a damaged run file', () => {
  let ws: Workspace;
  let victim: string;
  let before: Array<Omit<SnapshotJson, 'id'>>;

  beforeAll(async () => {
    ws = await twoBackups();
    await secondBackup(ws, 'fd-run');
    const runs = await filesOf(ws.repository, 'runs');
    expect(runs).toHaveLength(1);
    victim = runs[0] as string;
    before = await listed(ws);
    await flipByte(join(ws.repository, 'runs', victim));
  }, 120_000);

  afterAll(async () => {
    await ws?.remove();
  });

  it('check names it; prune refuses', async () => {
    const check = await ws.run(['check']);
    expect(check.code, shown(check)).toBe(1);
    expect(check.stdout).toContain(
      `error: run file ${victim}: its content does not match its name (damaged): check --repair writes it again`,
    );
    const prune = await ws.run(['prune']);
    expect(prune.code, shown(prune)).not.toBe(0);
    expect(prune.stderr).toContain(victim);
  });

  it('check --repair writes its entries again from the catalog, with the same snapshot ids', async () => {
    const idsBefore = (await ws.run(['snapshots', '--json'])).json<SnapshotJson[]>();
    const repaired = await ws.run(['check', '--repair', '--json']);
    expect(repaired.code, shown(repaired)).toBe(1);
    const files = repaired.json<CheckJson>().repair?.files ?? [];
    expect(files).toHaveLength(1);
    expect(files[0]).toMatchObject({ kind: 'runs', name: victim, snapshots: 1 });
    expect(await filesOf(ws.repository, 'runs')).toEqual([files[0]?.written]);

    const check = await ws.run(['check', '--read-data', '--json']);
    expect(check.code, shown(check)).toBe(0);
    expect(await listed(ws)).toEqual(before);
    const idsAfter = (await ws.run(['snapshots', '--json'])).json<SnapshotJson[]>();
    expect(idsAfter.map((row) => row.id)).toEqual(idsBefore.map((row) => row.id));
    const prune = await ws.run(['prune']);
    expect(prune.code, shown(prune)).toBe(0);
    const restore = await ws.run(['restore', 'account', 'bob', '--to-account', 'again']);
    expect(restore.code, shown(restore)).toBe(0);
    expect(mailOf(await readAccount(server, 'again'))).toEqual(
      mailOf(await readAccount(server, 'bob')),
    );
  });
});

describe.skipIf(!haveDovecot)('a damaged condemned file', () => {
  let ws: Workspace;
  let victim: string;

  beforeAll(async () => {
    ws = await createWorkspace(server, {
      accounts: ['third'],
      extra: 'retention: { keepLast: 1 }\n',
    });
    await fillMailbox(server, 'third', {
      INBOX: generateMessages({ tag: 'fd-keep', count: 3 }),
      Trash: generateMessages({ tag: 'fd-trash', count: 6, largeEvery: 1 }),
    });
    expect((await ws.run(['init', '--scrypt-cost', '10'])).code).toBe(0);
    const first = await ws.run(['backup']);
    expect(first.code, shown(first)).toBe(0);
    await withImap(server, 'third', (client) => client.mailboxDelete('Trash'));
    const second = await ws.run(['backup']);
    expect(second.code, shown(second)).toBe(0);
    const forget = await ws.run(['forget']);
    expect(forget.code, shown(forget)).toBe(0);
    const prune = await ws.run(['prune']);
    expect(prune.code, shown(prune)).toBe(0);
    const condemned = await filesOf(ws.repository, 'condemned');
    expect(condemned).toHaveLength(1);
    victim = condemned[0] as string;
    await flipByte(join(ws.repository, 'condemned', victim));
  }, 120_000);

  afterAll(async () => {
    await ws?.remove();
  });

  it('a backup warns, naming it; check warns; check --repair removes it; prune condemns again', async () => {
    const backup = await ws.run(['backup']);
    expect(backup.code, shown(backup)).toBe(0);
    expect(backup.stderr).toContain(`condemned file ${victim} is unreadable`);
    expect(backup.stderr).toContain('check --repair removes it');
    const check = await ws.run(['check', '--json']);
    expect(check.code, shown(check)).toBe(0);
    expect(check.json<CheckJson>().warnings.join('\n')).toContain(victim);

    const repaired = await ws.run(['check', '--repair', '--json']);
    expect(repaired.code, shown(repaired)).toBe(0);
    expect(repaired.json<CheckJson>().repair?.condemnedFilesRemoved).toBe(1);
    expect(await filesOf(ws.repository, 'condemned')).toEqual([]);
    const after = await ws.run(['check', '--json']);
    expect(after.json<CheckJson>().warnings).toEqual([]);
    const prune = await ws.run(['prune', '--json']);
    expect(prune.code, shown(prune)).toBe(0);
    expect(await filesOf(ws.repository, 'condemned')).toHaveLength(1);
  });
});

describe.skipIf(!haveDovecot)('one damaged key file of two', () => {
  let ws: Workspace;
  let victim: string;
  const first = 'correct horse battery staple\n';

  beforeAll(async () => {
    ws = await twoBackups();
    victim = (await filesOf(ws.repository, 'keys'))[0] as string;
    await writeFile(join(ws.dir, 'second.pass'), 'a second passphrase\n');
    const added = await ws.run(['key', 'add', '--new-password-file', join(ws.dir, 'second.pass')]);
    expect(added.code, shown(added)).toBe(0);
    // One character of the sealed master key, so that the file still parses.
    const path = join(ws.repository, 'keys', victim);
    const text = await readFile(path, 'utf8');
    const at = text.indexOf('"data": "') + 12;
    await writeFile(path, text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1));
  }, 120_000);

  afterAll(async () => {
    await ws?.remove();
  });

  it('its passphrase is told the key file is damaged, not only that it is wrong', async () => {
    const result = await ws.run(['check']);
    expect(result.code, shown(result)).not.toBe(0);
    expect(result.stderr).toContain(`key file ${victim}: its content does not match its name`);
  });

  it('the other passphrase opens the repository; check names the file; the remedy it gives works', async () => {
    await copyFile(join(ws.dir, 'second.pass'), join(ws.dir, 'repo.pass'));
    const backup = await ws.run(['backup']);
    expect(backup.code, shown(backup)).toBe(0);
    const check = await ws.run(['check']);
    expect(check.code, shown(check)).toBe(1);
    expect(check.stdout).toContain(`error: key ${victim}: its content does not match its name`);
    expect(check.stdout).toContain(`mailvault key remove ${victim.slice(0, 12)}`);
    expect((await ws.run(['key', 'remove', victim.slice(0, 12)])).code).toBe(0);
    await writeFile(join(ws.dir, 'first.pass'), first);
    const added = await ws.run(['key', 'add', '--new-password-file', join(ws.dir, 'first.pass')]);
    expect(added.code, shown(added)).toBe(0);
    await writeFile(join(ws.dir, 'repo.pass'), first);
    const after = await ws.run(['check']);
    expect(after.code, shown(after)).toBe(0);
  });
});

describe.skipIf(!haveDovecot)('an unreadable index file that is as it was written', () => {
  let ws: Workspace;
  let other: Workspace;
  let foreign: string;

  beforeAll(async () => {
    ws = await twoBackups();
    // Another repository's index file: its name matches its bytes, and this key cannot open it
    // (as a newer mailvault's could not be read either).
    other = await twoBackups();
    foreign = (await filesOf(other.repository, 'index'))[0] as string;
    await copyFile(join(other.repository, 'index', foreign), join(ws.repository, 'index', foreign));
    await rm(other.dir, { recursive: true, force: true });
  }, 120_000);

  afterAll(async () => {
    await ws?.remove();
  });

  it('check names it as not damaged, and check --repair leaves it', async () => {
    const check = await ws.run(['check']);
    expect(check.code, shown(check)).toBe(1);
    const repaired = await ws.run(['check', '--repair', '--json']);
    expect(repaired.code, shown(repaired)).toBe(1);
    expect(await filesOf(ws.repository, 'index')).toContain(foreign);
    expect(check.stdout).toContain(`error: index ${foreign} cannot be read`);
    expect(check.stdout).toContain('check --repair leaves it');
    const backup = await ws.run(['backup']);
    expect(backup.code, shown(backup)).toBe(0);
  });
});
