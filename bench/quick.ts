// `npm run bench:quick`: the first backup and the restore only, on a smaller mailbox, with CPU
// profiles: for working on mailvault's own speed between full benchmark runs; then, small, the
// other restores (items, into another account, external) and the search over a catalog.
//   BENCH_MESSAGES (default 5000), BENCH_PROFILE=1 to print where the time went; the sizes of
//   the other phases as in run.ts, smaller by default: BENCH_ITEMS (200), BENCH_EXTERNAL_ACCOUNTS
//   (4), BENCH_EXTERNAL_MESSAGES (1200), BENCH_SEARCH_ROWS (100000), BENCH_SEARCH_SAMPLES (1),
//   BENCH_SAMPLES (1).
import { join } from 'node:path';
import { startDovecot } from '../test/support/dovecot.js';
import { makeTempDir, removeTempDir } from '../test/support/servers.js';
import { mailboxStatus } from './accounts.js';
import { rawMultiAppend } from './ceilings.js';
import { readSettings, settle, type Bench } from './common.js';
import { planMailbox } from './mailgen.js';
import { writeMailbox } from './maildir.js';
import { MailvaultWorkspace } from './mailvault.js';
import {
  measureRestoreKinds,
  reportRestoreKinds,
  restoreKindUsers,
} from './phases/restore-kinds.js';
import { measureSearch, reportSearch } from './phases/search.js';
import { formatProfile, summarizeProfile } from './profile.js';
import { Report } from './report.js';

const settings = readSettings({
  MESSAGES: 5000,
  SAMPLES: 1,
  ITEMS: 200,
  EXTERNAL_ACCOUNTS: 4,
  EXTERNAL_MESSAGES: 1200,
  SEARCH_ROWS: 100_000,
  SEARCH_SAMPLES: 1,
});
const { MESSAGES, PROFILE } = settings;

async function main(): Promise<void> {
  const users: Record<string, string> = { bench: 'x', append: 'x' };
  for (const user of restoreKindUsers(settings)) users[user] = 'x';
  const server = await startDovecot({ users });
  const work = await makeTempDir('bench-quick');
  try {
    const plan = planMailbox('bench', MESSAGES, settings.SEED);
    const mailbox = await writeMailbox(server, plan);
    const original = await mailboxStatus(server, 'bench');
    const mb = mailbox.crlfBytes / 1e6;
    const profileDir = PROFILE ? join(work, 'profiles') : undefined;
    const mv = await MailvaultWorkspace.create(server, join(work, 'mv'), ['bench'], { profileDir });
    await settle();
    const backup = await mv.run(['backup'], 'backup');
    const run = backup.json as { seconds: number };
    console.log(
      `backup: ${MESSAGES} msgs ${mb.toFixed(0)} MB in ${backup.seconds.toFixed(2)} s wall (${run.seconds.toFixed(2)} s run): ` +
        `${(MESSAGES / backup.seconds).toFixed(0)} msg/s, cpu ${(backup.userSeconds + backup.systemSeconds).toFixed(1)} s, rss ${(backup.maxRssKb / 1024).toFixed(0)} MiB`,
    );
    const nochange = await mv.run(['backup']);
    console.log(
      `no-change: ${nochange.seconds.toFixed(2)} s wall, ${(nochange.json as { seconds: number }).seconds.toFixed(3)} s run`,
    );
    await settle();
    const ceiling = await rawMultiAppend(server, 'append', mailbox);
    console.log(`raw MULTIAPPEND: ${(MESSAGES / ceiling.seconds).toFixed(0)} msg/s`);
    await server.doveadm('expunge', '-u', 'bench', 'mailbox', '*', 'all');
    await settle();
    const restore = await mv.run(['restore', 'account', 'bench'], 'restore');
    console.log(
      `restore: ${restore.seconds.toFixed(2)} s wall: ${(MESSAGES / restore.seconds).toFixed(0)} msg/s, cpu ${(restore.userSeconds + restore.systemSeconds).toFixed(1)} s, rss ${(restore.maxRssKb / 1024).toFixed(0)} MiB`,
    );
    if (profileDir) {
      for (const name of ['backup', 'restore']) {
        console.log(
          formatProfile(name, await summarizeProfile(join(profileDir, `${name}.cpuprofile`))),
        );
      }
    }
    const bench: Bench = { settings, server, work, report: new Report(), details: {}, profileDir };
    const source = { user: 'bench', messages: MESSAGES, original };
    reportRestoreKinds(bench, source, await measureRestoreKinds(bench, source, mv));
    reportSearch(bench, await measureSearch(bench));
    console.log(bench.report.table());
  } finally {
    await server.stop();
    await removeTempDir(work);
  }
}

await main();
