// `npm run bench`: mailvault against a real Dovecot on loopback, side by side with mbsync, restic,
// borg and the server's own ceilings, in one run. Figures go to stdout as a table, next to the
// "Fast." targets of PRODUCT.md, and to bench/out/results.json. Progress goes to stderr.
// The phases live in bench/phases/; this file runs them in order (or those BENCH_ONLY names) and
// writes the results.
//
// The machine is noisy (the same ceiling can vary 2–4× from one minute to the next), so the
// figures the targets are judged on are medians of BENCH_SAMPLES runs, each run next to what it
// is compared with: first backups back to back with mbsync pulls, restores interleaved with raw
// MULTIAPPENDs and mbsync pushes (each into a fresh, empty account). results.json keeps every
// sample (min, median, max).
//
// Environment:
//   BENCH_MESSAGES  messages in the main mailbox (default 20000, about 1.2 GB)
//   BENCH_SMALL     messages in the smaller mailbox used for churn and memory (default 5000)
//   BENCH_DAYS      daily snapshots in the churn tests (default 30)
//   BENCH_COPIES    mailboxes the same message is delivered to (default 100)
//   BENCH_SEED      seed of the generated mail (default 20251101)
//   BENCH_SAMPLES   runs of each first backup, restore and their baselines (default 3)
//   BENCH_PROFILE=1 also write V8 CPU profiles of mailvault's first backup, first no-change run
//                   and first restore into bench/out/profiles and print where their time went
//                   (this slows those runs down)
//   BENCH_CHURN_BASELINES=0  skip restic and borg in the churn tests
//   BENCH_ITEMS     items in the `restore item` batch (default 500)
//   BENCH_EXTERNAL_ACCOUNTS, BENCH_EXTERNAL_MESSAGES  the repository `restore external` restores
//                   (default 6 accounts, 9000 messages in all)
//   BENCH_SEARCH_ROWS     messages in the synthetic catalog searched (default 1000000)
//   BENCH_SEARCH_SAMPLES  runs of each search (default 3)
//   BENCH_DUMP_ROWS, BENCH_DUMP_DAYS, BENCH_DUMP_BASELINES=0  the database dumps (phases/dumps.ts:
//                   default 300000 rows, 7 days, with restic and borg)
//   BENCH_DAV_ITEMS       events, tasks and vCards on Radicale, in all (default 3000)
//   BENCH_DAV_ACCOUNTS    accounts they belong to (default 3), six collections each
//   BENCH_DAV_BASELINE=0  leave vdirsyncer out of the calendar and contact figures (it is also
//                   left out, and said so, when Debian's vdirsyncer is not installed)
//   BENCH_REMOTE_MESSAGES  messages in the account backed up to each remote store (phases/
//                   remote.ts: default 5000, or BENCH_MESSAGES if fewer)
//   BENCH_REMOTE_BASELINE=0  leave restic out of the remote stores' figures
//   BENCH_REMOTE_ACCOUNTS, BENCH_REMOTE_ACCOUNT_MESSAGES  the small accounts whose no-change run's
//                   requests are counted on each store (default 1000 accounts of 5 messages)
//   BENCH_LARGE_MB  the size of the large message of phase large, in MB (default 64)
//   BENCH_PRUNE_OBJECTS, BENCH_PRUNE_CHUNKS_PER_SNAPSHOT  the repository prune runs on (phases/
//                   prune.ts: a million objects, 10,000 a snapshot)
//   BENCH_ONLY      run only these phases, comma-separated, e.g. BENCH_ONLY=dav,dumps (default:
//                   all of them). The phases: backup (the main mailbox: first backups, restic and
//                   borg, no-change runs), restore, restore-kinds, churn, dedup, search, dumps,
//                   dav, remote, prune, large. restore and restore-kinds need backup, which is then
//                   run too.
//                   Memory (8) is reported when backup and churn both run, the baselines (5) when
//                   backup and restore do.
import { access, mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDovecot } from '../test/support/dovecot.js';
import { makeTempDir, removeTempDir } from '../test/support/servers.js';
import {
  elapsedSeconds,
  progress,
  rate,
  readSettings,
  spread,
  type Bench,
  type Settings,
} from './common.js';
import { cleanupTimeDir } from './proc.js';
import { formatProfile, summarizeProfile } from './profile.js';
import { Report, fmtBytes, fmtCount, fmtSeconds } from './report.js';
import { toolVersions } from './tools.js';
import {
  measureFirstBackups,
  measureNoChange,
  reportFirstBackup,
  reportNoChange,
  type FirstBackups,
  type NoChangeRuns,
} from './phases/backup.js';
import {
  measureFetchCeiling,
  measureFileBackups,
  reportBaselines,
  type FileBackups,
} from './phases/baselines.js';
import { CHURN_VARIANTS, measureChurn, reportChurn } from './phases/churn.js';
import { generateMainMailbox, type MainMailbox } from './phases/data.js';
import { davUsers, measureDav, reportDav } from './phases/dav.js';
import { dedupUsers, measureDedup } from './phases/dedup.js';
import { measureDumps, reportDumps } from './phases/dumps.js';
import { reportMemory } from './phases/memory.js';
import { measureRestores, reportRestore } from './phases/restore.js';
import {
  measureRestoreKinds,
  reportRestoreKinds,
  restoreKindUsers,
  type RestoreSource,
} from './phases/restore-kinds.js';
import { measurePrune, reportPrune } from './phases/prune.js';
import { measureRemote, remoteUsers, reportRemote } from './phases/remote.js';
import { measureSearch, reportSearch } from './phases/search.js';
import { largeUsers, measureLarge, reportLarge, type LargeRuns } from './phases/large.js';
import type { Throughput } from './ceilings.js';

