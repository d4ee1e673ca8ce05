// One damaged index file, on a real repository written by real backups of a real Dovecot: one
// byte flipped in the index file of the first backup. The packs it listed are intact, and their
// own headers say what they hold. Every command that loads the index goes on (backup, restore,
// export), warning and naming the file; check names the file, the packs that only it listed and
// the messages whose objects are only there, and does not call those packs leftovers; check
// --repair rebuilds the index from the packs; afterwards everything is as before the damage.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox, mailOf, readAccount } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { createWorkspace, shown, type Workspace } from '../support/workspace.js';

interface Item {
  source: string;
  account: string;
  folder: string;
  uid: number | null;
  date: string | null;
  subject: string | null;
}

interface CheckJson {
  ok: boolean;
  errors: string[];
  warnings: string[];
  damagedObjects: string[];
  damagedItems: Item[];
  unindexedItems: Item[];
  unindexedPacks: Array<{ pack: string; objects: number; needed: boolean }>;
  repair?: {
    packsIndexed: number;
    objectsIndexed: number;
    objectsDropped: number;
    indexFilesSuperseded: number;
    folders: unknown[];
  } | null;
}

interface BackupJson {
  totals: { items: number; newItems: number; bytesRead: number; bytesAdded: number };
}

const INBOX = generateMessages({ tag: 'ix-inbox', count: 20, largeEvery: 4 });
const ARCHIVE = generateMessages({ tag: 'ix-archive', count: 8 });
const BOB = generateMessages({ tag: 'ix-bob', count: 5 });

const indexFiles = async (repository: string): Promise<string[]> =>
  (await readdir(join(repository, 'index'))).filter((name) => /^[0-9a-f]{64}$/.test(name)).sort();

/** "alice INBOX 3 ix-inbox message 2": what a person reads off a listing of an item. */
const itemLine = (item: Item): string =>
  `${item.account} ${item.folder} ${item.uid} ${item.subject ?? ''}`;

