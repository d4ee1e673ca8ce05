// 4. Restore into an empty account, interleaved with what it is compared with: in each round,
// a raw MULTIAPPEND into a fresh account (append1, append2, ...), mbsync pushing its Maildir
// into a fresh account (push1, push2, ...) and mailvault restoring the backed-up account after
// all of its mail was deleted (messages expunged, folders deleted). The order rotates from one
// round to the next, so no tool always runs first or after the same one.
import { link, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { checkSameMail, emptyAccount, mailboxStatus, totals } from '../accounts.js';
import { rawMultiAppend, type Throughput } from '../ceilings.js';
import {
  cpuSeconds,
  describeRun,
  fmtSpread,
  median,
  progress,
  rate,
  rotate,
  settle,
  spread,
  type Bench,
} from '../common.js';
import type { WrittenMailbox } from '../maildir.js';
import type { MailvaultRun, MailvaultWorkspace } from '../mailvault.js';
import type { Timed } from '../proc.js';
import { fmtCount, fmtMiB, fmtRate, fmtSeconds } from '../report.js';
import type { Mbsync } from '../tools.js';
import type { MainMailbox } from './data.js';

export interface RestoreRuns {
  restores: MailvaultRun[];
  multiAppends: Throughput[];
  pushes: Timed[];
  /** The order of each round. */
  order: string[][];
}

/**
 * The raw MULTIAPPEND reads the generated message files; deleting the account's mail before a
 * restore unlinks them, so it reads hard links of them made beforehand instead.
 */
async function linkedCopy(mailbox: WrittenMailbox, dir: string): Promise<WrittenMailbox> {
  await mkdir(dir, { recursive: true });
  const messages = await Promise.all(
    mailbox.messages.map(async (message, i) => {
      const file = join(dir, String(i));
      await link(message.file, file);
      return { ...message, file };
    }),
  );
  return { ...mailbox, messages };
}

export async function measureRestores(
  bench: Bench,
  main: MainMailbox,
  mv: MailvaultWorkspace,
  mbsyncs: Mbsync[],
): Promise<RestoreRuns> {
  const { server, work } = bench;
  const { MESSAGES, SAMPLES } = bench.settings;
  const source = await linkedCopy(main.mailbox, join(work, 'append-source'));
  const result: RestoreRuns = { restores: [], multiAppends: [], pushes: [], order: [] };
  for (let i = 0; i < SAMPLES; i++) {
    const n = i + 1;
    const round = `${n}/${SAMPLES}`;
    const steps: Array<[string, () => Promise<void>]> = [
      [
        'raw MULTIAPPEND',
        async (): Promise<void> => {
          await settle();
          progress(`raw MULTIAPPEND into the empty account append${n} (ceiling, ${round})`);
          const ceiling = await rawMultiAppend(server, `append${n}`, source);
          await checkSameMail(server, `append${n}`, main.original, 'the raw MULTIAPPEND');
          result.multiAppends.push(ceiling);
          progress(`  ${fmtRate(rate(MESSAGES, ceiling.seconds), 'msg/s')}`);
        },
      ],
      [
        'mbsync push',
        async (): Promise<void> => {
          const mbsync = mbsyncs[i];
          if (!mbsync) throw new Error(`no Maildir for push ${n}`);
          await settle();
          progress(`mbsync push of the Maildir into the empty account push${n} (${round})`);
          const push = await mbsync.push();
          const pushed = totals(await mailboxStatus(server, `push${n}`));
          if (pushed.messages !== MESSAGES)
            throw new Error(`mbsync pushed ${pushed.messages} messages`);
          result.pushes.push(push);
          progress(`  ${describeRun(push)}`);
        },
      ],
      [
        'mailvault restore',
        async (): Promise<void> => {
          progress(`deleting all of bench's mail, then mailvault restore (${round})`);
          await emptyAccount(server, 'bench');
          await settle();
          const restore = await mv.run(
            ['restore', 'account', 'bench'],
            i === 0 ? 'restore' : undefined,
          );
          const restored =
            (restore.json.totals as { restored?: number } | undefined)?.restored ?? 0;
          await checkSameMail(server, 'bench', main.original, 'the mailvault restore');
          result.restores.push(restore);
          progress(`  ${describeRun(restore)}; ${fmtCount(restored)} messages`);
        },
      ],
    ];
    const ordered = rotate(steps, i);
    result.order.push(ordered.map(([name]) => name));
    for (const [, step] of ordered) await step();
  }
  return result;
}

export function reportRestore(bench: Bench, main: MainMailbox, runs: RestoreRuns): void {
  const { report, details } = bench;
  const { MESSAGES } = bench.settings;
  const msgs = (run: { seconds: number }): number => rate(MESSAGES, run.seconds);
  const restores = spread(runs.restores.map(msgs));
  const appends = spread(runs.multiAppends.map(msgs));
  const pushes = spread(runs.pushes.map(msgs));
  const runOnly = spread(
    runs.restores.map((run) => rate(MESSAGES, Number(run.json.seconds ?? NaN))),
  );
  const vsAppend = restores.median / appends.median;
  const vsPush = restores.median / pushes.median;
  const roundRatios = runs.restores.map((run, i) => {
    const append = runs.multiAppends[i];
    return append ? append.seconds / run.seconds : NaN;
  });
  const msgPerSec = (n: number): string => fmtRate(n, 'msg/s');
  const mbPerMsg = main.raw / 1e6 / MESSAGES;
  details.restore = {
    mailvaultMsgPerSec: restores,
    mailvaultRunMsgPerSec: runOnly,
    multiAppendMsgPerSec: appends,
    mbsyncPushMsgPerSec: pushes,
    vsMultiAppendRatioOfMedians: vsAppend,
    vsMbsyncPushRatioOfMedians: vsPush,
    roundRatiosVsMultiAppend: roundRatios,
    order: runs.order,
  };
  const S4 = '4. Restore into an empty account';
  report.add({
    id: 'restore.msgPerSec',
    section: S4,
    label: 'messages/s vs mbsync push',
    value: restores.median,
    unit: 'msg/s',
    display: fmtSpread(restores, msgPerSec),
    target: `≥ mbsync push: ${fmtSpread(pushes, msgPerSec)} here (≈1,400)`,
    met: vsPush >= 1,
    samples: restores,
  });
  report.add({
    id: 'restore.vsMultiappend',
    section: S4,
    label: 'share of raw MULTIAPPEND (ratio of medians)',
    value: vsAppend,
    unit: 'ratio',
    display: `${vsAppend.toFixed(2)}× of ${fmtSpread(appends, msgPerSec)}; rounds: ${roundRatios.map((r) => r.toFixed(2)).join(', ')}`,
    target: '≥ 0.8× (raw ≈2,300 msg/s)',
    met: vsAppend >= 0.8,
  });
  report.add({
    id: 'restore.MBps',
    section: S4,
    label: 'MB/s (median)',
    value: restores.median * mbPerMsg,
    unit: 'MB/s',
    display: fmtRate(restores.median * mbPerMsg, 'MB/s'),
    target: `raw ${fmtRate(appends.median * mbPerMsg, 'MB/s')}`,
  });
  report.add({
    id: 'restore.runMsgPerSec',
    section: S4,
    label: 'messages/s (restore only, from --json)',
    value: runOnly.median,
    unit: 'msg/s',
    display: fmtSpread(runOnly, msgPerSec),
    target: '',
    samples: runOnly,
  });
  const cpu = spread(runs.restores.map(cpuSeconds));
  report.add({
    id: 'restore.cpuSeconds',
    section: S4,
    label: 'CPU time (user + system)',
    value: cpu.median,
    unit: 's',
    display: fmtSeconds(cpu.median),
    target: `mbsync push ${fmtSeconds(median(runs.pushes.map(cpuSeconds)))}`,
    samples: cpu,
  });
  const rss = spread(runs.restores.map((run) => run.maxRssKb));
  report.add({
    id: 'restore.peakRssKb',
    section: S4,
    label: 'peak RSS',
    value: rss.median,
    unit: 'KiB',
    display: fmtSpread(rss, fmtMiB),
    target: '',
    samples: rss,
  });
}
