// 6. Incremental space: BENCH_DAYS daily snapshots of the smaller mailbox under two kinds of
// churn, each in its own account, repository and catalog:
//   A. without new mail: each day 1 % deleted, 1 % moved to another folder, 1 % re-flagged.
//      Nothing new to store: what the repository grows by is the cost of keeping snapshots.
//      The PRODUCT.md target (≤ 1.1× the first) is judged on this one.
//   B. with new mail: each day 1 % deleted, 1 % new mail delivered, 1 % re-flagged. Every tool
//      that keeps every snapshot must store the new mail: the floor is (first + new)/first.
// restic and borg back up the account's Dovecot Maildir after each day, side by side.
import { join } from 'node:path';
import { CHURN_WITHOUT_NEW_MAIL, CHURN_WITH_NEW_MAIL, churnDay, type ChurnMix } from '../churn.js';
import { median, progress, type Bench } from '../common.js';
import { planMailbox } from '../mailgen.js';
import { maildirRoot, writeMailbox } from '../maildir.js';
import { MailvaultWorkspace, backupFigures, type MailvaultRun } from '../mailvault.js';
import { fmtBytes, fmtCount, fmtSeconds } from '../report.js';
import { Borg, Restic } from '../tools.js';

export interface ChurnVariant {
  name: string;
  user: string;
  mix: ChurnMix;
  /** IMAP bytes of the mailbox before the first snapshot. */
  firstBytes: number;
  /** IMAP bytes of the new mail delivered over all days. */
  addedBytes: number;
  days: Array<Record<string, number>>;
  /** mailvault's first backup of the account (sampled for memory). */
  firstRun: MailvaultRun;
}

export const CHURN_VARIANTS = [
  { key: 'A', name: 'without new mail', user: 'churna', mix: CHURN_WITHOUT_NEW_MAIL },
  { key: 'B', name: 'with new mail', user: 'churnb', mix: CHURN_WITH_NEW_MAIL },
] as const;

async function runVariant(
  bench: Bench,
  variant: (typeof CHURN_VARIANTS)[number],
): Promise<ChurnVariant> {
  const { server, work, profileDir } = bench;
  const { SMALL, DAYS, SEED, CHURN_BASELINES } = bench.settings;
  const { user, mix } = variant;
  const mailbox = await writeMailbox(server, planMailbox(user, SMALL, SEED + 1));
  progress(
    `churn ${variant.key} (${variant.name}): ${DAYS} daily snapshots of ${fmtCount(SMALL)} messages, ` +
      `${fmtBytes(mailbox.crlfBytes)}`,
  );
  const folders = mailbox.folders;
  const mv = await MailvaultWorkspace.create(
    server,
    join(work, `mailvault-churn-${user}`),
    [user],
    {
      profileDir,
    },
  );
  const restic = CHURN_BASELINES ? new Restic(join(work, `restic-${user}`)) : undefined;
  const borg = CHURN_BASELINES ? new Borg(join(work, `borg-${user}`)) : undefined;
  await restic?.init();
  await borg?.init();
  const maildir = maildirRoot(server, user);
  const days: Array<Record<string, number>> = [];
  let firstRun: MailvaultRun | undefined;
  let addedBytes = 0;
  for (let day = 1; day <= DAYS; day++) {
    let churned = {
      messagesBefore: SMALL,
      deleted: 0,
      moved: 0,
      added: 0,
      reflagged: 0,
      addedBytes: 0,
    };
    if (day > 1) churned = await churnDay(server, user, folders, day, SEED, mix);
    addedBytes += churned.addedBytes;
    const backup = await mv.run(['backup'], undefined, day === 1);
    if (day === 1) firstRun = backup;
    const figures = backupFigures(backup);
    const resticRun = await restic?.backup(maildir);
    const borgRun = await borg?.backup(maildir);
    const record: Record<string, number> = {
      day,
      ...churned,
      mailvaultSeconds: backup.seconds,
      mailvaultImapCommands: figures.imapCommands,
      mailvaultNewItems: figures.newItems,
      mailvaultBytes: await mv.repositoryBytes(),
    };
    if (restic && resticRun) {
      record.resticSeconds = resticRun.seconds;
      record.resticBytes = await restic.size();
    }
    if (borg && borgRun) {
      record.borgSeconds = borgRun.seconds;
      record.borgBytes = await borg.size();
    }
    days.push(record);
    if (day === 1 || day % 5 === 0 || day === DAYS)
      progress(
        `  day ${day}: mailvault ${fmtSeconds(backup.seconds)}, repository ${fmtBytes(record.mailvaultBytes ?? 0)}`,
      );
  }
  if (!firstRun) throw new Error('no churn days');
  return {
    name: variant.name,
    user,
    mix,
    firstBytes: mailbox.crlfBytes,
    addedBytes,
    days,
    firstRun,
  };
}

