// 2. mailvault's first backup, paired with mbsync pulling the same account into a Maildir, run
// back to back (each pair in a fresh repository and catalog, a fresh Maildir and mbsync state;
// the order within a pair alternates). 3. The no-change run, next to mbsync's, with what every
// CLI run pays before it starts.
import { scrypt } from 'node:crypto';
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MAILVAULT_BIN } from '../../test/support/workspace.js';
import type { Throughput } from '../ceilings.js';
import {
  cpuSeconds,
  describeRun,
  fmtSpread,
  mb,
  median,
  medianRun,
  progress,
  rate,
  settle,
  spread,
  type Bench,
} from '../common.js';
import { MailvaultWorkspace, backupFigures, type MailvaultRun } from '../mailvault.js';
import { timed, type Timed } from '../proc.js';
import { fmtBytes, fmtCount, fmtMiB, fmtRate, fmtSeconds } from '../report.js';
import { Mbsync } from '../tools.js';
import type { MainMailbox } from './data.js';

export interface FirstBackups {
  /** The first sample's workspace: kept for the no-change runs and the restore. */
  mv: MailvaultWorkspace;
  /** One per sample, each with its own Maildir, pushed back into push1, push2, ... later. */
  mbsyncs: Mbsync[];
  first: MailvaultRun[];
  pulls: Timed[];
  /** Repository bytes after each first backup. */
  mvBytes: number[];
}

export async function measureFirstBackups(bench: Bench): Promise<FirstBackups> {
  const { server, work, profileDir } = bench;
  const { MESSAGES, SAMPLES } = bench.settings;
  const result: Omit<FirstBackups, 'mv'> = { mbsyncs: [], first: [], pulls: [], mvBytes: [] };
  let kept: MailvaultWorkspace | undefined;
  for (let i = 0; i < SAMPLES; i++) {
    const n = i + 1;
    const mbsync = await Mbsync.create(server, join(work, `mbsync-${n}`), 'bench', `push${n}`);
    const dir = join(work, i === 0 ? 'mailvault-main' : `mailvault-first-${n}`);
    const mv = await MailvaultWorkspace.create(server, dir, ['bench'], { profileDir });
    const pull = async (): Promise<void> => {
      await settle();
      progress(`mbsync pull, first run (${n}/${SAMPLES})`);
      const run = await mbsync.pull();
      result.pulls.push(run);
      progress(`  ${describeRun(run)}`);
    };
    const backup = async (): Promise<void> => {
      await settle();
      progress(`mailvault backup, first run (${n}/${SAMPLES})`);
      const run = await mv.run(['backup'], i === 0 ? 'backup-first' : undefined, true);
      const figures = backupFigures(run);
      if (figures.items !== MESSAGES) throw new Error(`backup saw ${figures.items} items`);
      result.first.push(run);
      result.mvBytes.push(await mv.repositoryBytes());
      progress(
        `  ${describeRun(run)}; ${figures.imapCommands} IMAP commands; repository ${fmtBytes(result.mvBytes[i] ?? 0)}`,
      );
    };
    for (const step of i % 2 === 0 ? [pull, backup] : [backup, pull]) await step();
    result.mbsyncs.push(mbsync);
    if (i === 0) kept = mv;
    else await rm(dir, { recursive: true, force: true });
  }
  if (!kept) throw new Error('no first backup');
  return { ...result, mv: kept };
}