describe.skipIf(!haveDovecot)('a damaged index file', () => {
  let server: DovecotServer;
  let ws: Workspace;
  /** The index file of the first backup: it lists every pack that backup wrote. */
  let victim: string;
  let firstBackupBytes: number;

  beforeAll(async () => {
    server = await startDovecot({ users: { alice: 'a', bob: 'b', copy: 'c', again: 'd' } });
    await fillMailbox(server, 'alice', { INBOX, Archive: ARCHIVE });
    await fillMailbox(server, 'bob', { INBOX: BOB });
    ws = await createWorkspace(server, { accounts: ['alice', 'bob'] });
    expect((await ws.run(['init', '--scrypt-cost', '10'])).code).toBe(0);
    const first = await ws.run(['backup', '--json']);
    expect(first.code, shown(first)).toBe(0);
    firstBackupBytes = first.json<BackupJson>().totals.bytesAdded;
    const afterFirst = await indexFiles(ws.repository);
    expect(afterFirst.length).toBe(1);
    victim = afterFirst[0] as string;
    // A second backup writes an index file of its own, which stays readable.
    await fillMailbox(server, 'alice', {
      Archive: generateMessages({ tag: 'ix-later', count: 2 }),
    });
    const second = await ws.run(['backup']);
    expect(second.code, shown(second)).toBe(0);
    expect((await indexFiles(ws.repository)).length).toBe(2);

    const path = join(ws.repository, 'index', victim);
    const bytes = await readFile(path);
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0x01;
    await writeFile(path, bytes);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await ws?.remove();
  });

  it('check names the file, the packs only it listed, and the messages whose objects are only there', async () => {
    const result = await ws.run(['check', '--json']);
    expect(result.code, shown(result)).toBe(1);
    const report = result.json<CheckJson>();
    expect(report.errors.find((error) => error.includes(victim))).toMatch(/check --repair/);
    // The data is all there: nothing is damaged or missing.
    expect(report.damagedObjects).toEqual([]);
    expect(report.damagedItems).toEqual([]);
    const needed = report.unindexedPacks.filter((entry) => entry.needed);
    expect(needed.length).toBeGreaterThan(0);
    // Packs a snapshot needs are not leftovers that prune may remove.
    for (const warning of report.warnings)
      for (const { pack } of needed) expect(warning).not.toContain(pack);
    expect(report.warnings.join('\n')).not.toMatch(/interrupted backup/);
    // Every message of the first backup, by account, folder, UID, date and subject.
    const expected = [
      ...INBOX.map((_, i) => `alice INBOX ${i + 1} ix-inbox message ${i}`),
      ...ARCHIVE.map((_, i) => `alice Archive ${i + 1} ix-archive message ${i}`),
      ...BOB.map((_, i) => `bob INBOX ${i + 1} ix-bob message ${i}`),
    ];
    const messages = report.unindexedItems.filter((item) => item.uid !== null);
    expect(messages.map(itemLine).sort()).toEqual(expected.sort());
    for (const item of messages) expect(Date.parse(item.date ?? '')).not.toBeNaN();

    const text = await ws.run(['check']);
    expect(text.code, shown(text)).toBe(1);
    expect(text.stdout).toContain(`error: index ${victim}`);
    expect(text.stdout).toContain(
      'unindexed item: mail1/alice folder INBOX UID 3 (2024-01-01T02:00:00.000Z) "ix-inbox message 2"',
    );
  });

  it('a backup goes on, warning, and stores no message again', async () => {
    await fillMailbox(server, 'alice', { INBOX: generateMessages({ tag: 'ix-new', count: 1 }) });
    const backup = await ws.run(['backup', '--json']);
    expect(backup.code, shown(backup)).toBe(0);
    expect(backup.stderr).toContain(`index ${victim} is unreadable`);
    expect(backup.stderr).toContain('check --repair');
    const { totals } = backup.json<BackupJson>();
    expect(totals.newItems).toBe(1);
    // The folders' listings are written again (their pages were only in the unreadable file's
    // packs), the messages not: far less than the first backup's attachments.
    expect(totals.bytesAdded).toBeLessThan(firstBackupBytes / 20);
    // The snapshot it wrote refers to nothing the repository lacks.
    const check = await ws.run(['check', '--json']);
    expect(check.json<CheckJson>().damagedObjects).toEqual([]);
  });

  it('restore and export go on, warning', async () => {
    const restore = await ws.run(['restore', 'account', 'alice', '--to-account', 'copy']);
    expect(restore.code, shown(restore)).toBe(0);
    expect(restore.stderr).toContain(`index ${victim} is unreadable`);
    expect(mailOf(await readAccount(server, 'copy'))).toEqual(
      mailOf(await readAccount(server, 'alice')),
    );
    const out = join(ws.dir, 'export');
    const exported = await ws.run(['export', 'alice', '--format', 'maildir', '--output', out]);
    expect(exported.code, shown(exported)).toBe(0);
    expect(exported.stderr).toContain(`index ${victim} is unreadable`);
    const inbox = [
      ...(await readdir(join(out, 'cur')).catch(() => [])),
      ...(await readdir(join(out, 'new')).catch(() => [])),
    ];
    expect(inbox.length).toBe(INBOX.length + 1);
  });

  it('check --repair rebuilds the index from the packs; then all is as before', async () => {
    const repaired = await ws.run(['check', '--repair', '--json']);
    expect(repaired.code, shown(repaired)).toBe(1);
    const repair = repaired.json<CheckJson>().repair;
    expect(repair?.packsIndexed).toBeGreaterThan(0);
    expect(repair?.objectsDropped).toBe(0);
    expect(repair?.folders).toEqual([]);
    expect(await indexFiles(ws.repository)).not.toContain(victim);

    const check = await ws.run(['check', '--read-data', '--json']);
    expect(check.code, shown(check)).toBe(0);
    const report = check.json<CheckJson>();
    expect(report.warnings).toEqual([]);
    expect(report.unindexedPacks).toEqual([]);

    const backup = await ws.run(['backup', '--json']);
    expect(backup.code, shown(backup)).toBe(0);
    expect(backup.stderr).toBe('');
    expect(backup.json<BackupJson>().totals.bytesRead).toBe(0);
    const restore = await ws.run(['restore', 'account', 'bob', '--to-account', 'again']);
    expect(restore.code, shown(restore)).toBe(0);
    expect(restore.stderr).not.toContain('warning');
    expect(mailOf(await readAccount(server, 'again'))).toEqual(
      mailOf(await readAccount(server, 'bob')),
    );
  });
});