const checkout = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(checkout, 'bench', 'out');

/** The phases BENCH_ONLY can name, in the order they run, each with the phases it needs. */
const PHASES = {
  backup: [],
  restore: ['backup'],
  'restore-kinds': ['backup'],
  churn: [],
  dedup: [],
  search: [],
  dumps: [],
  dav: [],
  remote: [],
  prune: [],
  large: [],
} as const satisfies Record<string, readonly string[]>;
type Phase = keyof typeof PHASES;
const PHASE_NAMES = Object.keys(PHASES) as Phase[];

const isPhase = (name: string): name is Phase => Object.hasOwn(PHASES, name);

/** The phases to run: BENCH_ONLY's and what they need, or all of them. */
function selectedPhases(): Set<Phase> {
  const only = process.env.BENCH_ONLY?.trim();
  if (!only) return new Set(PHASE_NAMES);
  const named = only
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = named.filter((name) => !isPhase(name));
  if (unknown.length > 0)
    throw new Error(
      `BENCH_ONLY: unknown phase ${unknown.join(', ')} (the phases: ${PHASE_NAMES.join(', ')})`,
    );
  const selected = new Set(named.filter(isPhase));
  for (const phase of [...selected])
    for (const needed of PHASES[phase])
      if (!selected.has(needed)) {
        progress(`BENCH_ONLY: ${phase} needs ${needed}, which runs too`);
        selected.add(needed);
      }
  return new Set(PHASE_NAMES.filter((phase) => selected.has(phase)));
}

/** The Dovecot accounts the selected phases use. */
function mailUsers(settings: Settings, phases: Set<Phase>): Record<string, string> {
  const names: string[] = [];
  // Phase backup's mbsync configurations already name the accounts the restores push into.
  if (phases.has('backup')) {
    names.push('bench');
    for (let n = 1; n <= settings.SAMPLES; n++) names.push(`append${n}`, `push${n}`);
  }
  if (phases.has('churn')) names.push(...CHURN_VARIANTS.map((variant) => variant.user));
  if (phases.has('dedup')) names.push(...dedupUsers(settings.COPIES));
  if (phases.has('restore-kinds')) names.push(...restoreKindUsers(settings));
  if (phases.has('dav')) names.push(...davUsers(settings.DAV_ACCOUNTS));
  if (phases.has('remote')) names.push(...remoteUsers(settings));
  if (phases.has('large')) names.push(...largeUsers());
  // Dovecot's harness needs one user at least, whatever runs.
  if (names.length === 0) names.push('bench');
  return Object.fromEntries(names.map((name) => [name, 'x']));
}

/** The main mailbox and what was measured on it (phase `backup`). */
interface MailRuns {
  main: MainMailbox;
  fetchCeiling: Throughput;
  first: FirstBackups;
  files: { restic: FileBackups; borg: FileBackups };
  noChange: NoChangeRuns;
}

async function measureMail(bench: Bench): Promise<MailRuns> {
  // 1. The data; 5. the reading ceiling.
  const main = await generateMainMailbox(bench);
  const fetchCeiling = await measureFetchCeiling(bench, main);
  // 2. First backups, each back to back with an mbsync pull into a fresh Maildir.
  const first = await measureFirstBackups(bench);
  const maildir = first.mbsyncs[0]?.maildir;
  if (!maildir) throw new Error('no Maildir');
  // 5. restic and borg backing up the Maildir mbsync pulled.
  const files = await measureFileBackups(bench, maildir);
  // 3. No-change runs, mailvault's and mbsync's.
  const noChange = await measureNoChange(bench, first);
  return { main, fetchCeiling, first, files, noChange };
}