export function reportFirstBackup(
  bench: Bench,
  main: MainMailbox,
  runs: FirstBackups,
  fetchCeiling: Throughput,
  repositories: { restic: number; borg: number },
): void {
  const { report, details } = bench;
  const { MESSAGES } = bench.settings;
  const { raw, folders } = main;
  const msgs = (run: Timed): number => rate(MESSAGES, run.seconds);
  const mvRates = spread(runs.first.map(msgs));
  const pullRates = spread(runs.pulls.map(msgs));
  const runRates = spread(runs.first.map((run) => rate(MESSAGES, backupFigures(run).runSeconds)));
  const pairRatios = runs.first.map((run, i) => {
    const pull = runs.pulls[i];
    return pull ? pull.seconds / run.seconds : NaN;
  });
  const ratio = mvRates.median / pullRates.median;
  const ceilingRate = rate(MESSAGES, fetchCeiling.seconds);
  const first = runs.first[0];
  if (!first) throw new Error('no first backup');
  const firstFigures = backupFigures(first);
  const mvBytes = runs.mvBytes[0] ?? NaN;
  const msgPerSec = (n: number): string => fmtRate(n, 'msg/s');
  details.firstBackup = {
    mailvaultMsgPerSec: mvRates,
    mailvaultRunMsgPerSec: runRates,
    mbsyncPullMsgPerSec: pullRates,
    ratioOfMedians: ratio,
    pairRatios,
    order: runs.first.map((_, i) => (i % 2 === 0 ? 'mbsync, mailvault' : 'mailvault, mbsync')),
    repositoryBytes: runs.mvBytes,
  };
  const S2 = '2. First backup';
  report.add({
    id: 'backup.first.msgPerSec',
    section: S2,
    label: 'messages/s (wall, whole CLI run)',
    value: mvRates.median,
    unit: 'msg/s',
    display: fmtSpread(mvRates, msgPerSec),
    target: `≥ mbsync pull: ${fmtSpread(pullRates, msgPerSec)} here (≈1,500)`,
    met: ratio >= 1,
    samples: mvRates,
  });
  report.add({
    id: 'backup.first.vsMbsync',
    section: S2,
    label: 'mailvault / mbsync pull (ratio of medians)',
    value: ratio,
    unit: 'ratio',
    display: `${ratio.toFixed(2)}× (pairs: ${pairRatios.map((r) => r.toFixed(2)).join(', ')})`,
    target: '≥ 1×',
  });
  report.add({
    id: 'backup.first.runMsgPerSec',
    section: S2,
    label: 'messages/s (backup run only, from --json)',
    value: runRates.median,
    unit: 'msg/s',
    display: fmtSpread(runRates, msgPerSec),
    target: '',
    samples: runRates,
  });
  report.add({
    id: 'backup.first.MBps',
    section: S2,
    label: 'MB/s (IMAP bytes, median)',
    value: mvRates.median * (mb(raw) / MESSAGES),
    unit: 'MB/s',
    display: fmtRate(mvRates.median * (mb(raw) / MESSAGES), 'MB/s'),
    target: `mbsync ${fmtRate(pullRates.median * (mb(raw) / MESSAGES), 'MB/s')}`,
  });
  report.add({
    id: 'backup.first.vsCeiling',
    section: S2,
    label: 'share of the raw FETCH ceiling',
    value: mvRates.median / ceilingRate,
    unit: 'ratio',
    display: `${((mvRates.median / ceilingRate) * 100).toFixed(0)} % of ${msgPerSec(ceilingRate)}`,
    target: 'ceiling ≈5,600 msg/s',
  });
  const rss = spread(runs.first.map((run) => run.maxRssKb));
  report.add({
    id: 'backup.first.peakRssKb',
    section: S2,
    label: 'peak RSS',
    value: rss.median,
    unit: 'KiB',
    display: fmtSpread(rss, fmtMiB),
    target: '',
    samples: rss,
  });
  const cpu = spread(runs.first.map(cpuSeconds));
  const pullCpu = median(runs.pulls.map(cpuSeconds));
  report.add({
    id: 'backup.first.cpuSeconds',
    section: S2,
    label: 'CPU time (user + system)',
    value: cpu.median,
    unit: 's',
    display: `${fmtSeconds(cpu.median)} (${((cpu.median / MESSAGES) * 1e6).toFixed(0)} µs/msg)`,
    target: `mbsync ${fmtSeconds(pullCpu)}`,
    samples: cpu,
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
    target: `< restic ${(repositories.restic / raw).toFixed(3)}× and borg ${(repositories.borg / raw).toFixed(3)}× (≈0.79×, 0.65×)`,
    met: mvBytes < repositories.restic && mvBytes < repositories.borg,
  });
}

export interface CliStartup {
  nodeSeconds: number;
  helpSeconds: number;
  kdfSeconds: number;
  kdfN: number;
}

/**
 * What every CLI run pays before it does anything: starting node, loading the CLI's modules
 * (what `mailvault --help` loads; each command imports its own modules later), and deriving
 * the key that unwraps the repository's master key (scrypt, with the repository's own
 * parameters, timed here in-process). Each the median of three.
 */
