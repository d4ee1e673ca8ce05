// `forget` on two years of snapshots, against a real Dovecot: two accounts backed up for real,
// then 400 days of snapshots with synthetic dates written beside them (the last ten days as run
// files, as unchanged runs write them). The retention policy keeps 7 daily and 3 monthly
// snapshots of alice; bob is under legal hold. A dry run changes nothing; the real run removes
// exactly what it said, rewrites run files without the entries it forgets, and leaves a
// repository that checks out, a catalog that lists what is kept, and old mail restorable.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Repository } from '../../src/repository/repository.js';
import { unchangedSnapshotId } from '../../src/repository/snapshot/run-file.js';
import type { Snapshot } from '../../src/repository/snapshot/snapshot.js';
import { LocalStorage } from '../../src/storage/local/local-storage.js';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox, readAccount } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { createWorkspace, type Workspace, shown } from '../support/workspace.js';

interface ForgetJson {
  dryRun: boolean;
  forgotten: number;
  groups: Array<{
    name: string;
    decisions: Array<{ id: string; time: string; keep: boolean; reasons: string[] }>;
  }>;
}

const DAY = 86_400_000;
/** Days are UTC days: the CLI runs with TZ=UTC. */
const UTC = { env: { TZ: 'UTC' } };
const dayOf = (time: string | Date): string => new Date(time).toISOString().slice(0, 10);

async function names(folder: string): Promise<string[]> {
  return (await readdir(folder).catch(() => [])).filter((name) => /^[0-9a-f]{64}$/.test(name));
}

