// 1. Data: the main mailbox written straight into Dovecot's Maildir, checked against what the
// server serves, then read once so that nobody's timed run pays Dovecot's first look at it.
import { mailboxStatus, totals, type FolderStatus } from '../accounts.js';
import { rawFetch } from '../ceilings.js';
import { progress, settle, type Bench } from '../common.js';
import { planMailbox } from '../mailgen.js';
import { writeMailbox, type WrittenMailbox } from '../maildir.js';
import { fmtBytes, fmtCount, fmtSeconds } from '../report.js';

export interface MainMailbox {
  mailbox: WrittenMailbox;
  folders: string[];
  /** What Dovecot holds per folder, to check restores against. */
  original: Map<string, FolderStatus>;
  /** IMAP (CRLF) bytes: the benchmark's "raw bytes". */
  raw: number;
}

export async function generateMainMailbox(bench: Bench): Promise<MainMailbox> {
  const { server, report, details } = bench;
  const { MESSAGES, SEED } = bench.settings;
  const started = performance.now();
  const mailbox = await writeMailbox(
    server,
    planMailbox('bench', MESSAGES, SEED),
    (done, total) => {
      if (done % 5000 === 0) progress(`  written ${fmtCount(done)}/${fmtCount(total)} messages`);
    },
  );
  const seconds = (performance.now() - started) / 1000;
  const folders = mailbox.folders;
  const original = await mailboxStatus(server, 'bench');
  const served = totals(original);
  if (served.messages !== MESSAGES || served.vsize !== mailbox.crlfBytes)
    throw new Error(
      `Dovecot sees ${served.messages} messages / ${served.vsize} bytes, wrote ${MESSAGES} / ${mailbox.crlfBytes}`,
    );
  progress(
    `data: ${fmtCount(MESSAGES)} messages in ${folders.length} folders, ${fmtBytes(mailbox.crlfBytes)} ` +
      `(IMAP), in ${fmtSeconds(seconds)}`,
  );
  const raw = mailbox.crlfBytes;
  const sizes = mailbox.messages.map((m) => m.crlfSize).sort((a, b) => a - b);
  const share = (lo: number, hi: number): number =>
    sizes.filter((s) => s >= lo && s < hi).length / sizes.length;
  const over1MB = sizes.filter((s) => s >= 1024 * 1024).length;
  details.dataset = {
    seed: SEED,
    messages: MESSAGES,
    folders: folders.length,
    imapBytes: raw,
    maildirBytes: mailbox.lfBytes,
    medianMessageBytes: sizes[Math.floor(sizes.length / 2)],
    share2to50kB: share(2048, 50 * 1024),
    largest: sizes[sizes.length - 1],
    over1MB,
    generateSeconds: seconds,
  };
  const S1 = '1. Data';
  report.add({
    id: 'data.messages',
    section: S1,
    label: 'main mailbox (user bench)',
    value: MESSAGES,
    unit: 'messages',
    display: `${fmtCount(MESSAGES)} msgs, ${folders.length} folders, ${fmtBytes(raw)}`,
    target: '20,000 msgs / 1.2 GB',
  });
  report.add({
    id: 'data.shape',
    section: S1,
    label: 'message sizes',
    value: share(2048, 50 * 1024),
    unit: 'share',
    display: `${(share(2048, 50 * 1024) * 100).toFixed(0)} % in 2–50 KB, ${over1MB} over 1 MB`,
    target: 'mostly 2–50 KB',
  });

  // Dovecot's first look at every message (cache, page cache) is nobody's cost: warm up.
  await settle();
  progress('warm-up read of the whole mailbox');
  await rawFetch(server, 'bench', folders, 'FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[]');
  return { mailbox, folders, original, raw };
}
