// The fault suite: every command that writes the repository or the catalog (backup, prune,
// forget, copy, key add and passwd, catalog rebuild, check --repair) killed with SIGKILL right
// after one step that changes the disk, then the repository and the catalog checked as an
// administrator would find them: `check --read-data` passes (warning at most of packs in no
// index, which the next prune takes), nothing is half-written under a real name, the catalog
// synced by the next command lists exactly the repository's snapshots, the next run of the same
// command completes, and exports (and, at some points, restores) give exactly the mail the real
// Dovecot account holds.
//
// How the steps are counted, and why so: the CLI runs with `node --import fault-preload.mjs`,
// which wraps the fs calls mailvault writes with (open for writing, write, fsync, link, rename,
// unlink, rm, mkdir, on fs/promises, FileHandle and the synchronous API) for paths below the
// repository and the catalog, and better-sqlite3's statements for the catalog, and kills its
// own process with SIGKILL right after the N-th such step. strace can inject faults too
// (`-e inject=write:signal=KILL:when=N`), but it counts system calls, not mailvault's steps:
// libuv's eventfd wake-ups, the pipes of worker threads, stdout and SQLite's own page writes are
// all `write`s, so N would land on different moments from one run to the next and most points
// would change nothing on disk. The preload counts exactly the steps that change the
// repository or the catalog, names each (so a failure says "killed after link index/…"), and
// works unprivileged. SQLite writes from native code: the catalog is cut at the end of each
// transaction (a kill inside one leaves what a kill before it does: SQLite rolls it back); a
// kill in the middle of SQLite's own journal write is SQLite's to survive, not mailvault's.
// A kill in the middle of one write(2) is not made: a file under a temporary name is never
// read, whatever its length, and a file under its real name is only ever complete (format 12).
//
// Scale: `npm test` kills each command at one or two steps (FAULT_SCALE=small, the default),
// drawn over the whole command by a seeded draw (FAULT_SEED, default 1; another seed reaches
// other steps), and runs two commands at a time, each in its own workspace and accounts. FAULT_SCALE=full kills at
// every step, 1, 2, 3... until a run completes without reaching it (test/fault-suite-full.ts
// runs that and writes a report). FAULT_ONLY=backup:17 runs one scenario at one step (every
// failure names the line to reproduce it); FAULT_KEEP=1 keeps the state of failing points.
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import {
  PreparedBases,
  failuresOf,
  runScenario,
  type ScenarioReport,
} from '../support/fault-driver.js';
import { faultSettings } from '../support/fault-points.js';
import { SCENARIOS } from '../support/fault-scenarios.js';

const settings = faultSettings();
const scenarios = SCENARIOS.filter(
  (scenario) => !settings.only || settings.only.has(scenario.name),
);
const full = settings.scale === 'full';
// Small scale: two commands at a time, one kill point at a time each (a command's points are
// few, and its checks a chain of CLI runs). Full scale: one command at a time, its points in
// FAULT_LANES lanes.
const SLOTS = full ? 1 : 2;
const LANES = full ? Number(process.env.FAULT_LANES ?? 2) : 1;
const SCRATCH = Array.from({ length: Math.max(SLOTS, LANES) }, (_, i) => `scratch${i + 1}`);

/** At most SLOTS scenarios run at once; each gets a slot number (its scratch account). */
class Slots {
  private readonly free = Array.from({ length: SLOTS }, (_, i) => i);
  private readonly waiting: Array<(slot: number) => void> = [];

  async run<T>(task: (slot: number) => Promise<T>): Promise<T> {
    const slot = this.free.pop() ?? (await new Promise<number>((r) => this.waiting.push(r)));
    try {
      return await task(slot);
    } finally {
      const next = this.waiting.shift();
      if (next) next(slot);
      else this.free.push(slot);
    }
  }
}

describe.skipIf(!haveDovecot)('fault suite: a command killed at any step', () => {
  let server: DovecotServer;
  let bases: PreparedBases;
  const reports: ScenarioReport[] = [];
  const slots = new Slots();

  beforeAll(async () => {
    const users = new Set([...SCRATCH, ...scenarios.flatMap((s) => s.base.accounts)]);
    server = await startDovecot({
      users: Object.fromEntries([...users].map((user) => [user, `${user}-pw`])),
    });
    bases = new PreparedBases(server);
  });
  afterAll(async () => {
    await bases?.dispose();
    await server?.stop();
    if (process.env.FAULT_REPORT)
      await writeFile(process.env.FAULT_REPORT, JSON.stringify(reports, null, 2));
  });

  for (const scenario of scenarios) {
    it.concurrent(
      `${scenario.name}: killed after any step, the repository stays valid and the next run completes`,
      async ({ expect }) => {
        const report = await slots.run((slot) =>
          runScenario(scenario, server, {
            settings,
            bases,
            lanes: LANES,
            scratchAccounts: full ? SCRATCH : [SCRATCH[slot] ?? 'scratch1'],
          }),
        );
        reports.push(report);
        const killed = report.points.filter((point) => point.killed);
        expect(killed.length, `${scenario.name}: kill points reached`).toBeGreaterThan(0);
        expect(failuresOf(report)).toEqual([]);
      },
      full ? 24 * 3_600_000 : 900_000,
    );
  }
});
