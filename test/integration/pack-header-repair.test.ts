// A pack whose header is damaged while every object in it is intact, on a real repository
// backed up from a real Dovecot: the index (a file of its own) still says where each object is,
// and each object is authenticated on its own, so nothing is lost. check reads the objects
// through the index and names the header, not the messages; check --repair writes the objects
// into a new pack with a sound header and drops nothing; restores and backups go on as before,
// and prune deletes the old pack once it is in no index.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox, mailOf, readAccount } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { contentPacks, listRepository } from '../support/repository-files.js';
import { createWorkspace, shown, type Workspace } from '../support/workspace.js';

interface CheckJson {
  errors: string[];
  warnings: string[];
  damagedObjects: string[];
  damagedItems: unknown[];
  damagedHeaders: Array<{ pack: string; objects: number; damagedObjects: string[] }>;
  repair?: {
    packsRewritten: number;
    objectsRewritten: number;
    objectsDropped: number;
    folders: unknown[];
  } | null;
}

describe.skipIf(!haveDovecot)('a pack with a damaged header', () => {
  let server: DovecotServer;
  let ws: Workspace;
  let victim: string;

  beforeAll(async () => {
    server = await startDovecot({ users: { alice: 'a', copy: 'c' } });
    await fillMailbox(server, 'alice', {
      INBOX: generateMessages({ tag: 'hd-inbox', count: 16, largeEvery: 4 }),
    });
    ws = await createWorkspace(server, { accounts: ['alice'] });
    expect((await ws.run(['init', '--scrypt-cost', '10'])).code).toBe(0);
    const backup = await ws.run(['backup']);
    expect(backup.code, shown(backup)).toBe(0);
    const passphrase = (await readFile(join(ws.dir, 'repo.pass'), 'utf8')).trim();
    [victim = ''] = await contentPacks(ws.repository, passphrase);
    expect(victim).not.toBe('');
    // One byte in the middle of the sealed header: the last 4 bytes give its length.
    const path = join(ws.repository, 'data', victim.slice(0, 2), victim);
    const bytes = await readFile(path);
    const headerLength = bytes.readUInt32LE(bytes.length - 4);
    const at = bytes.length - 4 - (headerLength >> 1);
    bytes[at] = (bytes[at] ?? 0) ^ 0x04;
    await writeFile(path, bytes);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await ws?.remove();
  });

  it('check names the header and calls no message damaged', async () => {
    const result = await ws.run(['check', '--json']);
    expect(result.code, shown(result)).toBe(1);
    const report = result.json<CheckJson>();
    expect(report.damagedObjects).toEqual([]);
    expect(report.damagedItems).toEqual([]);
    expect(report.damagedHeaders.map((entry) => entry.pack)).toEqual([victim]);
    expect(report.damagedHeaders[0]?.objects).toBeGreaterThan(0);
    expect(report.damagedHeaders[0]?.damagedObjects).toEqual([]);
    const text = await ws.run(['check']);
    expect(text.stdout).toContain(`error: pack ${victim}: its header cannot be read`);
    expect(text.stdout).toContain('all intact: check --repair writes them into a new pack');
    expect(text.stdout).not.toContain('damaged item');
  });

  it('check --repair writes the objects into a new pack and drops nothing', async () => {
    const repaired = await ws.run(['check', '--repair', '--json']);
    expect(repaired.code, shown(repaired)).toBe(1);
    const repair = repaired.json<CheckJson>().repair;
    expect(repair?.packsRewritten).toBe(1);
    expect(repair?.objectsRewritten).toBeGreaterThan(0);
    expect(repair?.objectsDropped).toBe(0);
    expect(repair?.folders).toEqual([]);

    // The old pack is in no index now: a warning, and prune's business.
    const check = await ws.run(['check', '--read-data', '--json']);
    expect(check.code, shown(check)).toBe(0);
    expect(check.json<CheckJson>().warnings.join('\n')).toContain(victim);

    const restore = await ws.run(['restore', 'account', 'alice', '--to-account', 'copy']);
    expect(restore.code, shown(restore)).toBe(0);
    expect(mailOf(await readAccount(server, 'copy'))).toEqual(
      mailOf(await readAccount(server, 'alice')),
    );
    // Nothing was marked for reading again.
    const backup = await ws.run(['backup', '--json']);
    expect(backup.code, shown(backup)).toBe(0);
    expect(backup.json<{ totals: { bytesRead: number } }>().totals.bytesRead).toBe(0);
  });

  it('prune deletes the old pack, and the repository checks out', async () => {
    for (let run = 0; run < 2; run++) {
      const prune = await ws.run(['prune', '--grace', '0s']);
      expect(prune.code, shown(prune)).toBe(0);
    }
    const files = (await listRepository(ws.repository)).map((entry) => entry.path);
    expect(files).not.toContain(`data/${victim.slice(0, 2)}/${victim}`);
    const check = await ws.run(['check', '--read-data', '--json']);
    expect(check.code, shown(check)).toBe(0);
    expect(check.json<CheckJson>().warnings).toEqual([]);
  });
});