interface Results {
  mail?: MailRuns;
  restores?: Awaited<ReturnType<typeof measureRestores>>;
  kinds?: Awaited<ReturnType<typeof measureRestoreKinds>>;
  source?: RestoreSource;
  churn?: Awaited<ReturnType<typeof measureChurn>>;
  search?: Awaited<ReturnType<typeof measureSearch>>;
  dumps?: Awaited<ReturnType<typeof measureDumps>>;
  dav?: Awaited<ReturnType<typeof measureDav>>;
  remote?: Awaited<ReturnType<typeof measureRemote>>;
  prune?: Awaited<ReturnType<typeof measurePrune>>;
  large?: LargeRuns;
}

async function measure(bench: Bench, phases: Set<Phase>): Promise<Results> {
  const results: Results = {};
  const mail = phases.has('backup') ? await measureMail(bench) : undefined;
  results.mail = mail;
  if (mail && phases.has('restore')) {
    // 4. Restores interleaved with raw MULTIAPPENDs and mbsync pushes.
    results.restores = await measureRestores(bench, mail.main, mail.first.mv, mail.first.mbsyncs);
  }
  if (mail && phases.has('restore-kinds')) {
    // 9. Single items, into another account, from another installation's repository.
    const source: RestoreSource = {
      user: 'bench',
      messages: bench.settings.MESSAGES,
      original: mail.main.original,
    };
    results.source = source;
    results.kinds = await measureRestoreKinds(bench, source, mail.first.mv);
  }
  // 6. Churn, 7. deduplication.
  if (phases.has('churn')) results.churn = await measureChurn(bench);
  if (phases.has('dedup')) await measureDedup(bench);
  // 10. Search over a million catalogued messages.
  if (phases.has('search')) results.search = await measureSearch(bench);
  // 11. Database dumps, 12. calendars and contacts.
  if (phases.has('dumps')) results.dumps = await measureDumps(bench);
  if (phases.has('dav')) results.dav = await measureDav(bench);
  // 13. Remote repositories, 14. their requests at scale.
  if (phases.has('remote')) results.remote = await measureRemote(bench);
  // 15. Prune over a million objects.
  if (phases.has('prune')) results.prune = await measurePrune(bench);
  // 16. Large messages, streamed.
  if (phases.has('large')) results.large = await measureLarge(bench);
  return results;
}

async function report(bench: Bench, results: Results): Promise<void> {
  const { MESSAGES } = bench.settings;
  const { mail, restores, kinds, source, churn, search, dumps, dav, remote, prune, large } =
    results;
  if (mail) {
    reportFirstBackup(bench, mail.main, mail.first, mail.fetchCeiling, {
      restic: mail.files.restic.bytes,
      borg: mail.files.borg.bytes,
    });
    await reportNoChange(bench, mail.main, mail.first.mv, mail.noChange);
  }
  if (restores && mail) reportRestore(bench, mail.main, restores);
  if (kinds && source)
    reportRestoreKinds(
      bench,
      source,
      kinds,
      restores
        ? { mbsyncPush: spread(restores.pushes.map((run) => rate(MESSAGES, run.seconds))) }
        : undefined,
    );
  if (search) reportSearch(bench, search);
  if (churn) reportChurn(bench, churn);
  if (churn && mail)
    reportMemory(
      bench,
      { runs: churn.map((v) => v.firstRun), bytes: churn[0]?.firstBytes ?? NaN },
      { runs: mail.first.first, bytes: mail.main.raw },
    );
  if (mail && restores)
    reportBaselines(bench, mail.main, {
      fetchCeiling: mail.fetchCeiling,
      mbsyncPulls: mail.first.pulls,
      mbsyncNoChange: mail.noChange.mbsync,
      multiAppends: restores.multiAppends,
      mbsyncPushes: restores.pushes,
      restic: mail.files.restic,
      borg: mail.files.borg,
    });
  if (dumps) reportDumps(bench, dumps);
  if (dav) reportDav(bench, dav);
  if (remote) reportRemote(bench, remote);
  if (prune) reportPrune(bench, prune);
  if (large) reportLarge(bench, large);
  bench.details.runs = runDetails(results);
}

/** Every run of the tools, for results.json. */
function runDetails(results: Results): Record<string, unknown> {
  const { mail, restores, kinds, churn, search } = results;
  return {
    mailvault: {
      first: mail?.first.first,
      noChange: mail?.noChange.mailvault,
      restore: restores?.restores,
      churnFirst: churn?.map((v) => v.firstRun),
      restoreItem: kinds?.items,
      restoreIntoAccount: kinds?.intoAccount,
      restoreExternal: kinds?.external,
      search: search && {
        baseline: search.baseline,
        queries: Object.fromEntries(search.queries.map((q) => [q.query.id, q.runs])),
      },
    },
    mbsync: {
      pull: mail?.first.pulls,
      pullNoChange: mail?.noChange.mbsync,
      push: restores?.pushes,
    },
    restic: mail?.files.restic,
    borg: mail?.files.borg,
    ceilings: { fetch: mail?.fetchCeiling, multiappend: restores?.multiAppends },
  };
}

