// `npm run bench:quick`: the first backup and the restore only, on a smaller mailbox, with CPU
// profiles: for working on mailvault's own speed between full benchmark runs.
//   BENCH_MESSAGES (default 5000), BENCH_PROFILE=1 to print where the time went.
import { join } from 'node:path';
import { startDovecot } from '../test/support/dovecot.js';
import { makeTempDir, removeTempDir } from '../test/support/servers.js';
import { rawMultiAppend } from './ceilings.js';
import { settle } from './common.js';
import { planMailbox } from './mailgen.js';
import { writeMailbox } from './maildir.js';
import { MailvaultWorkspace } from './mailvault.js';
import { formatProfile, summarizeProfile } from './profile.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 5000);
const PROFILE = process.env.BENCH_PROFILE === '1';

async function main(): Promise<void> {
  const server = await startDovecot({ users: { bench: 'x', append: 'x' } });
  const work = await makeTempDir('bench-quick');
  try {
    const plan = planMailbox('bench', MESSAGES, 20251101);
    const mailbox = await writeMailbox(server, plan);
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
  } finally {
    await server.stop();
    await removeTempDir(work);
  }
}

await main();
