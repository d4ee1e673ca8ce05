// 8. Memory: peak RSS (GNU time) and the peaks of the JS heap and of buffers (sampled inside the
// CLI) of mailvault's first backups: of the smaller mailbox (the churn accounts' day 1) and of the
// main one (every sample of section 2). Flat means: four times the mail, about the same peak.
import { fmtSpread, median, spread, type Bench } from '../common.js';
import type { MailvaultRun } from '../mailvault.js';
import { fmtBytes, fmtCount, fmtMiB } from '../report.js';

export function reportMemory(
  bench: Bench,
  small: { runs: MailvaultRun[]; bytes: number },
  large: { runs: MailvaultRun[]; bytes: number },
): void {
  const { report, details } = bench;
  const { MESSAGES, SMALL } = bench.settings;
  const S8 = '8. Memory (first backup, peak RSS)';
  const smallRss = spread(small.runs.map((run) => run.maxRssKb));
  const largeRss = spread(large.runs.map((run) => run.maxRssKb));
  const growth = largeRss.median / smallRss.median;
  report.add({
    id: 'memory.small',
    section: S8,
    label: `${fmtCount(SMALL)} messages (${fmtBytes(small.bytes)})`,
    value: smallRss.median,
    unit: 'KiB',
    display: fmtSpread(smallRss, fmtMiB),
    target: '',
    samples: smallRss,
  });
  report.add({
    id: 'memory.large',
    section: S8,
    label: `${fmtCount(MESSAGES)} messages (${fmtBytes(large.bytes)})`,
    value: largeRss.median,
    unit: 'KiB',
    display: `${fmtSpread(largeRss, fmtMiB)}: ${growth.toFixed(2)}× for ${(MESSAGES / SMALL).toFixed(0)}× the mail`,
    target: 'flat (read: ≤ 1.25×)',
    met: growth <= 1.25,
    samples: largeRss,
  });
  const peak = (runs: MailvaultRun[], key: 'heapUsed' | 'external'): number =>
    median(runs.map((run) => run.memory?.[key] ?? NaN));
  const heapSmall = peak(small.runs, 'heapUsed');
  const heapLarge = peak(large.runs, 'heapUsed');
  const extSmall = peak(small.runs, 'external');
  const extLarge = peak(large.runs, 'external');
  report.add({
    id: 'memory.heapUsed',
    section: S8,
    label: 'peak JS heap in use, small → large (medians)',
    value: heapLarge,
    unit: 'MiB',
    display: `${heapSmall.toFixed(0)} → ${heapLarge.toFixed(0)} MiB (buffers: ${extSmall.toFixed(0)} → ${extLarge.toFixed(0)} MiB)`,
    target: '',
  });
  const growthPerThousand = ((largeRss.median - smallRss.median) / (MESSAGES - SMALL)) * 1000;
  report.add({
    id: 'memory.growthPer1000',
    section: S8,
    label: 'growth per 1,000 more messages',
    value: growthPerThousand,
    unit: 'KiB',
    display: `${(growthPerThousand / 1024).toFixed(1)} MiB`,
    target: '≈ 0 (streaming)',
  });
  details.memory = {
    smallPeakRssKb: smallRss,
    largePeakRssKb: largeRss,
    smallPeaksMiB: small.runs.map((run) => run.memory),
    largePeaksMiB: large.runs.map((run) => run.memory),
  };
}
