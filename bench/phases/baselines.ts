// 5. What the server can do (the raw FETCH ceiling; the raw MULTIAPPEND ceiling is measured with
// the restore) and the tools an administrator would use instead: restic and borg backing up the
// Maildir mbsync pulled. All of it reported in one section, next to the PRODUCT.md figures.
import { join } from 'node:path';
import { rawFetch, type Throughput } from '../ceilings.js';
import {
  describeRun,
  fmtSpread,
  mb,
  progress,
  rate,
  settle,
  spread,
  type Bench,
  type Spread,
} from '../common.js';
import type { Timed } from '../proc.js';
import { fmtBytes, fmtRate, fmtSeconds } from '../report.js';
import { Borg, Restic } from '../tools.js';
import type { MainMailbox } from './data.js';

export async function measureFetchCeiling(bench: Bench, main: MainMailbox): Promise<Throughput> {
  const { MESSAGES } = bench.settings;
  await settle();
  progress('raw UID FETCH 1:* BODY.PEEK[] (ceiling)');
  const ceiling = await rawFetch(bench.server, 'bench', main.folders);
  if (ceiling.messages !== MESSAGES) throw new Error(`raw FETCH saw ${ceiling.messages} messages`);
  progress(`  ${fmtRate(rate(MESSAGES, ceiling.seconds), 'msg/s')}`);
  return ceiling;
}

export interface FileBackups {
  first: Timed;
  noChange: Timed;
  bytes: number;
}

/** restic, then borg, backing up `maildir` twice: the first run, then a run with no change. */
export async function measureFileBackups(
  bench: Bench,
  maildir: string,
): Promise<{ restic: FileBackups; borg: FileBackups }> {
  const restic = new Restic(join(bench.work, 'restic'));
  await restic.init();
  await settle();
  progress('restic backup of the Maildir, first run');
  const restic1 = await restic.backup(maildir);
  progress(`  ${describeRun(restic1)}`);
  const restic2 = await restic.backup(maildir);
  const resticBytes = await restic.size();
  progress(`  no-change ${describeRun(restic2)}; repository ${fmtBytes(resticBytes)}`);

  const borg = new Borg(join(bench.work, 'borg'));
  await borg.init();
  await settle();
  progress('borg create --compression zstd of the Maildir, first run');
  const borg1 = await borg.backup(maildir);
  progress(`  ${describeRun(borg1)}`);
  const borg2 = await borg.backup(maildir);
  const borgBytes = await borg.size();
  progress(`  no-change ${describeRun(borg2)}; repository ${fmtBytes(borgBytes)}`);
  return {
    restic: { first: restic1, noChange: restic2, bytes: resticBytes },
    borg: { first: borg1, noChange: borg2, bytes: borgBytes },
  };
}

export interface BaselineRuns {
  fetchCeiling: Throughput;
  mbsyncPulls: Timed[];
  mbsyncNoChange: Timed[];
  multiAppends: Throughput[];
  mbsyncPushes: Timed[];
  restic: FileBackups;
  borg: FileBackups;
}

export function reportBaselines(bench: Bench, main: MainMailbox, runs: BaselineRuns): void {
  const { MESSAGES } = bench.settings;
  const { raw } = main;
  const S5 = '5. Baselines (same run, same mail)';
  const base = (
    id: string,
    label: string,
    value: number,
    unit: string,
    display: string,
    target = '',
    samples?: Spread,
  ): void =>
    bench.report.add({
      id,
      section: S5,
      label,
      value,
      unit,
      display,
      target,
      ...(samples ? { samples } : {}),
    });
  const msgPerSec = (n: number): string => fmtRate(n, 'msg/s');
  const ceiling = runs.fetchCeiling;
  base(
    'baseline.fetchCeiling',
    'raw UID FETCH 1:* BODY.PEEK[] to /dev/null',
    rate(MESSAGES, ceiling.seconds),
    'msg/s',
    `${msgPerSec(rate(MESSAGES, ceiling.seconds))} (${fmtSeconds(ceiling.seconds)}, ${fmtRate(mb(ceiling.bytes) / ceiling.seconds, 'MB/s')})`,
    '≈5,600 msg/s',
  );
  const pulls = spread(runs.mbsyncPulls.map((run) => rate(MESSAGES, run.seconds)));
  base(
    'baseline.mbsyncPull',
    'mbsync pull to Maildir, first run',
    pulls.median,
    'msg/s',
    fmtSpread(pulls, msgPerSec),
    '≈1,500 msg/s',
    pulls,
  );
  const noChange = spread(runs.mbsyncNoChange.map((run) => run.seconds));
  base(
    'baseline.mbsyncPullNoChange',
    'mbsync pull, no-change run',
    noChange.median,
    's',
    fmtSpread(noChange, fmtSeconds),
    '≈0.16 s',
    noChange,
  );
  const appends = spread(runs.multiAppends.map((run) => rate(MESSAGES, run.seconds)));
  base(
    'baseline.multiappend',
    'raw MULTIAPPEND (100/command, LITERAL+)',
    appends.median,
    'msg/s',
    fmtSpread(appends, msgPerSec),
    '≈2,300 msg/s',
    appends,
  );
  const pushes = spread(runs.mbsyncPushes.map((run) => rate(MESSAGES, run.seconds)));
  base(
    'baseline.mbsyncPush',
    'mbsync push of the Maildir',
    pushes.median,
    'msg/s',
    fmtSpread(pushes, msgPerSec),
    '≈1,400 msg/s',
    pushes,
  );
  const { restic, borg } = runs;
  base(
    'baseline.restic.first',
    'restic backup, first run',
    restic.first.seconds,
    's',
    describeRun(restic.first),
  );
  base(
    'baseline.restic.nochange',
    'restic backup, no-change run',
    restic.noChange.seconds,
    's',
    fmtSeconds(restic.noChange.seconds),
    '≈1.3 s',
  );
  base(
    'baseline.restic.ratio',
    'restic repository / raw bytes',
    restic.bytes / raw,
    'ratio',
    `${(restic.bytes / raw).toFixed(3)}× (${fmtBytes(restic.bytes)})`,
    '≈0.79×',
  );
  base(
    'baseline.borg.first',
    'borg create (zstd), first run',
    borg.first.seconds,
    's',
    describeRun(borg.first),
  );
  base(
    'baseline.borg.nochange',
    'borg create, no-change run',
    borg.noChange.seconds,
    's',
    fmtSeconds(borg.noChange.seconds),
    '≈1.3 s',
  );
  base(
    'baseline.borg.ratio',
    'borg repository / raw bytes',
    borg.bytes / raw,
    'ratio',
    `${(borg.bytes / raw).toFixed(3)}× (${fmtBytes(borg.bytes)})`,
    '≈0.65×',
  );
  bench.details.baselines = {
    mbsyncPullMsgPerSec: pulls,
    mbsyncPullNoChangeSeconds: noChange,
    multiAppendMsgPerSec: appends,
    mbsyncPushMsgPerSec: pushes,
  };
}
