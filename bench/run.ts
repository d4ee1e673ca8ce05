// `npm run bench`: mailvault against a real Dovecot on loopback, side by side with mbsync, restic,
// borg and the server's own ceilings, in one run. Figures go to stdout as a table, next to the
// "Fast." targets of PRODUCT.md, and to bench/out/results.json. Progress goes to stderr.
//
// Environment:
//   BENCH_MESSAGES  messages in the main mailbox (default 20000, about 1.2 GB)
//   BENCH_SMALL     messages in the smaller mailbox used for churn and memory (default 5000)
//   BENCH_DAYS      daily snapshots in the churn test (default 30)
//   BENCH_COPIES    mailboxes the same message is delivered to (default 100)
//   BENCH_SEED      seed of the generated mail (default 20251101)
//   BENCH_PROFILE=1 also write V8 CPU profiles of mailvault's first backup, first no-change run
//                   and restore into bench/out/profiles and print where their time went (this
//                   slows those runs down)
//   BENCH_CHURN_BASELINES=0  skip restic and borg in the churn test
import { scrypt } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDovecot, type DovecotServer } from '../test/support/dovecot.js';
import { makeTempDir, removeTempDir } from '../test/support/servers.js';
import { MAILVAULT_BIN } from '../test/support/workspace.js';
import { rawFetch, rawMultiAppend, type Throughput } from './ceilings.js';
import { churnDay } from './churn.js';
import { deliverToAll } from './dedup.js';
import { planMailbox } from './mailgen.js';
import { maildirRoot, writeMailbox } from './maildir.js';
import { MailvaultWorkspace, backupFigures, type MailvaultRun } from './mailvault.js';
import { cleanupTimeDir, run, timed, type Timed } from './proc.js';
import { formatProfile, summarizeProfile } from './profile.js';
import { Report, fmtBytes, fmtCount, fmtMiB, fmtRate, fmtSeconds } from './report.js';
import { Borg, Mbsync, Restic, toolVersions } from './tools.js';

const checkout = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(checkout, 'bench', 'out');

