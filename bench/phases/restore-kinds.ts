// 9. The other restores an administrator runs, each into fresh, empty accounts, in messages/s of
// the whole CLI run (and of the restore alone, as its --json `seconds` counts it):
//   a. `restore item ID...`: BENCH_ITEMS items of the main mailbox (its newest, across its
//      folders, as `search --account bench --json` lists them), into an empty account
//      (--to-account itemsN), their folders created there;
//   b. `restore account bench --to-account copyN`: the whole main mailbox into an empty account;
//   c. `restore external --repo URL`: another installation's repository of BENCH_EXTERNAL_ACCOUNTS
//      accounts (BENCH_EXTERNAL_MESSAGES messages in all, a few hundred to a few thousand each),
//      with --concurrency 1 and with --concurrency 4, each time into a new Dovecot where the
//      accounts exist but are empty (--skip-provisioning: the site's account-creation hook is
//      not mailvault's speed).
// Each round runs the four in a rotating order; BENCH_SAMPLES rounds.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startDovecot, type DovecotServer } from '../../test/support/dovecot.js';
import { checkSameMail, mailboxStatus, totals, type FolderStatus } from '../accounts.js';
import {
  describeRun,
  fmtSpread,
  progress,
  rate,
  rotate,
  settle,
  spread,
  type Bench,
  type Settings,
  type Spread,
} from '../common.js';
import { planMailbox } from '../mailgen.js';
import { writeMailbox } from '../maildir.js';
import { MailvaultWorkspace, backupFigures, type MailvaultRun } from '../mailvault.js';
import { fmtBytes, fmtCount, fmtRate } from '../report.js';

/** The account restored by (a) and (b), with what Dovecot holds per folder. */
export interface RestoreSource {
  user: string;
  messages: number;
  original: Map<string, FolderStatus>;
}

export interface RestoreKindRuns {
  items: MailvaultRun[];
  /** Items in each `restore item` run. */
  itemCount: number;
  intoAccount: MailvaultRun[];
  external: Record<'c1' | 'c4', MailvaultRun[]>;
  externalAccounts: number;
  externalMessages: number;
  externalBytes: number;
  order: string[][];
}

const CONCURRENCIES = { c1: 1, c4: 4 } as const;

function externalUsers(settings: Settings): string[] {
  return Array.from({ length: settings.EXTERNAL_ACCOUNTS }, (_, i) => `ext${i + 1}`);
}

/** The Dovecot users this phase needs on the main server. */
export function restoreKindUsers(settings: Settings): string[] {
  const rounds = Array.from({ length: settings.SAMPLES }, (_, i) => i + 1);
  return [...rounds.flatMap((n) => [`items${n}`, `copy${n}`]), ...externalUsers(settings)];
}

/** Messages per external account: in proportion 1 : 2 : ... : n, BENCH_EXTERNAL_MESSAGES in all. */
function externalSizes(settings: Settings): number[] {
  const n = settings.EXTERNAL_ACCOUNTS;
  const sum = (n * (n + 1)) / 2;
  return Array.from({ length: n }, (_, i) =>
    Math.max(1, Math.round((settings.EXTERNAL_MESSAGES * (i + 1)) / sum)),
  );
}

interface ExternalSource {
  mv: MailvaultWorkspace;
  users: string[];
  originals: Map<string, Map<string, FolderStatus>>;
  messages: number;
  bytes: number;
}

/** The other installation: its accounts on the main server, backed up into its own repository. */
async function prepareExternal(bench: Bench): Promise<ExternalSource> {
  const { server, work, settings } = bench;
  const users = externalUsers(settings);
  const sizes = externalSizes(settings);
  const originals = new Map<string, Map<string, FolderStatus>>();
  let messages = 0;
  let bytes = 0;
  for (const [i, user] of users.entries()) {
    const count = sizes[i] ?? 1;
    const mailbox = await writeMailbox(server, planMailbox(user, count, settings.SEED + 1000 + i));
    originals.set(user, await mailboxStatus(server, user));
    messages += count;
    bytes += mailbox.crlfBytes;
  }
  progress(
    `external: ${users.length} accounts of ${sizes.map(fmtCount).join(', ')} messages ` +
      `(${fmtBytes(bytes)}), backed up into the other installation's repository`,
  );
  const mv = await MailvaultWorkspace.create(server, join(work, 'mailvault-external'), users);
  const backup = await mv.run(['backup']);
  if (backupFigures(backup).items !== messages)
    throw new Error(`the external backup saw ${backupFigures(backup).items} items of ${messages}`);
  return { mv, users, originals, messages, bytes };
}

