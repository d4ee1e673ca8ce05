// check --read-data-subset against a repository of real backups: each run reads its share of the
// packs, going on from where the last stopped, so a damaged pack is found within as many runs as
// the share says (four at 25%), whichever pack it is.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { contentPacks } from '../support/repository-files.js';
import { createWorkspace, type Workspace, shown } from '../support/workspace.js';

interface CheckJson {
  ok: boolean;
  stats: { packsRead: number };
  subset?: { percent: number; packs: number; of: number };
}

async function packFiles(repository: string): Promise<string[]> {
  const found: string[] = [];
  for (const sub of await readdir(join(repository, 'data'))) {
    for (const name of await readdir(join(repository, 'data', sub)))
      if (/^[0-9a-f]{64}$/.test(name)) found.push(join(repository, 'data', sub, name));
  }
  return found;
}

describe.skipIf(!haveDovecot)('check --read-data-subset', () => {
  let server: DovecotServer;
  let ws: Workspace;
  let packs: string[];

  beforeAll(async () => {
    server = await startDovecot({ users: { alice: 'a' } });
    ws = await createWorkspace(server, { accounts: ['alice'] });
    expect((await ws.run(['init', '--scrypt-cost', '10'])).code).toBe(0);
    // A backup after each delivery: every run adds packs of its own.
    for (let round = 0; round < 5; round++) {
      await fillMailbox(server, 'alice', {
        INBOX: generateMessages({ tag: `subset-${round}`, count: 4, largeEvery: 2 }),
      });
      const backup = await ws.run(['backup']);
      expect(backup.code, shown(backup)).toBe(0);
    }
    packs = await packFiles(ws.repository);
    expect(packs.length).toBeGreaterThanOrEqual(5);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await ws?.remove();
  });

  it('reads a quarter of the packs a run, and all of them in four runs', async () => {
    let read = 0;
    for (let run = 0; run < 4; run++) {
      const result = await ws.run(['check', '--read-data-subset', '25%', '--json']);
      expect(result.code, shown(result)).toBe(0);
      const report = result.json<CheckJson>();
      expect(report.subset).toMatchObject({
        percent: 25,
        packs: Math.ceil(packs.length / 4),
        of: packs.length,
      });
      expect(report.stats.packsRead).toBe(Math.ceil(packs.length / 4));
      read += report.stats.packsRead;
    }
    expect(read).toBeGreaterThanOrEqual(packs.length);
  });

  it('finds a damaged pack within four runs at 25%, whichever it is', async () => {
    const content = await contentPacks(
      ws.repository,
      (await readFile(join(ws.dir, 'repo.pass'), 'utf8')).trim(),
    );
    const candidates = packs.filter((path) => content.has(path.slice(-64)));
    expect(candidates.length).toBeGreaterThanOrEqual(2);
    for (const victim of [candidates[0], candidates.at(-1)]) {
      if (!victim) throw new Error('no pack');
      const original = await readFile(victim);
      const damaged = Buffer.from(original);
      const middle = Math.floor(damaged.length / 2);
      damaged[middle] = (damaged[middle] ?? 0) ^ 0xff;
      await writeFile(victim, damaged);
      const outcomes: number[] = [];
      for (let run = 0; run < 4; run++) {
        const result = await ws.run(['check', '--read-data-subset', '25%']);
        outcomes.push(result.code ?? -1);
        if (result.code !== 0) expect(result.stdout).toMatch(/damaged|does not match/);
      }
      // Read in the round (twice at most: the round's last slice may wrap past its start); the
      // runs that do not read it pass.
      const failed = outcomes.filter((code) => code === 1).length;
      expect(failed).toBeGreaterThanOrEqual(1);
      expect(failed).toBeLessThanOrEqual(2);
      expect(outcomes.filter((code) => code !== 0 && code !== 1)).toEqual([]);
      await writeFile(victim, original);
    }
  });

  it('refuses a share that is not a percentage, and --read-data with it', async () => {
    const bad = await ws.run(['check', '--read-data-subset', 'half']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/give a percentage such as 10%/);
    const both = await ws.run(['check', '--read-data', '--read-data-subset', '10%']);
    expect(both.code).toBe(2);
  });
});