export async function measureChurn(bench: Bench): Promise<ChurnVariant[]> {
  const results: ChurnVariant[] = [];
  for (const variant of CHURN_VARIANTS) results.push(await runVariant(bench, variant));
  return results;
}

export function reportChurn(bench: Bench, variants: ChurnVariant[]): void {
  const { report, details } = bench;
  const { SMALL, DAYS } = bench.settings;
  const [a, b] = variants;
  if (!a || !b) throw new Error('churn variants missing');
  details.churn = Object.fromEntries(
    variants.map((v) => [
      v.name,
      {
        user: v.user,
        mix: v.mix,
        firstBytes: v.firstBytes,
        addedBytes: v.addedBytes,
        days: v.days,
      },
    ]),
  );
  const S6 =
    `6. Incremental space (${fmtCount(SMALL)} msgs, ${DAYS} daily snapshots; A: 1 % deleted, 1 % moved, ` +
    '1 % re-flagged a day, no new mail; B: 1 % deleted, 1 % new mail, 1 % re-flagged a day)';
  const ratioOf = (v: ChurnVariant, key: string): number =>
    (v.days[v.days.length - 1]?.[key] ?? NaN) / (v.days[0]?.[key] ?? NaN);
  const x = (ratio: number): string => `${ratio.toFixed(3)}×`;
  const pct = (share: number): string =>
    `${share >= 0 ? '+' : ''}${(share * 100).toFixed(1)} % of the first`;
  const tools = ['mailvault', 'restic', 'borg'].filter(
    (tool) => tool === 'mailvault' || a.days[0]?.[`${tool}Bytes`] !== undefined,
  );

  // A: the target.
  const aRatio = ratioOf(a, 'mailvaultBytes');
  report.add({
    id: 'churn.noNewMail.ratio',
    section: S6,
    label: `A (no new mail): repository after ${DAYS} / after the first`,
    value: aRatio,
    unit: 'ratio',
    display: x(aRatio),
    target: '≤ 1.1× (the target is judged on A)',
    met: aRatio <= 1.1,
  });
  for (const tool of tools.filter((t) => t !== 'mailvault')) {
    const ratio = ratioOf(a, `${tool}Bytes`);
    report.add({
      id: `churn.noNewMail.${tool}Ratio`,
      section: S6,
      label: `A: ${tool}, same ratio (Dovecot Maildir)`,
      value: ratio,
      unit: 'ratio',
      display: x(ratio),
      target: '',
    });
  }
  const aDaily = median(a.days.slice(1).map((d) => d.mailvaultSeconds ?? NaN));
  report.add({
    id: 'churn.noNewMail.dailySeconds',
    section: S6,
    label: 'A: daily incremental backup, median wall',
    value: aDaily,
    unit: 's',
    display: fmtSeconds(aDaily),
    target: '',
  });

  // B: against the floor.
  const floor = 1 + b.addedBytes / b.firstBytes;
  report.add({
    id: 'churn.newMail.floor',
    section: S6,
    label: 'B (with new mail): floor = (first + new mail) / first',
    value: floor,
    unit: 'ratio',
    display: `${x(floor)} (${fmtBytes(b.addedBytes)} of new mail)`,
    target: 'not judged (new mail must be stored)',
  });
  const summary: Record<string, number> = { floor, noNewMailRatio: aRatio };
  for (const tool of tools) {
    const ratio = ratioOf(b, `${tool}Bytes`);
    const overhead = ratio - floor;
    summary[`${tool}NoNewMailRatio`] = ratioOf(a, `${tool}Bytes`);
    summary[`${tool}NewMailRatio`] = ratio;
    summary[`${tool}NewMailOverhead`] = overhead;
    report.add({
      id: `churn.newMail.${tool}Ratio`,
      section: S6,
      label: `B: ${tool}, after ${DAYS} / after the first; beyond the floor`,
      value: ratio,
      unit: 'ratio',
      display: `${x(ratio)}; ${pct(overhead)}`,
      target: '',
    });
  }
  (details.churn as Record<string, unknown>).summary = summary;
  const bDaily = median(b.days.slice(1).map((d) => d.mailvaultSeconds ?? NaN));
  report.add({
    id: 'churn.newMail.dailySeconds',
    section: S6,
    label: 'B: daily incremental backup, median wall',
    value: bDaily,
    unit: 's',
    display: fmtSeconds(bDaily),
    target: '',
  });
}
