// Drives one fault scenario: builds the state every kill starts from, counts the steps of an
// uncut run of the command, then for each chosen step starts from a fresh copy of that state,
// runs the command killed right after the step, and hands the result to the scenario's checks.
import { cp, mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DovecotServer } from './dovecot.js';
import { cliFor, emptyTally, type CheckTally, type Cli } from './fault-checks.js';
import { sampleSteps, type FaultSettings } from './fault-points.js';
import { writeOrderProblems } from './fault-order.js';
import { describeStep, runCounted, type FaultOutcome, type FaultStep } from './fault-run.js';
import { createWorkspace, shown, type Workspace, type WorkspaceOptions } from './workspace.js';

/** What one kill point's checks get. */
export interface KillContext {
  server: DovecotServer;
  /** This point's workspace: a copy of the prepared state, then the killed run's leftovers. */
  ws: Workspace;
  cli: Cli;
  passphrase: string;
  tally: CheckTally;
  /** An account of the server that the checks may fill and empty (a restore's target). */
  scratchAccount: string;
  /** Whether to run the costly checks (a restore into the server) at this point. */
  deep: boolean;
}

/**
 * Accounts on the server and a repository and catalog of their backups, which several scenarios
 * may start from (each from its own copy): preparing costs CLI runs, and the server's mail must
 * not change once it is prepared.
 */
export interface FaultBase {
  name: string;
  accounts: string[];
  /** Fills the server and builds the repository and catalog in `ws`. */
  prepare(server: DovecotServer, ws: Workspace, cli: Cli): Promise<void>;
}

export interface FaultScenario {
  name: string;
  base: FaultBase;
  /** Lines added to the configuration (a retention policy...). */
  extra?: string;
  /** The command killed, with its arguments (which may name files of the workspace). */
  command(ws: Workspace): string[];
  /** The uncut run's exit code (default 0). */
  exitCode?: number;
  /** Kill points at the small scale. */
  smallPoints: number;
  /** Whether the small scale restores into the server too (a restore costs seconds). */
  smallDeep?: boolean;
  /** What this scenario adds to a copy of its base's state before the kills. */
  prepare?(server: DovecotServer, ws: Workspace, cli: Cli): Promise<void>;
  /** Files a workspace needs beside the copied state (they may name the workspace's paths). */
  furnish?(ws: Workspace): Promise<void>;
  /** What the command may change on disk: counted and watched, by label. */
  watch(ws: Workspace): Record<string, string>;
  /** The problems found after a kill (or after the uncut run, `outcome.killed` false). */
  verify(context: KillContext, outcome: FaultOutcome): Promise<string[]>;
}

export interface PointResult {
  /** 0 for the uncut run that counted the steps. */
  n: number;
  step: string;
  killed: boolean;
  problems: string[];
  /** Where the state was kept for a look (FAULT_KEEP=1 and problems found). */
  kept?: string;
}

export interface ScenarioReport {
  name: string;
  /** Steps of the uncut run. */
  steps: number;
  /** The steps of the uncut run, for the report. */
  trace: FaultStep[];
  points: PointResult[];
  tally: CheckTally;
  seconds: number;
}

export interface DriverOptions {
  settings: FaultSettings;
  bases: PreparedBases;
  /** Kill points run at once (each in its own workspace). */
  lanes: number;
  /** One scratch account per lane. */
  scratchAccounts: string[];
  /** Called as each point is done (progress of a long run). */
  onPoint?: (scenario: string, point: PointResult) => void;
}

/** What createWorkspace writes into repo.pass. */
const PASSPHRASE = 'correct horse battery staple';

function workspaceOptions(scenario: FaultScenario): WorkspaceOptions {
  return { accounts: scenario.base.accounts, concurrency: 2, extra: scenario.extra ?? '' };
}

/** The prepared state copied into another workspace: everything but the configuration. */
async function cloneState(from: Workspace, to: Workspace): Promise<void> {
  for (const name of await readdir(from.dir)) {
    if (name === 'mailvault.yml') continue;
    await cp(join(from.dir, name), join(to.dir, name), { recursive: true, force: true });
  }
}

/** Each base prepared once, on first use, for every scenario of a run. */
export class PreparedBases {
  private readonly prepared = new Map<string, Promise<Workspace>>();

  constructor(private readonly server: DovecotServer) {}

  get(base: FaultBase): Promise<Workspace> {
    let ws = this.prepared.get(base.name);
    if (!ws) {
      ws = (async () => {
        const created = await createWorkspace(this.server, { accounts: base.accounts });
        await base.prepare(this.server, created, cliFor(created.config));
        return created;
      })();
      this.prepared.set(base.name, ws);
    }
    return ws;
  }

  async dispose(): Promise<void> {
    for (const ws of this.prepared.values()) await (await ws.catch(() => null))?.remove();
    this.prepared.clear();
  }
}