function envNumber(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number`);
  return n;
}

const MESSAGES = envNumber('BENCH_MESSAGES', 20_000);
const SMALL = envNumber('BENCH_SMALL', Math.min(5_000, Math.max(100, Math.floor(MESSAGES / 4))));
const DAYS = envNumber('BENCH_DAYS', 30);
const COPIES = envNumber('BENCH_COPIES', 100);
const SEED = envNumber('BENCH_SEED', 20251101);
const PROFILE = process.env.BENCH_PROFILE === '1';
const CHURN_BASELINES = process.env.BENCH_CHURN_BASELINES !== '0';

const t0 = performance.now();
function progress(message: string): void {
  const s = Math.floor((performance.now() - t0) / 1000);
  process.stderr.write(
    `[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${message}\n`,
  );
}

const rate = (count: number, seconds: number): number => (seconds > 0 ? count / seconds : 0);
const mb = (bytes: number): number => bytes / 1e6;

interface FolderStatus {
  messages: number;
  vsize: number;
}

async function mailboxStatus(
  server: DovecotServer,
  user: string,
): Promise<Map<string, FolderStatus>> {
  const text = await server.doveadm('mailbox', 'status', '-u', user, 'messages vsize', '*');
  const status = new Map<string, FolderStatus>();
  for (const line of text.split('\n')) {
    const match = /^(.*) messages=(\d+) vsize=(\d+)$/.exec(line.trim());
    if (match?.[1]) status.set(match[1], { messages: Number(match[2]), vsize: Number(match[3]) });
  }
  return status;
}

function totals(status: Map<string, FolderStatus>): FolderStatus {
  let messages = 0;
  let vsize = 0;
  for (const folder of status.values()) {
    messages += folder.messages;
    vsize += folder.vsize;
  }
  return { messages, vsize };
}

/** Throws unless `user` holds the same messages (count and size per folder) as `expected`. */
async function checkSameMail(
  server: DovecotServer,
  user: string,
  expected: Map<string, FolderStatus>,
  what: string,
): Promise<void> {
  const actual = await mailboxStatus(server, user);
  const problems: string[] = [];
  for (const [folder, want] of expected) {
    const got = actual.get(folder);
    if (!got || got.messages !== want.messages || got.vsize !== want.vsize)
      problems.push(
        `${folder}: ${got ? `${got.messages} messages, ${got.vsize} bytes` : 'missing'}, expected ${want.messages}, ${want.vsize}`,
      );
  }
  if (problems.length > 0) throw new Error(`${what} is incomplete:\n${problems.join('\n')}`);
}

async function emptyAccount(server: DovecotServer, user: string, folders: string[]): Promise<void> {
  await server.doveadm('expunge', '-u', user, 'mailbox', '*', 'all');
  const keep = new Set(['INBOX', 'Sent', 'Trash']);
  const doomed = folders
    .filter((folder) => !keep.has(folder))
    .sort((a, b) => b.split('/').length - a.split('/').length || (a < b ? -1 : 1));
  if (doomed.length > 0) await server.doveadm('mailbox', 'delete', '-u', user, '-s', ...doomed);
  const left = totals(await mailboxStatus(server, user));
  if (left.messages !== 0) throw new Error(`${user} still holds ${left.messages} messages`);
}

/**
 * What every CLI run pays before it does anything: starting node and loading the CLI, and
 * deriving the key that unwraps the repository's master key (scrypt, with the repository's own
 * parameters, timed here in-process).
 */
async function cliStartup(
  mv: MailvaultWorkspace,
): Promise<{ helpSeconds: number; kdfSeconds: number; kdfN: number }> {
  const keys = join(mv.repository, 'keys');
  const [name] = await readdir(keys);
  const keyFile = JSON.parse(await readFile(join(keys, name ?? ''), 'utf8')) as {
    kdf: { N: number; r: number; p: number; salt: string };
  };
  const { N, r, p, salt } = keyFile.kdf;
  const started = performance.now();
  await new Promise<void>((resolve, reject) =>
    scrypt(
      'benchmark',
      Buffer.from(salt, 'base64'),
      32,
      { N, r, p, maxmem: 256 * N * r + 16 * 1024 * 1024 },
      (error) => (error ? reject(error) : resolve()),
    ),
  );
  const kdfSeconds = (performance.now() - started) / 1000;
  const help = await timed(process.execPath, [MAILVAULT_BIN, '--help']);
  return { helpSeconds: help.seconds, kdfSeconds, kdfN: N };
}

/** The run with the median wall time. */
function medianRun<T extends Timed>(runs: T[]): T {
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
  const middle = sorted[Math.floor(sorted.length / 2)];
  if (!middle) throw new Error('no runs');
  return middle;
}

function cpuSeconds(run: Timed): number {
  return run.userSeconds + run.systemSeconds;
}

/**
 * Writes dirty pages out before a timed phase: otherwise the kernel's writeback of what the
 * previous phase wrote (a gigabyte of Maildir) throttles whoever writes next, and the figures
 * depend on the order of the phases more than on the tools.
 */
async function settle(): Promise<void> {
  await run('sync', []);
}

function describeRun(run: Timed): string {
  return `${fmtSeconds(run.seconds)}, ${fmtMiB(run.maxRssKb)} peak RSS`;
}

async function main(): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const profileDir = PROFILE ? join(outDir, 'profiles') : undefined;
  const report = new Report();
  const details: Record<string, unknown> = {};
  const loadBefore = loadavg();
  progress(
    `mailvault benchmark: ${fmtCount(MESSAGES)} messages; churn and memory on ${fmtCount(SMALL)}; ` +
      `${DAYS} days; ${COPIES} copies${PROFILE ? '; CPU profiles on' : ''}`,
  );

  const dedupUsers = Array.from(
    { length: COPIES },
    (_, i) => `dd${String(i + 1).padStart(3, '0')}`,
  );
  const users: Record<string, string> = { bench: 'x', append: 'x', push: 'x', churn: 'x' };
  for (const user of dedupUsers) users[user] = 'x';
  const server = await startDovecot({ users });
  const work = await makeTempDir('bench');
  progress(`Dovecot on ${server.host}:${server.port}, work in ${work}`);
  try {
    // 1. Data ------------------------------------------------------------------------------
    const genStarted = performance.now();
    const mainPlan = planMailbox('bench', MESSAGES, SEED);
    const mailbox = await writeMailbox(server, mainPlan, (done, total) => {
      if (done % 5000 === 0) progress(`  written ${fmtCount(done)}/${fmtCount(total)} messages`);
    });
    const smallMailbox = await writeMailbox(server, planMailbox('churn', SMALL, SEED + 1));
    const genSeconds = (performance.now() - genStarted) / 1000;
    const folders = mailbox.folders;
    const original = await mailboxStatus(server, 'bench');
    const served = totals(original);
    if (served.messages !== MESSAGES || served.vsize !== mailbox.crlfBytes)
      throw new Error(
        `Dovecot sees ${served.messages} messages / ${served.vsize} bytes, wrote ${MESSAGES} / ${mailbox.crlfBytes}`,
      );
    progress(
      `data: ${fmtCount(MESSAGES)} messages in ${folders.length} folders, ${fmtBytes(mailbox.crlfBytes)} ` +
        `(IMAP) + ${fmtCount(SMALL)} messages, ${fmtBytes(smallMailbox.crlfBytes)}, in ${fmtSeconds(genSeconds)}`,
    );
    const raw = mailbox.crlfBytes;
    const sizes = mailbox.messages.map((m) => m.crlfSize).sort((a, b) => a - b);
    const share = (lo: number, hi: number): number =>
      sizes.filter((s) => s >= lo && s < hi).length / sizes.length;
    details.dataset = {
      seed: SEED,
      messages: MESSAGES,
      folders: folders.length,
      imapBytes: raw,
      maildirBytes: mailbox.lfBytes,
      medianMessageBytes: sizes[Math.floor(sizes.length / 2)],
      share2to50kB: share(2048, 50 * 1024),
      largest: sizes[sizes.length - 1],
      over1MB: sizes.filter((s) => s >= 1024 * 1024).length,
      smallMailbox: { messages: SMALL, imapBytes: smallMailbox.crlfBytes },
      generateSeconds: genSeconds,
    };
    report.add({
      id: 'data.messages',
      section: '1. Data',
      label: 'main mailbox (user bench)',
      value: MESSAGES,
      unit: 'messages',
      display: `${fmtCount(MESSAGES)} msgs, ${folders.length} folders, ${fmtBytes(raw)}`,
      target: '20,000 msgs / 1.2 GB',
    });
    report.add({
      id: 'data.shape',
      section: '1. Data',
      label: 'message sizes',
      value: share(2048, 50 * 1024),
      unit: 'share',
      display: `${(share(2048, 50 * 1024) * 100).toFixed(0)} % in 2–50 KB, ${sizes.filter((s) => s >= 1024 * 1024).length} over 1 MB`,
      target: 'mostly 2–50 KB',
    });

    // Dovecot's first look at every message (cache, page cache) is nobody's cost: warm up.
    await settle();
    progress('warm-up read of the whole mailbox');
    await rawFetch(server, 'bench', folders, 'FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[]');

    // 5. Ceilings and baselines: reading ----------------------------------------------------
    progress('raw UID FETCH 1:* BODY.PEEK[] (ceiling)');
    const fetchCeiling = await rawFetch(server, 'bench', folders);
    if (fetchCeiling.messages !== MESSAGES)
      throw new Error(`raw FETCH saw ${fetchCeiling.messages} messages`);
    progress(`  ${fmtRate(rate(MESSAGES, fetchCeiling.seconds), 'msg/s')}`);

    const mbsync = await Mbsync.create(server, join(work, 'mbsync'), 'bench', 'push');
    await settle();
    progress('mbsync pull, first run');
    const mbsyncPull = await mbsync.pull();
    progress(`  ${describeRun(mbsyncPull)}`);
    progress('mbsync pull, no-change run');
    // No-change runs are short and this machine may be busy: the median of three.
    const mbsyncPull2 = medianRun([
      await mbsync.pullAgain(),
      await mbsync.pull(),
      await mbsync.pull(),
    ]);
    progress(`  ${describeRun(mbsyncPull2)} (median of 3)`);

    const restic = new Restic(join(work, 'restic'));
    await restic.init();
    await settle();
    progress('restic backup of the Maildir, first run');
    const restic1 = await restic.backup(mbsync.maildir);
    progress(`  ${describeRun(restic1)}`);
    const restic2 = await restic.backup(mbsync.maildir);
    const resticBytes = await restic.size();
    progress(`  no-change ${describeRun(restic2)}; repository ${fmtBytes(resticBytes)}`);

    const borg = new Borg(join(work, 'borg'));
    await borg.init();
    await settle();
    progress('borg create --compression zstd of the Maildir, first run');
    const borg1 = await borg.backup(mbsync.maildir);
    progress(`  ${describeRun(borg1)}`);
    const borg2 = await borg.backup(mbsync.maildir);
    const borgBytes = await borg.size();
    progress(`  no-change ${describeRun(borg2)}; repository ${fmtBytes(borgBytes)}`);

    // 2. mailvault first backup ----------------------------------------------------------------
    const mv = await MailvaultWorkspace.create(server, join(work, 'mailvault-main'), ['bench'], {
      profileDir,
    });
    await settle();
    progress('mailvault backup, first run');
    const first = await mv.run(['backup'], 'backup-first', true);
    const firstFigures = backupFigures(first);
    if (firstFigures.items !== MESSAGES) throw new Error(`backup saw ${firstFigures.items} items`);
    const mvBytes = await mv.repositoryBytes();
    progress(
      `  ${describeRun(first)}; ${firstFigures.imapCommands} IMAP commands; repository ${fmtBytes(mvBytes)}`,
    );

    // 3. no-change run -------------------------------------------------------------------------
    progress('mailvault backup, no-change run');
    const second = medianRun([
      await mv.run(['backup'], 'backup-nochange'),
      await mv.run(['backup']),
      await mv.run(['backup']),
    ]);
    const secondFigures = backupFigures(second);
    progress(`  ${describeRun(second)} (median of 3); ${secondFigures.imapCommands} IMAP commands`);

    const mvFirstRate = rate(MESSAGES, first.seconds);
    const mbsyncRate = rate(MESSAGES, mbsyncPull.seconds);
    const S2 = '2. First backup';
    report.add({
      id: 'backup.first.msgPerSec',
      section: S2,
      label: 'messages/s (wall, whole CLI run)',
      value: mvFirstRate,
      unit: 'msg/s',
      display: `${fmtRate(mvFirstRate, 'msg/s')} (${fmtSeconds(first.seconds)})`,
      target: `≥ mbsync pull: ${fmtRate(mbsyncRate, 'msg/s')} here (≈1,500)`,
      met: mvFirstRate >= mbsyncRate,
    });
    report.add({
      id: 'backup.first.runMsgPerSec',
      section: S2,
      label: 'messages/s (backup run only, from --json)',
      value: rate(MESSAGES, firstFigures.runSeconds),
      unit: 'msg/s',
      display: `${fmtRate(rate(MESSAGES, firstFigures.runSeconds), 'msg/s')} (${fmtSeconds(firstFigures.runSeconds)})`,
      target: '',
    });
    report.add({
      id: 'backup.first.MBps',
      section: S2,
      label: 'MB/s (IMAP bytes)',
      value: mb(raw) / first.seconds,
      unit: 'MB/s',
      display: fmtRate(mb(raw) / first.seconds, 'MB/s'),
      target: `mbsync ${fmtRate(mb(raw) / mbsyncPull.seconds, 'MB/s')}`,
    });
    report.add({
      id: 'backup.first.vsCeiling',
      section: S2,
      label: 'share of the raw FETCH ceiling',
      value: mvFirstRate / rate(MESSAGES, fetchCeiling.seconds),
      unit: 'ratio',
      display: `${((mvFirstRate / rate(MESSAGES, fetchCeiling.seconds)) * 100).toFixed(0)} % of ${fmtRate(rate(MESSAGES, fetchCeiling.seconds), 'msg/s')}`,
      target: 'ceiling ≈5,600 msg/s',
    });
    report.add({
      id: 'backup.first.peakRssKb',
      section: S2,
      label: 'peak RSS',
      value: first.maxRssKb,
      unit: 'KiB',
      display: fmtMiB(first.maxRssKb),
      target: '',
    });
    report.add({
      id: 'backup.first.cpuSeconds',
      section: S2,
      label: 'CPU time (user + system)',
      value: cpuSeconds(first),
      unit: 's',
      display: `${fmtSeconds(cpuSeconds(first))} (${((cpuSeconds(first) / MESSAGES) * 1e6).toFixed(0)} µs/msg)`,
      target: `mbsync ${fmtSeconds(cpuSeconds(mbsyncPull))}`,
    });
    report.add({
      id: 'backup.first.imapCommands',
      section: S2,
      label: 'IMAP commands',
      value: firstFigures.imapCommands,
      unit: 'commands',
      display: `${fmtCount(firstFigures.imapCommands)} (${(firstFigures.imapCommands / folders.length).toFixed(1)} per folder)`,
      target: '',
    });
    report.add({
      id: 'backup.first.repoRatio',
      section: S2,
      label: 'repository size / raw bytes',
      value: mvBytes / raw,
      unit: 'ratio',
      display: `${(mvBytes / raw).toFixed(3)}× (${fmtBytes(mvBytes)})`,
      target: `< restic ${(resticBytes / raw).toFixed(3)}× and borg ${(borgBytes / raw).toFixed(3)}× (≈0.79×, 0.65×)`,
      met: mvBytes < resticBytes && mvBytes < borgBytes,
    });

    const S3 = '3. No-change run';
    report.add({
      id: 'backup.nochange.seconds',
      section: S3,
      label: 'wall time (whole CLI run, median of 3)',
      value: second.seconds,
      unit: 's',
      display: fmtSeconds(second.seconds),
      target: `≤ mbsync ${fmtSeconds(mbsyncPull2.seconds)} here (≈0.16 s)`,
      met: second.seconds <= mbsyncPull2.seconds,
    });
    report.add({
      id: 'backup.nochange.runSeconds',
      section: S3,
      label: 'backup run only (from --json)',
      value: secondFigures.runSeconds,
      unit: 's',
      display: fmtSeconds(secondFigures.runSeconds),
      target: '',
    });
    const startup = await cliStartup(mv);
    report.add({
      id: 'backup.nochange.keyDerivation',
      section: S3,
      label: `of which unlocking the key (scrypt N=2^${Math.log2(startup.kdfN)})`,
      value: startup.kdfSeconds,
      unit: 's',
      display: fmtSeconds(startup.kdfSeconds),
      target: '',
    });
    report.add({
      id: 'backup.nochange.cliStartup',
      section: S3,
      label: 'of which starting the CLI (`mailvault --help`)',
      value: startup.helpSeconds,
      unit: 's',
      display: fmtSeconds(startup.helpSeconds),
      target: '',
    });
    report.add({
      id: 'backup.nochange.imapCommands',
      section: S3,
      label: 'IMAP commands (round trips)',
      value: secondFigures.imapCommands,
      unit: 'commands',
      display: fmtCount(secondFigures.imapCommands),
      target: `≤ 1 per folder (${folders.length}) with CONDSTORE`,
      met: secondFigures.imapCommands <= folders.length,
    });

    // 4. Restore and the writing baselines ----------------------------------------------------
    await settle();
    progress('raw MULTIAPPEND into an empty account (ceiling)');
    const appendCeiling: Throughput = await rawMultiAppend(server, 'append', mailbox);
    await checkSameMail(server, 'append', original, 'the raw MULTIAPPEND');
    progress(`  ${fmtRate(rate(MESSAGES, appendCeiling.seconds), 'msg/s')}`);

    await settle();
    progress('mbsync push of the Maildir into an empty account');
    const mbsyncPush = await mbsync.push();
    const pushed = totals(await mailboxStatus(server, 'push'));
    if (pushed.messages !== MESSAGES) throw new Error(`mbsync pushed ${pushed.messages} messages`);
    progress(`  ${describeRun(mbsyncPush)}`);

    progress("deleting all of bench's mail, then mailvault restore");
    await emptyAccount(server, 'bench', folders);
    await settle();
    const restore = await mv.run(['restore', 'account', 'bench'], 'restore');
    const restored = (restore.json.totals as { restored?: number } | undefined)?.restored ?? 0;
    await checkSameMail(server, 'bench', original, 'the mailvault restore');
    progress(`  ${describeRun(restore)}; ${fmtCount(restored)} messages`);

    const S4 = '4. Restore into an empty account';
    const restoreRate = rate(MESSAGES, restore.seconds);
    const appendRate = rate(MESSAGES, appendCeiling.seconds);
    const pushRate = rate(MESSAGES, mbsyncPush.seconds);
    report.add({
      id: 'restore.msgPerSec',
      section: S4,
      label: 'messages/s vs mbsync push',
      value: restoreRate,
      unit: 'msg/s',
      display: `${fmtRate(restoreRate, 'msg/s')} (${fmtSeconds(restore.seconds)})`,
      target: `≥ mbsync push: ${fmtRate(pushRate, 'msg/s')} here (≈1,400)`,
      met: restoreRate >= pushRate,
    });
    report.add({
      id: 'restore.vsMultiappend',
      section: S4,
      label: 'share of raw MULTIAPPEND',
      value: restoreRate / appendRate,
      unit: 'ratio',
      display: `${(restoreRate / appendRate).toFixed(2)}× of ${fmtRate(appendRate, 'msg/s')}`,
      target: '≥ 0.8× (raw ≈2,300 msg/s)',
      met: restoreRate >= 0.8 * appendRate,
    });
    report.add({
      id: 'restore.MBps',
      section: S4,
      label: 'MB/s',
      value: mb(raw) / restore.seconds,
      unit: 'MB/s',
      display: fmtRate(mb(raw) / restore.seconds, 'MB/s'),
      target: `raw ${fmtRate(mb(appendCeiling.bytes) / appendCeiling.seconds, 'MB/s')}`,
    });
    const restoreRunSeconds = Number(restore.json.seconds ?? NaN);
    report.add({
      id: 'restore.runMsgPerSec',
      section: S4,
      label: 'messages/s (restore only, from --json)',
      value: rate(MESSAGES, restoreRunSeconds),
      unit: 'msg/s',
      display: `${fmtRate(rate(MESSAGES, restoreRunSeconds), 'msg/s')} (${fmtSeconds(restoreRunSeconds)})`,
      target: '',
    });
    report.add({
      id: 'restore.cpuSeconds',
      section: S4,
      label: 'CPU time (user + system)',
      value: cpuSeconds(restore),
      unit: 's',
      display: fmtSeconds(cpuSeconds(restore)),
      target: `mbsync push ${fmtSeconds(cpuSeconds(mbsyncPush))}`,
    });
    report.add({
      id: 'restore.peakRssKb',
      section: S4,
      label: 'peak RSS',
      value: restore.maxRssKb,
      unit: 'KiB',
      display: fmtMiB(restore.maxRssKb),
      target: '',
    });

    // 6. Incremental space: daily churn on the smaller mailbox ----------------------------------
    progress(`churn: ${DAYS} daily snapshots of ${fmtCount(SMALL)} messages, 1 % churn a day`);
    const churnFolders = smallMailbox.folders;
    const churnMv = await MailvaultWorkspace.create(
      server,
      join(work, 'mailvault-churn'),
      ['churn'],
      {
        profileDir,
      },
    );
    const churnRestic = CHURN_BASELINES ? new Restic(join(work, 'restic-churn')) : undefined;
    const churnBorg = CHURN_BASELINES ? new Borg(join(work, 'borg-churn')) : undefined;
    await churnRestic?.init();
    await churnBorg?.init();
    const churnMaildir = maildirRoot(server, 'churn');
    const churnDays: Array<Record<string, number>> = [];
    let smallFirst: MailvaultRun | undefined;
    for (let day = 1; day <= DAYS; day++) {
      let churned = { deleted: 0, added: 0, reflagged: 0, addedBytes: 0, messagesBefore: SMALL };
      if (day > 1) churned = await churnDay(server, 'churn', churnFolders, day, SEED);
      const backup = await churnMv.run(['backup'], undefined, day === 1);
      if (day === 1) smallFirst = backup;
      const figures = backupFigures(backup);
      const resticRun = await churnRestic?.backup(churnMaildir);
      const borgRun = await churnBorg?.backup(churnMaildir);
      churnDays.push({
        day,
        ...churned,
        mailvaultSeconds: backup.seconds,
        mailvaultImapCommands: figures.imapCommands,
        mailvaultNewItems: figures.newItems,
        mailvaultBytes: await churnMv.repositoryBytes(),
        ...(churnRestic && resticRun
          ? { resticSeconds: resticRun.seconds, resticBytes: await churnRestic.size() }
          : {}),
        ...(churnBorg && borgRun
          ? { borgSeconds: borgRun.seconds, borgBytes: await churnBorg.size() }
          : {}),
      });
      if (day === 1 || day % 5 === 0 || day === DAYS)
        progress(
          `  day ${day}: mailvault ${fmtSeconds(backup.seconds)}, repository ${fmtBytes(churnDays[day - 1]?.mailvaultBytes ?? 0)}`,
        );
    }
    details.churn = churnDays;
    const dayOne = churnDays[0] ?? {};
    const dayLast = churnDays[churnDays.length - 1] ?? {};
    const ratioOf = (key: string): number => (dayLast[key] ?? NaN) / (dayOne[key] ?? NaN);
    const addedRaw = churnDays.reduce((sum, d) => sum + (d.addedBytes ?? 0), 0);
    const S6 = `6. Incremental space (${fmtCount(SMALL)} msgs, ${DAYS} days)`;
    report.add({
      id: 'churn.ratio',
      section: S6,
      label: `repository after ${DAYS} snapshots / after the first`,
      value: ratioOf('mailvaultBytes'),
      unit: 'ratio',
      display: `${ratioOf('mailvaultBytes').toFixed(3)}×`,
      target: '≤ 1.1×',
      met: ratioOf('mailvaultBytes') <= 1.1,
    });
    report.add({
      id: 'churn.newMailShare',
      section: S6,
      label: 'new mail delivered meanwhile / first mailbox',
      value: addedRaw / smallMailbox.crlfBytes,
      unit: 'ratio',
      display: `+${((addedRaw / smallMailbox.crlfBytes) * 100).toFixed(1)} % (floor for any tool keeping every snapshot)`,
      target: '',
    });
    const churnOverhead = ratioOf('mailvaultBytes') - 1 - addedRaw / smallMailbox.crlfBytes;
    report.add({
      id: 'churn.overhead',
      section: S6,
      label: `beyond the new mail (metadata of ${DAYS - 1} more runs)`,
      value: churnOverhead,
      unit: 'ratio',
      display: `≈ ${churnOverhead >= 0 ? '+' : ''}${(churnOverhead * 100).toFixed(1)} % of the first`,
      target: '',
    });
    if (churnRestic)
      report.add({
        id: 'churn.resticRatio',
        section: S6,
        label: 'restic, same ratio (Dovecot Maildir)',
        value: ratioOf('resticBytes'),
        unit: 'ratio',
        display: `${ratioOf('resticBytes').toFixed(3)}×`,
        target: '',
      });
    if (churnBorg)
      report.add({
        id: 'churn.borgRatio',
        section: S6,
        label: 'borg, same ratio (Dovecot Maildir)',
        value: ratioOf('borgBytes'),
        unit: 'ratio',
        display: `${ratioOf('borgBytes').toFixed(3)}×`,
        target: '',
      });
    const dailyRuns = churnDays.slice(1).map((d) => d.mailvaultSeconds ?? 0);
    report.add({
      id: 'churn.dailySeconds',
      section: S6,
      label: 'daily incremental backup, median wall',
      value: median(dailyRuns),
      unit: 's',
      display: fmtSeconds(median(dailyRuns)),
      target: '',
    });

    // 7. Deduplication: one message in many mailboxes -----------------------------------------
    progress(`dedup: one message delivered to ${COPIES} mailboxes`);
    const copySizes = await deliverToAll(server, dedupUsers);
    const dd = await MailvaultWorkspace.create(server, join(work, 'mailvault-dedup'), dedupUsers, {
      profileDir,
    });
    await dd.run(['backup', dedupUsers[0] ?? 'dd001']);
    const oneCopy = await dd.repositoryBytes();
    await dd.run(['backup']);
    const allCopies = await dd.repositoryBytes();
    const perExtra = COPIES > 1 ? (allCopies - oneCopy) / (COPIES - 1) : 0;
    const messageSize = copySizes[0] ?? 0;
    details.dedup = { copies: COPIES, messageSize, oneCopy, allCopies, perExtra };
    const S7 = `7. Deduplication (${COPIES} mailboxes)`;
    report.add({
      id: 'dedup.perExtraMailbox',
      section: S7,
      label: 'repository growth per extra mailbox',
      value: perExtra,
      unit: 'bytes',
      display: `${fmtBytes(perExtra)} = ${((perExtra / messageSize) * 100).toFixed(1)} % of the ${fmtBytes(messageSize)} message`,
      target: 'stored about once (read: ≤ 5 % of the message per copy)',
      met: perExtra <= 0.05 * messageSize,
    });
    report.add({
      id: 'dedup.totalRatio',
      section: S7,
      label: `repository with ${COPIES} mailboxes / with one`,
      value: allCopies / oneCopy,
      unit: 'ratio',
      display: `${(allCopies / oneCopy).toFixed(2)}× (${fmtBytes(oneCopy)} → ${fmtBytes(allCopies)})`,
      target: '',
    });

    // 8. Memory ------------------------------------------------------------------------------
    const S8 = '8. Memory (first backup, peak RSS)';
    const smallRss = smallFirst?.maxRssKb ?? NaN;
    report.add({
      id: 'memory.small',
      section: S8,
      label: `${fmtCount(SMALL)} messages (${fmtBytes(smallMailbox.crlfBytes)})`,
      value: smallRss,
      unit: 'KiB',
      display: fmtMiB(smallRss),
      target: '',
    });
    report.add({
      id: 'memory.large',
      section: S8,
      label: `${fmtCount(MESSAGES)} messages (${fmtBytes(raw)})`,
      value: first.maxRssKb,
      unit: 'KiB',
      display: `${fmtMiB(first.maxRssKb)} (${(first.maxRssKb / smallRss).toFixed(2)}× for ${(MESSAGES / SMALL).toFixed(0)}× the mail)`,
      target: 'flat (read: ≤ 1.25×)',
      met: first.maxRssKb <= 1.25 * smallRss,
    });

    const growthPerThousand = ((first.maxRssKb - smallRss) / (MESSAGES - SMALL)) * 1000;
    const heapSmall = smallFirst?.memory?.heapUsed ?? NaN;
    const heapLarge = first.memory?.heapUsed ?? NaN;
    report.add({
      id: 'memory.heapUsed',
      section: S8,
      label: 'peak JS heap in use, small → large',
      value: heapLarge,
      unit: 'MiB',
      display: `${heapSmall.toFixed(0)} → ${heapLarge.toFixed(0)} MiB (buffers: ${(smallFirst?.memory?.external ?? NaN).toFixed(0)} → ${(first.memory?.external ?? NaN).toFixed(0)} MiB)`,
      target: '',
    });
    report.add({
      id: 'memory.growthPer1000',
      section: S8,
      label: 'growth per 1,000 more messages',
      value: growthPerThousand,
      unit: 'KiB',
      display: `${(growthPerThousand / 1024).toFixed(1)} MiB`,
      target: '≈ 0 (streaming)',
    });

    // 5. Baselines ----------------------------------------------------------------------------
    const S5 = '5. Baselines (same run, same mail)';
    const base = (
      id: string,
      label: string,
      value: number,
      unit: string,
      display: string,
      target = '',
    ): void => report.add({ id, section: S5, label, value, unit, display, target });
    base(
      'baseline.fetchCeiling',
      'raw UID FETCH 1:* BODY.PEEK[] to /dev/null',
      rate(MESSAGES, fetchCeiling.seconds),
      'msg/s',
      `${fmtRate(rate(MESSAGES, fetchCeiling.seconds), 'msg/s')} (${fmtSeconds(fetchCeiling.seconds)}, ${fmtRate(mb(fetchCeiling.bytes) / fetchCeiling.seconds, 'MB/s')})`,
      '≈5,600 msg/s',
    );
    base(
      'baseline.mbsyncPull',
      'mbsync pull to Maildir, first run',
      mbsyncRate,
      'msg/s',
      `${fmtRate(mbsyncRate, 'msg/s')} (${describeRun(mbsyncPull)})`,
      '≈1,500 msg/s',
    );
    base(
      'baseline.mbsyncPullNoChange',
      'mbsync pull, no-change run',
      mbsyncPull2.seconds,
      's',
      fmtSeconds(mbsyncPull2.seconds),
      '≈0.16 s',
    );
    base(
      'baseline.multiappend',
      'raw MULTIAPPEND (100/command, LITERAL+)',
      appendRate,
      'msg/s',
      `${fmtRate(appendRate, 'msg/s')} (${fmtSeconds(appendCeiling.seconds)})`,
      '≈2,300 msg/s',
    );
    base(
      'baseline.mbsyncPush',
      'mbsync push of the Maildir',
      pushRate,
      'msg/s',
      `${fmtRate(pushRate, 'msg/s')} (${describeRun(mbsyncPush)})`,
      '≈1,400 msg/s',
    );
    base(
      'baseline.restic.first',
      'restic backup, first run',
      restic1.seconds,
      's',
      describeRun(restic1),
    );
    base(
      'baseline.restic.nochange',
      'restic backup, no-change run',
      restic2.seconds,
      's',
      fmtSeconds(restic2.seconds),
      '≈1.3 s',
    );
    base(
      'baseline.restic.ratio',
      'restic repository / raw bytes',
      resticBytes / raw,
      'ratio',
      `${(resticBytes / raw).toFixed(3)}× (${fmtBytes(resticBytes)})`,
      '≈0.79×',
    );
    base(
      'baseline.borg.first',
      'borg create (zstd), first run',
      borg1.seconds,
      's',
      describeRun(borg1),
    );
    base(
      'baseline.borg.nochange',
      'borg create, no-change run',
      borg2.seconds,
      's',
      fmtSeconds(borg2.seconds),
      '≈1.3 s',
    );
    base(
      'baseline.borg.ratio',
      'borg repository / raw bytes',
      borgBytes / raw,
      'ratio',
      `${(borgBytes / raw).toFixed(3)}× (${fmtBytes(borgBytes)})`,
      '≈0.65×',
    );

    details.runs = {
      mailvault: { first, second, restore, smallFirst },
      mbsync: { pull: mbsyncPull, pullNoChange: mbsyncPull2, push: mbsyncPush },
      restic: { first: restic1, second: restic2, bytes: resticBytes },
      borg: { first: borg1, second: borg2, bytes: borgBytes },
      ceilings: { fetch: fetchCeiling, multiappend: appendCeiling },
    };

    // Profiles -----------------------------------------------------------------------------
    const profiles: Record<string, unknown> = {};
    let profileText = '';
    if (profileDir) {
      for (const name of ['backup-first', 'backup-nochange', 'restore']) {
        const summary = await summarizeProfile(join(profileDir, `${name}.cpuprofile`));
        profiles[name] = summary;
        profileText += `\n${formatProfile(`CPU profile of mailvault ${name}`, summary)}\n`;
      }
    }

    const totalSeconds = (performance.now() - t0) / 1000;
    const loadAfter = loadavg();
    const results = {
      generated: new Date().toISOString(),
      benchSeconds: totalSeconds,
      settings: { MESSAGES, SMALL, DAYS, COPIES, SEED, PROFILE },
      machine: { cpus: cpus().length, loadBefore, loadAfter },
      versions: await toolVersions(),
      figures: report.sorted(),
      details,
      profiles,
    };
    // Stdout and stderr of the tools are long and not figures: keep them out of the JSON.
    const json = JSON.stringify(
      results,
      (key, value: unknown) => (key === 'stdout' || key === 'stderr' ? undefined : value),
      2,
    );
    await writeFile(join(outDir, 'results.json'), `${json}\n`);

    const met = report.figures.filter((f) => f.status === 'met').length;
    const notMet = report.figures.filter((f) => f.status === 'not met').length;
    console.log(
      `mailvault benchmark — ${fmtCount(MESSAGES)} messages / ${fmtBytes(raw)} in ${folders.length} folders, ` +
        `Dovecot on loopback, ${new Date().toISOString().slice(0, 10)}; ${cpus().length} CPUs, ` +
        `load average ${loadBefore[0]?.toFixed(1)} at the start, ${loadAfter[0]?.toFixed(1)} at the end\n`,
    );
    console.log(report.table());
    console.log(
      `\n${met} targets met, ${notMet} not met. Whole benchmark: ${fmtSeconds(totalSeconds)}. ` +
        `JSON: ${join('bench', 'out', 'results.json')}`,
    );
    if (profileText) console.log(profileText);
    progress('done');
  } finally {
    progress('cleaning up');
    await server.stop();
    await removeTempDir(work);
    await cleanupTimeDir();
  }
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

await main();