describe.skipIf(!haveDovecot)('forget', () => {
  let server: DovecotServer;
  let ws: Workspace;
  /** Every snapshot id of each account, and its day. */
  const days = new Map<string, string>();
  const aliceIds: string[] = [];
  const bobIds: string[] = [];

  beforeAll(async () => {
    server = await startDovecot({ users: { alice: 'a', bob: 'b', restored: 'r' } });
    await fillMailbox(server, 'alice', {
      INBOX: generateMessages({ tag: 'forget-alice', count: 12 }),
    });
    await fillMailbox(server, 'bob', { INBOX: generateMessages({ tag: 'forget-bob', count: 5 }) });
    ws = await createWorkspace(server, {
      accounts: ['alice', 'bob'],
      extra: 'retention: { keepDaily: 7, keepMonthly: 3, legalHold: [bob] }\n',
    });
    expect((await ws.run(['init', '--scrypt-cost', '10'])).code).toBe(0);
    const backup = await ws.run(['backup']);
    expect(backup.code, shown(backup)).toBe(0);

    // 400 days back, one snapshot a day at noon UTC, sharing the real snapshots' trees.
    const passphrase = (await readFile(join(ws.dir, 'repo.pass'), 'utf8')).trim();
    const storage = new LocalStorage(ws.repository);
    const repository = await Repository.open(storage, passphrase);
    const real = new Map<string, { id: string; snapshot: Snapshot }>();
    for await (const entry of repository.snapshots()) real.set(entry.snapshot.name, entry);
    for (const [account, ids] of [
      ['alice', aliceIds],
      ['bob', bobIds],
    ] as const) {
      const found = real.get(account);
      if (!found) throw new Error(`no snapshot of ${account}`);
      ids.push(found.id);
      days.set(found.id, dayOf(found.snapshot.time));
    }
    const today = Date.parse(`${dayOf(new Date())}T12:00:00.000Z`);
    for (let back = 1; back <= 400; back++) {
      const time = new Date(today - back * DAY).toISOString();
      const run = `${time.slice(0, 10).replace(/-/g, '')}T120000-synthetic`;
      const entries = (['alice', 'bob'] as const).map((account) => {
        const { snapshot } = real.get(account) ?? { snapshot: undefined };
        if (!snapshot) throw new Error('unreachable');
        return { ...snapshot, time, run };
      });
      if (back <= 10) {
        await repository.saveRunFile({
          version: 1,
          run,
          hostname: 'test',
          program: 'forget.test.ts',
          unchanged: entries.map(({ kind, source, name, tree, parent, summary }) => ({
            kind,
            source,
            name,
            time,
            tree,
            parent,
            summary,
          })),
        });
        for (const entry of entries) {
          const id = unchangedSnapshotId(entry);
          days.set(id, dayOf(time));
          (entry.name === 'alice' ? aliceIds : bobIds).push(id);
        }
      } else {
        for (const entry of entries) {
          const id = await repository.saveSnapshot(entry);
          days.set(id, dayOf(time));
          (entry.name === 'alice' ? aliceIds : bobIds).push(id);
        }
      }
    }
    await storage.close();
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    await ws?.remove();
  });

  /** What the policy keeps of alice: her 7 latest days, and the latest day of 3 latest months. */
  function expectedAlice(): Set<string> {
    const newestFirst = [...aliceIds].sort((a, b) =>
      (days.get(b) ?? '').localeCompare(days.get(a) ?? ''),
    );
    const kept = new Set(newestFirst.slice(0, 7));
    const months = new Set<string>();
    for (const id of newestFirst) {
      const month = (days.get(id) ?? '').slice(0, 7);
      if (months.size === 3 || months.has(month)) continue;
      months.add(month);
      kept.add(id);
    }
    return kept;
  }

  it('shows in a dry run what it would forget and why the rest stays, changing nothing', async () => {
    const before = (await names(join(ws.repository, 'snapshots'))).length;
    const result = await ws.run(['forget', '--dry-run', '--json'], UTC);
    expect(result.code, shown(result)).toBe(0);
    const plan = result.json<ForgetJson>();
    expect(plan.dryRun).toBe(true);
    const alice = plan.groups.find((group) => group.name === 'alice');
    const kept = new Set(alice?.decisions.filter((d) => d.keep).map((d) => d.id));
    expect(kept).toEqual(expectedAlice());
    expect(alice?.decisions).toHaveLength(401);
    const bob = plan.groups.find((group) => group.name === 'bob');
    expect(bob?.decisions.every((d) => d.keep && d.reasons.some((r) => /legal hold/.test(r)))).toBe(
      true,
    );
    // Every kept snapshot says why; the newest, among others, that it is the newest.
    for (const decision of alice?.decisions ?? []) {
      if (decision.keep) expect(decision.reasons.length).toBeGreaterThan(0);
    }
    expect(alice?.decisions[0]?.reasons).toContain('most recent snapshot');
    expect((await names(join(ws.repository, 'snapshots'))).length).toBe(before);
    const text = await ws.run(['forget', '--dry-run'], UTC);
    expect(text.stdout).toMatch(/^mail1\/alice: 9 kept, 392 to forget$/m);
    expect(text.stdout).toMatch(/^ {2}forget {2}\S+ \S+ {2}[0-9a-f]{8} {2}no rule keeps it$/m);
  });

  it('forgets what the policy does not keep, and leaves a repository that checks out', async () => {
    const itemIds = async (): Promise<string[]> => {
      const search = await ws.run(['search', '--account', 'alice', '--json']);
      expect(search.code, shown(search)).toBe(0);
      return search
        .json<Array<{ key: string }>>()
        .map((hit) => hit.key)
        .sort();
    };
    const before = await itemIds();
    expect(new Set(before).size).toBe(12);
    const result = await ws.run(['forget', '--json'], UTC);
    expect(result.code, shown(result)).toBe(0);
    expect(result.json<ForgetJson>().forgotten).toBe(392);
    // The items keep the ids that restore commands take.
    expect(await itemIds()).toEqual(before);

    const listed = await ws.run(['snapshots', '--json']);
    expect(listed.code, shown(listed)).toBe(0);
    const rows = listed.json<Array<{ id: string; account: string }>>();
    const ids = (account: string) =>
      new Set(rows.filter((row) => row.account === account).map((row) => row.id));
    expect(ids('alice')).toEqual(expectedAlice());
    expect(ids('bob')).toEqual(new Set(bobIds));

    // The catalog rebuilt from the repository alone agrees: the files say the same.
    const rebuild = await ws.run(['catalog', 'rebuild']);
    expect(rebuild.code, shown(rebuild)).toBe(0);
    const again = (await ws.run(['snapshots', '--json'])).json<Array<{ id: string }>>();
    expect(new Set(again.map((row) => row.id))).toEqual(new Set(rows.map((row) => row.id)));
    // Ten run files still, each with bob's entry; alice's went where the policy let her go.
    expect(await names(join(ws.repository, 'runs'))).toHaveLength(10);

    const check = await ws.run(['check', '--read-data']);
    expect(check.code, shown(check)).toBe(0);

    // The oldest snapshot kept of alice restores her mail.
    const oldest = [...expectedAlice()].map((id) => days.get(id) ?? '').sort()[0];
    const restore = await ws.run([
      'restore',
      'account',
      'alice',
      '--at',
      `${oldest}T23:00:00Z`,
      '--to-account',
      'restored',
    ]);
    expect(restore.code, shown(restore)).toBe(0);
    const restored = await readAccount(server, 'restored');
    const inbox = restored.folders.find((folder) => folder.path === 'INBOX');
    expect(inbox?.messages).toHaveLength(12);

    // A second forget finds nothing more to forget.
    const second = await ws.run(['forget', '--json'], UTC);
    expect(second.json<ForgetJson>().forgotten).toBe(0);

    // Both runs, and the check, are in the history that `status` shows.
    const status = await ws.run(['status', '--json']);
    const runs = status.json<{ runs: Array<{ kind: string; outcome: string; counts: object }> }>()
      .runs;
    expect(runs.find((run) => run.kind === 'forget')).toMatchObject({
      outcome: 'ok',
      counts: { forgotten: 0 },
    });
    expect(runs.find((run) => run.kind === 'check')).toMatchObject({ outcome: 'ok' });
  });

  it('refuses to run without a retention policy', async () => {
    const bare = await createWorkspace(server, { accounts: ['alice'] });
    try {
      const result = await bare.run(['forget']);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/no retention policy in the configuration/);
    } finally {
      await bare.remove();
    }
  });
});
