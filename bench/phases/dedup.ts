// 7. Deduplication: one message (with a 500 KB attachment) delivered to BENCH_COPIES mailboxes,
// identical but for the header lines each delivery adds; backed up once for one mailbox, then
// for all of them: what each further mailbox adds to the repository.
import { join } from 'node:path';
import { progress, type Bench } from '../common.js';
import { deliverToAll } from '../dedup.js';
import { MailvaultWorkspace } from '../mailvault.js';
import { fmtBytes } from '../report.js';

export function dedupUsers(copies: number): string[] {
  return Array.from({ length: copies }, (_, i) => `dd${String(i + 1).padStart(3, '0')}`);
}

export async function measureDedup(bench: Bench): Promise<void> {
  const { server, work, report, details, profileDir } = bench;
  const { COPIES } = bench.settings;
  const users = dedupUsers(COPIES);
  progress(`dedup: one message delivered to ${COPIES} mailboxes`);
  const copySizes = await deliverToAll(server, users);
  const dd = await MailvaultWorkspace.create(server, join(work, 'mailvault-dedup'), users, {
    profileDir,
  });
  await dd.run(['backup', users[0] ?? 'dd001']);
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
}