export async function runScenario(
  scenario: FaultScenario,
  server: DovecotServer,
  options: DriverOptions,
): Promise<ScenarioReport> {
  const started = Date.now();
  const tally = emptyTally();
  const base = await options.bases.get(scenario.base);
  const prepared = await createWorkspace(server, workspaceOptions(scenario));
  const keep = process.env.FAULT_KEEP === '1';
  try {
    await cloneState(base, prepared);
    await scenario.furnish?.(prepared);
    await scenario.prepare?.(server, prepared, cliFor(prepared.config));

    // The uncut run's own checks prove the checks right (they must pass without a kill); the
    // small scale leaves them out for time, the full scale and a run of chosen points make them.
    const checkUncut =
      options.settings.scale === 'full' ||
      options.settings.only !== null ||
      process.env.FAULT_CONTROL === '1';

    /** One run of the command in a fresh copy of the prepared state, then its checks. */
    const point = async (killAt: number | undefined, lane: number, deep: boolean) => {
      const ws = await createWorkspace(server, workspaceOptions(scenario));
      try {
        await cloneState(prepared, ws);
        await scenario.furnish?.(ws);
        const outcome = await runCounted(scenario.command(ws), {
          config: ws.config,
          paths: scenario.watch(ws),
          killAt,
          trace: join(ws.dir, 'fault-trace'),
        });
        const context: KillContext = {
          server,
          ws,
          cli: cliFor(ws.config),
          passphrase: PASSPHRASE,
          tally,
          scratchAccount: options.scratchAccounts[lane] ?? 'scratch',
          deep,
        };
        let problems: string[];
        if (killAt !== undefined && !outcome.killed && outcome.signal !== null) {
          problems = [`ended by ${outcome.signal}, not by the kill: ${shown(outcome)}`];
        } else if (killAt === undefined && outcome.code !== (scenario.exitCode ?? 0)) {
          problems = [`the uncut run failed: ${shown(outcome)}`];
        } else if (killAt === undefined && !checkUncut) {
          problems = [];
        } else {
          problems = await scenario.verify(context, outcome);
        }
        const result: PointResult = {
          n: killAt ?? 0,
          step: killAt === undefined ? 'no step (uncut run)' : describeStep(outcome.steps.at(-1)),
          killed: outcome.killed,
          problems,
        };
        if (problems.length > 0 && keep) {
          // The harness removes its temporary folders when the process ends: keep a copy.
          result.kept = await mkdtemp(
            join(tmpdir(), `fault-kept-${scenario.name}-${killAt ?? 0}-`),
          );
          await cp(ws.dir, result.kept, { recursive: true });
        }
        return result;
      } finally {
        await ws.remove();
      }
    };

    const points: PointResult[] = [];
    const record = (result: PointResult): void => {
      points.push(result);
      options.onPoint?.(scenario.name, result);
    };

    const only = options.settings.only?.get(scenario.name);
    // The uncut run also counts the steps: the trace is read from its workspace before removal.
    let trace: FaultStep[] = [];
    const counting = await (async () => {
      const ws = await createWorkspace(server, workspaceOptions(scenario));
      try {
        await cloneState(prepared, ws);
        await scenario.furnish?.(ws);
        const outcome = await runCounted(scenario.command(ws), {
          config: ws.config,
          paths: scenario.watch(ws),
          trace: join(ws.dir, 'fault-trace'),
        });
        trace = outcome.steps;
        return outcome;
      } finally {
        await ws.remove();
      }
    })();
    if (counting.code !== (scenario.exitCode ?? 0))
      record({
        n: 0,
        step: 'no step (uncut run)',
        killed: false,
        problems: [`the uncut run failed: ${shown(counting)}`],
      });
    else if (checkUncut) record(await point(undefined, 0, true));
    const order = writeOrderProblems(trace);
    if (order.length > 0)
      record({
        n: 0,
        step: 'no step (write order of the uncut run)',
        killed: false,
        problems: order,
      });
    const lanes = Math.max(1, options.lanes);

    // FAULT_ONLY naming a scenario alone (no steps) runs all of its steps at full scale.
    if (options.settings.scale === 'full' && !Array.isArray(only)) {
      // Every step, until a run completes without reaching it (a run may take a few steps more
      // or fewer than the counted one: concurrent writes finish in any order).
      // FAULT_STRIDE=k takes every k-th step (1, 1+k, ...) for a long command.
      const stride = options.settings.stride;
      let next = 1;
      let done = false;
      while (!done) {
        const batch = Array.from({ length: lanes }, (_, i) => next + i * stride);
        next += lanes * stride;
        const results = await Promise.all(
          batch.map((n, lane) => point(n, lane, (n - 1) % (8 * stride) === 0)),
        );
        for (const result of results) {
          if (result.killed) record(result);
          else done = true;
        }
      }
    } else {
      const chosen = Array.isArray(only)
        ? only
        : sampleSteps(trace, scenario.smallPoints, options.settings.seed);
      for (let i = 0; i < chosen.length; i += lanes) {
        const batch = chosen.slice(i, i + lanes);
        // Chosen points (FAULT_ONLY) restore at the first; the small scale where the scenario asks.
        const deep = (lane: number): boolean =>
          i + lane === 0 && (Array.isArray(only) || scenario.smallDeep === true);
        const results = await Promise.all(batch.map((n, lane) => point(n, lane, deep(lane))));
        for (const result of results) record(result);
      }
    }
    return {
      name: scenario.name,
      steps: trace.length,
      trace,
      points,
      tally,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await prepared.remove();
  }
}

/** The problems of a scenario's run, one line each, with how to reproduce each point. */
export function failuresOf(report: ScenarioReport): string[] {
  return report.points.flatMap((point) =>
    point.problems.map(
      (problem) =>
        `${report.name}, killed after ${point.step}: ${problem}` +
        ` [reproduce: FAULT_ONLY=${report.name}:${point.n} npx vitest run test/integration/fault-suite.test.ts${point.kept ? `; state kept in ${point.kept}` : ''}]`,
    ),
  );
}