/** The ids `restore item` is given: the account's newest items, as `search --json` lists them. */
async function itemIds(mv: MailvaultWorkspace, user: string, count: number): Promise<string[]> {
  const found = await mv.run(['search', '--account', user, '--limit', String(count)]);
  const hits = found.json as unknown as Array<{ key: string }>;
  if (!Array.isArray(hits) || hits.length !== count)
    throw new Error(
      `search --account ${user} found ${Array.isArray(hits) ? hits.length : 0} items`,
    );
  return hits.map((hit) => hit.key);
}

function restoredCount(run: MailvaultRun): number {
  return (run.json.totals as { restored?: number } | undefined)?.restored ?? NaN;
}

/** `restore external` into a new server holding the same accounts, empty; checked, then gone. */
async function externalRestore(
  bench: Bench,
  source: ExternalSource,
  concurrency: number,
  label: string,
): Promise<MailvaultRun> {
  const users = Object.fromEntries(source.users.map((user) => [user, 'x']));
  const target: DovecotServer = await startDovecot({ users });
  const dir = join(bench.work, `mailvault-external-${label}`);
  try {
    const mv = await MailvaultWorkspace.create(target, dir, source.users);
    await settle();
    const run = await mv.run([
      'restore',
      'external',
      '--repo',
      source.mv.repository,
      '--password-file',
      join(source.mv.dir, 'repo.pass'),
      '--concurrency',
      String(concurrency),
      '--skip-provisioning',
    ]);
    for (const user of source.users)
      await checkSameMail(
        target,
        user,
        source.originals.get(user) ?? new Map(),
        `the external restore of ${user}`,
      );
    return run;
  } finally {
    await target.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function measureRestoreKinds(
  bench: Bench,
  main: RestoreSource,
  mv: MailvaultWorkspace,
): Promise<RestoreKindRuns> {
  const { server, settings } = bench;
  const { SAMPLES, ITEMS } = settings;
  const external = await prepareExternal(bench);
  const ids = await itemIds(mv, main.user, ITEMS);
  const result: RestoreKindRuns = {
    items: [],
    itemCount: ids.length,
    intoAccount: [],
    external: { c1: [], c4: [] },
    externalAccounts: external.users.length,
    externalMessages: external.messages,
    externalBytes: external.bytes,
    order: [],
  };
  for (let i = 0; i < SAMPLES; i++) {
    const n = i + 1;
    const round = `${n}/${SAMPLES}`;
    const steps: Array<[string, () => Promise<void>]> = [
      [
        'restore item',
        async (): Promise<void> => {
          await settle();
          progress(
            `mailvault restore item: ${ids.length} items into the empty account items${n} (${round})`,
          );
          const run = await mv.run(['restore', 'item', ...ids, '--to-account', `items${n}`]);
          const held = totals(await mailboxStatus(server, `items${n}`)).messages;
          if (restoredCount(run) !== ids.length || held !== ids.length)
            throw new Error(`restore item restored ${restoredCount(run)}, items${n} holds ${held}`);
          result.items.push(run);
          progress(`  ${describeRun(run)}`);
        },
      ],
      [
        'restore account --to-account',
        async (): Promise<void> => {
          await settle();
          progress(`mailvault restore account ${main.user} --to-account copy${n} (${round})`);
          const run = await mv.run(['restore', 'account', main.user, '--to-account', `copy${n}`]);
          await checkSameMail(
            server,
            `copy${n}`,
            main.original,
            'the restore into another account',
          );
          result.intoAccount.push(run);
          progress(`  ${describeRun(run)}; ${fmtCount(restoredCount(run))} messages`);
        },
      ],
      ...(Object.entries(CONCURRENCIES) as Array<['c1' | 'c4', number]>).map(
        ([key, concurrency]): [string, () => Promise<void>] => [
          `restore external --concurrency ${concurrency}`,
          async (): Promise<void> => {
            progress(
              `mailvault restore external, ${external.users.length} accounts, --concurrency ${concurrency}, into a new server (${round})`,
            );
            const run = await externalRestore(bench, external, concurrency, `${key}-${n}`);
            result.external[key].push(run);
            progress(`  ${describeRun(run)}`);
          },
        ],
      ),
    ];
    const ordered = rotate(steps, i);
    result.order.push(ordered.map(([name]) => name));
    for (const [, step] of ordered) await step();
  }
  return result;
}

/** What the restores are compared with, when the same run measured it (run.ts does). */
export interface RestoreReference {
  mbsyncPush: Spread;
}

export function reportRestoreKinds(
  bench: Bench,
  main: RestoreSource,
  runs: RestoreKindRuns,
  reference?: RestoreReference,
): void {
  const { report, details } = bench;
  const msgPerSec = (n: number): string => fmtRate(n, 'msg/s');
  // Wall: the whole CLI run. Alone: the restore itself, as the run's --json `seconds` counts it
  // (after starting node, unlocking the key and opening the catalog or the other repository).
  const rates = (list: MailvaultRun[], count: number, alone = false): Spread =>
    spread(list.map((run) => rate(count, alone ? Number(run.json.seconds ?? NaN) : run.seconds)));
  const kinds = {
    items: { list: runs.items, count: runs.itemCount },
    intoAccount: { list: runs.intoAccount, count: main.messages },
    externalC1: { list: runs.external.c1, count: runs.externalMessages },
    externalC4: { list: runs.external.c4, count: runs.externalMessages },
  };
  const wall = Object.fromEntries(
    Object.entries(kinds).map(([key, { list, count }]) => [key, rates(list, count)]),
  ) as Record<keyof typeof kinds, Spread>;
  const alone = Object.fromEntries(
    Object.entries(kinds).map(([key, { list, count }]) => [key, rates(list, count, true)]),
  ) as Record<keyof typeof kinds, Spread>;
  const display = (key: keyof typeof kinds): string =>
    `${fmtSpread(wall[key], msgPerSec)} (${msgPerSec(alone[key].median)} the restore alone)`;
  const { items, intoAccount, externalC1: c1, externalC4: c4 } = wall;
  const push = reference?.mbsyncPush;
  const vsPush = (s: Spread): { target: string; met?: boolean } =>
    push
      ? {
          target: `≥ mbsync push: ${fmtSpread(push, msgPerSec)} here (≈1,400)`,
          met: s.median >= push.median,
        }
      : { target: 'PRODUCT.md: restores ≥ mbsync push (≈1,400)' };
  details.restoreKinds = {
    msgPerSec: wall,
    restoreAloneMsgPerSec: alone,
    items: runs.itemCount,
    externalAccounts: runs.externalAccounts,
    externalMessages: runs.externalMessages,
    externalBytes: runs.externalBytes,
    order: runs.order,
  };
  const S9 = '9. Other restores, into empty accounts';
  report.add({
    id: 'restore.item.msgPerSec',
    section: S9,
    label: `restore item: ${fmtCount(runs.itemCount)} ids from search --json`,
    value: items.median,
    unit: 'msg/s',
    display: display('items'),
    target: 'a whole CLI run for a few hundred items',
    samples: items,
  });
  report.add({
    id: 'restore.intoAccount.msgPerSec',
    section: S9,
    label: `restore account --to-account (${fmtCount(main.messages)} messages)`,
    value: intoAccount.median,
    unit: 'msg/s',
    display: display('intoAccount'),
    ...vsPush(intoAccount),
    samples: intoAccount,
  });
  const external = `${runs.externalAccounts} accounts, ${fmtCount(runs.externalMessages)} messages`;
  report.add({
    id: 'restore.external.c1.msgPerSec',
    section: S9,
    label: `restore external --concurrency 1 (${external})`,
    value: c1.median,
    unit: 'msg/s',
    display: display('externalC1'),
    ...vsPush(c1),
    samples: c1,
  });
  report.add({
    id: 'restore.external.c4.msgPerSec',
    section: S9,
    label: `restore external --concurrency 4 (${external})`,
    value: c4.median,
    unit: 'msg/s',
    display: `${display('externalC4')}; ${(c4.median / c1.median).toFixed(2)}× of --concurrency 1`,
    ...vsPush(c4),
    samples: c4,
  });
}
