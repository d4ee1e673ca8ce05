// 16. Large messages: peak memory of a backup, a restore into an empty account and `show --raw`
// of an account holding one message of BENCH_LARGE_MB (a text part and a base64 attachment), and
// of one twice that size, against the same for a message of 1 MB, with mbsync pulling and pushing
// the same accounts side by side. Streamed, a message twice as large takes no more memory; held
// whole, a few times the difference.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fillMailbox } from '../../test/support/imap-fixture.js';
import { MAILVAULT_BIN } from '../../test/support/workspace.js';
import { checkSameMail, mailboxStatus } from '../accounts.js';
import { fmtSpread, progress, spread, type Bench, type Spread } from '../common.js';
import { MailvaultWorkspace } from '../mailvault.js';
import { timed, type Timed } from '../proc.js';
import { fmtMiB } from '../report.js';
import { Mbsync } from '../tools.js';

/** The accounts: one message each, of 1 MB, the large size and twice that; their restore targets. */
export function largeUsers(): string[] {
  return ['large1', 'large1copy', 'largebig', 'largebigcopy', 'largehuge', 'largehugecopy'];
}

export interface LargeRuns {
  megabytes: number;
  /** Peak RSS (KiB) of each command, for the 1 MB message, the large one and one twice as large. */
  small: Record<Command, Spread>;
  large: Record<Command, Spread>;
  double: Record<Command, Spread>;
}

type Command = 'backup' | 'restore' | 'show' | 'mbsyncPull' | 'mbsyncPush';

/** A message of about `bytes`: a short text part and one base64 attachment of random bytes. */
function largeMessage(bytes: number, tag: string): Buffer {
  const attachment = randomBytes(Math.floor((bytes * 3) / 4))
    .toString('base64')
    .replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    [
      'From: Archive <archive@example.com>',
      'To: large@example.com',
      `Subject: the ${tag} scans`,
      `Message-ID: <${tag}@bench.example.com>`,
      'Date: Mon, 3 Mar 2025 10:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      `The ${tag} scans are attached.`,
      '--b1',
      `Content-Type: application/octet-stream; name="${tag}.bin"`,
      'Content-Transfer-Encoding: base64',
      '',
      attachment,
      '--b1--',
      '',
    ].join('\r\n'),
  );
}

async function showRaw(mv: MailvaultWorkspace, user: string): Promise<Timed> {
  const found = await mv.run(['search', '--account', user, '--limit', '1']);
  const key = (found.json as unknown as Array<{ key: string }>)[0]?.key;
  if (!key) throw new Error(`search --account ${user} found nothing`);
  const env = { ...process.env };
  delete env.MAILVAULT_PASSWORD;
  delete env.MAILVAULT_CONFIG;
  // The bytes go to a pipe this process reads and drops, as `show --raw | …` would.
  return timed(
    process.execPath,
    [MAILVAULT_BIN, '--config', mv.config, '--no-progress', 'show', key, '--raw'],
    { env },
  );
}

async function measureOne(
  bench: Bench,
  megabytes: number,
  user: string,
): Promise<Record<Command, Spread>> {
  const { server, work } = bench;
  await fillMailbox(server, user, {
    INBOX: [{ raw: largeMessage(megabytes * 1_000_000, `${user}-${megabytes}mb`) }],
  });
  const copy = `${user}copy`;
  const runs: Record<Command, number[]> = {
    backup: [],
    restore: [],
    show: [],
    mbsyncPull: [],
    mbsyncPush: [],
  };
  for (let sample = 0; sample < bench.settings.SAMPLES; sample++) {
    const mv = await MailvaultWorkspace.create(server, join(work, `${user}-mv-${sample}`), [
      user,
      copy,
    ]);
    runs.backup.push((await mv.run(['backup', user])).maxRssKb);
    await server.doveadm('expunge', '-u', copy, 'mailbox', '*', 'all');
    runs.restore.push((await mv.run(['restore', 'account', user, '--to-account', copy])).maxRssKb);
    const inbox = (await mailboxStatus(server, user)).get('INBOX');
    if (!inbox) throw new Error(`${user} has no INBOX`);
    await checkSameMail(server, copy, new Map([['INBOX', inbox]]), `the restore of ${user}`);
    runs.show.push((await showRaw(mv, user)).maxRssKb);
    await server.doveadm('expunge', '-u', copy, 'mailbox', '*', 'all');
    const mbsync = await Mbsync.create(server, join(work, `${user}-mbsync-${sample}`), user, copy);
    runs.mbsyncPull.push((await mbsync.pull()).maxRssKb);
    runs.mbsyncPush.push((await mbsync.push()).maxRssKb);
  }
  return {
    backup: spread(runs.backup),
    restore: spread(runs.restore),
    show: spread(runs.show),
    mbsyncPull: spread(runs.mbsyncPull),
    mbsyncPush: spread(runs.mbsyncPush),
  };
}

export async function measureLarge(bench: Bench): Promise<LargeRuns> {
  const megabytes = bench.settings.LARGE_MB;
  progress(`large messages: one of 1 MB, one of ${megabytes} MB and one of ${2 * megabytes} MB`);
  const small = await measureOne(bench, 1, 'large1');
  const large = await measureOne(bench, megabytes, 'largebig');
  const double = await measureOne(bench, 2 * megabytes, 'largehuge');
  return { megabytes, small, large, double };
}

const LABELS: Record<Command, string> = {
  backup: 'mailvault backup',
  restore: 'mailvault restore into an empty account',
  show: 'mailvault show --raw',
  mbsyncPull: 'mbsync pull (baseline)',
  mbsyncPush: 'mbsync push (baseline)',
};

export function reportLarge(bench: Bench, runs: LargeRuns): void {
  const M = runs.megabytes;
  const S16 = `16. Large messages (peak RSS with a message of 1 MB → ${M} MB → ${2 * M} MB)`;
  for (const command of Object.keys(LABELS) as Command[]) {
    const [small, large, double] = [runs.small, runs.large, runs.double].map((r) => r[command]);
    if (!small || !large || !double) continue;
    // Streaming: a message twice as large adds nothing but noise to the peak.
    const doubling = (double.median - large.median) / 1024;
    const mailvault = !command.startsWith('mbsync');
    bench.report.add({
      id: `large.${command}`,
      section: S16,
      label: LABELS[command],
      value: double.median,
      unit: 'KiB',
      display: `${[small, large, double].map((s) => fmtSpread(s, fmtMiB)).join(' → ')} (${M} → ${2 * M} MB: ${doubling >= 0 ? '+' : ''}${doubling.toFixed(0)} MiB)`,
      target: mailvault ? `${M} → ${2 * M} MB: + < ${FLAT_MIB} MiB` : '',
      met: mailvault ? doubling < FLAT_MIB : undefined,
      samples: double,
    });
  }
}

/** What twice the message may add to the peak when it streams: measurement noise, no more. */
const FLAT_MIB = 24;