/** Summaries of the CPU profiles the runs wrote (BENCH_PROFILE=1), as text and for the JSON. */
async function profiles(
  profileDir: string | undefined,
): Promise<{ json: Record<string, unknown>; text: string }> {
  const json: Record<string, unknown> = {};
  let text = '';
  if (!profileDir) return { json, text };
  const names = [
    'backup-first',
    'backup-nochange',
    'restore',
    'dav-backup-first',
    'dav-backup-nochange',
  ];
  for (const name of names) {
    const file = join(profileDir, `${name}.cpuprofile`);
    // Only the phases that ran wrote theirs.
    if (
      !(await access(file).then(
        () => true,
        () => false,
      ))
    )
      continue;
    const summary = await summarizeProfile(file);
    json[name] = summary;
    text += `\n${formatProfile(`CPU profile of mailvault ${name}`, summary)}\n`;
  }
  return { json, text };
}

function headline(bench: Bench, phases: Set<Phase>, mail: MailRuns | undefined): string {
  const what = mail
    ? `${fmtCount(bench.settings.MESSAGES)} messages / ${fmtBytes(mail.main.raw)} in ${mail.main.folders.length} folders, Dovecot on loopback`
    : 'Dovecot on loopback';
  const only = phases.size < PHASE_NAMES.length ? `; phases ${[...phases].join(', ')}` : '';
  return `mailvault benchmark — ${what}${only}, ${new Date().toISOString().slice(0, 10)}; ${cpus().length} CPUs`;
}

async function main(): Promise<void> {
  const settings = readSettings();
  const { MESSAGES, SMALL, DAYS, COPIES, SAMPLES, PROFILE } = settings;
  const phases = selectedPhases();
  await mkdir(outDir, { recursive: true });
  const loadBefore = loadavg();
  progress(
    `mailvault benchmark: ${fmtCount(MESSAGES)} messages; churn and memory on ${fmtCount(SMALL)}; ` +
      `${DAYS} days; ${COPIES} copies; ${SAMPLES} samples${PROFILE ? '; CPU profiles on' : ''}` +
      (phases.size < PHASE_NAMES.length ? `; phases ${[...phases].join(', ')}` : ''),
  );

  const server = await startDovecot({ users: mailUsers(settings, phases) });
  const work = await makeTempDir('bench');
  progress(`Dovecot on ${server.host}:${server.port}, work in ${work}`);
  const bench: Bench = {
    settings,
    server,
    work,
    report: new Report(),
    details: {},
    profileDir: PROFILE ? join(outDir, 'profiles') : undefined,
  };
  try {
    const results = await measure(bench, phases);
    await report(bench, results);
    const profile = await profiles(bench.profileDir);

    const totalSeconds = elapsedSeconds();
    const loadAfter = loadavg();
    const output = {
      generated: new Date().toISOString(),
      benchSeconds: totalSeconds,
      settings,
      phases: [...phases],
      machine: { cpus: cpus().length, loadBefore, loadAfter },
      versions: await toolVersions(),
      figures: bench.report.sorted(),
      details: bench.details,
      profiles: profile.json,
    };
    // Stdout and stderr of the tools are long and not figures: keep them out of the JSON.
    const json = JSON.stringify(
      output,
      (key, value: unknown) => (key === 'stdout' || key === 'stderr' ? undefined : value),
      2,
    );
    await writeFile(join(outDir, 'results.json'), `${json}\n`);

    const figures = bench.report.figures;
    const met = figures.filter((f) => f.status === 'met').length;
    const notMet = figures.filter((f) => f.status === 'not met').length;
    console.log(
      `${headline(bench, phases, results.mail)}, ` +
        `load average ${loadBefore[0]?.toFixed(1)} at the start, ${loadAfter[0]?.toFixed(1)} at the end\n`,
    );
    console.log(bench.report.table());
    console.log(
      `\n${met} targets met, ${notMet} not met. Whole benchmark: ${fmtSeconds(totalSeconds)}. ` +
        `JSON: ${join('bench', 'out', 'results.json')}`,
    );
    if (profile.text) console.log(profile.text);
    progress('done');
  } finally {
    progress('cleaning up');
    await server.stop();
    await removeTempDir(work);
    await cleanupTimeDir();
  }
}

await main();