export async function cliStartup(mv: MailvaultWorkspace): Promise<CliStartup> {
  const keys = join(mv.repository, 'keys');
  const [name] = await readdir(keys);
  const keyFile = JSON.parse(await readFile(join(keys, name ?? ''), 'utf8')) as {
    kdf: { N: number; r: number; p: number; salt: string };
  };
  const { N, r, p, salt } = keyFile.kdf;
  const kdf = async (): Promise<number> => {
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
    return (performance.now() - started) / 1000;
  };
  const kdfs: number[] = [];
  const nodes: number[] = [];
  const helps: number[] = [];
  for (let i = 0; i < 3; i++) {
    kdfs.push(await kdf());
    nodes.push((await timed(process.execPath, ['-e', ''])).seconds);
    helps.push((await timed(process.execPath, [MAILVAULT_BIN, '--help'])).seconds);
  }
  return {
    nodeSeconds: median(nodes),
    helpSeconds: median(helps),
    kdfSeconds: median(kdfs),
    kdfN: N,
  };
}

export interface NoChangeRuns {
  mailvault: MailvaultRun[];
  mbsync: Timed[];
}

export async function measureNoChange(bench: Bench, runs: FirstBackups): Promise<NoChangeRuns> {
  const mbsync = runs.mbsyncs[0];
  if (!mbsync) throw new Error('no mbsync');
  progress('mbsync pull, no-change run (3 runs)');
  // No-change runs are short and this machine may be busy: the median of three.
  const pulls = [await mbsync.pullAgain(), await mbsync.pull(), await mbsync.pull()];
  progress(`  ${describeRun(medianRun(pulls))} (median of 3)`);
  progress('mailvault backup, no-change run (3 runs)');
  const mv = [
    await runs.mv.run(['backup'], 'backup-nochange'),
    await runs.mv.run(['backup']),
    await runs.mv.run(['backup']),
  ];
  progress(
    `  ${describeRun(medianRun(mv))} (median of 3); ${backupFigures(medianRun(mv)).imapCommands} IMAP commands`,
  );
  return { mailvault: mv, mbsync: pulls };
}

export async function reportNoChange(
  bench: Bench,
  main: MainMailbox,
  mv: MailvaultWorkspace,
  runs: NoChangeRuns,
): Promise<void> {
  const { report, details } = bench;
  const wall = spread(runs.mailvault.map((run) => run.seconds));
  const runOnly = spread(runs.mailvault.map((run) => backupFigures(run).runSeconds));
  const mbsync = spread(runs.mbsync.map((run) => run.seconds));
  const startup = await cliStartup(mv);
  const loading = startup.helpSeconds - startup.nodeSeconds;
  const rest = wall.median - runOnly.median - startup.helpSeconds - startup.kdfSeconds;
  const commands = backupFigures(medianRun(runs.mailvault)).imapCommands;
  details.noChange = { wall, runOnly, mbsync, startup, rest };
  const S3 = '3. No-change run';
  const add = (id: string, label: string, seconds: number, target = '', met?: boolean): void =>
    report.add({
      id,
      section: S3,
      label,
      value: seconds,
      unit: 's',
      display: fmtSeconds(seconds),
      target,
      ...(met === undefined ? {} : { met }),
    });
  report.add({
    id: 'backup.nochange.seconds',
    section: S3,
    label: 'wall time (whole CLI run)',
    value: wall.median,
    unit: 's',
    display: fmtSpread(wall, fmtSeconds),
    target: `≤ mbsync ${fmtSpread(mbsync, fmtSeconds)} here (≈0.16 s)`,
    met: wall.median <= mbsync.median,
    samples: wall,
  });
  add(
    'backup.nochange.runSeconds',
    'of which the backup run itself (--json `seconds`)',
    runOnly.median,
    `mbsync's whole run ${fmtSeconds(mbsync.median)}`,
  );
  add('backup.nochange.nodeStartup', 'of which starting node (`node -e ""`)', startup.nodeSeconds);
  add(
    'backup.nochange.cliStartup',
    "of which loading the CLI's modules (`--help` − node)",
    loading,
  );
  add(
    'backup.nochange.keyDerivation',
    `of which unlocking the key (scrypt N=2^${Math.log2(startup.kdfN)})`,
    startup.kdfSeconds,
  );
  add(
    'backup.nochange.rest',
    'of which the rest (config, catalog, index, lazy imports, exit)',
    rest,
  );
  report.add({
    id: 'backup.nochange.imapCommands',
    section: S3,
    label: 'IMAP commands (round trips)',
    value: commands,
    unit: 'commands',
    display: fmtCount(commands),
    target: `≤ 1 per folder (${main.folders.length}) with CONDSTORE`,
    met: commands <= main.folders.length,
  });
}
