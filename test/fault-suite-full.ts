// The fault suite at full scale, outside vitest (it takes an hour or more): every scenario of
// test/support/fault-scenarios.ts killed after every step, 1, 2, 3... until a run completes
// without reaching the step, each kill followed by the scenario's checks. Prints a line per kill
// point and writes a report: kill points per command, repositories checked, items compared, and
// every failure with the line that reproduces it.
//
//   npm run build && npx tsx test/fault-suite-full.ts [--out bench/out/fault-suite.md]
//
// FAULT_ONLY=prune,copy limits it to some scenarios; FAULT_LANES (default 2) runs that many kill
// points at once; FAULT_KEEP=1 keeps the state of failing points.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { startDovecot } from './support/dovecot.js';
import {
  PreparedBases,
  failuresOf,
  runScenario,
  type ScenarioReport,
} from './support/fault-driver.js';
import { faultSettings } from './support/fault-points.js';
import { SCENARIOS } from './support/fault-scenarios.js';

const { values } = parseArgs({ options: { out: { type: 'string' } } });
const out = values.out ?? 'bench/out/fault-suite.md';
const settings = { ...faultSettings(), scale: 'full' as const };
const lanes = Number(process.env.FAULT_LANES ?? 2);
const scratch = Array.from({ length: lanes }, (_, i) => `scratch${i + 1}`);
const scenarios = SCENARIOS.filter((s) => !settings.only || settings.only.has(s.name));

/** The report as Markdown: a table of figures, then each scenario's failures. */
function markdown(reports: ScenarioReport[]): string {
  const lines = [
    '# Fault suite, full scale',
    '',
    `${new Date().toISOString()}; ${lanes} lane(s)`,
    '',
    '| command | steps of an uncut run | kill points | points with problems | repositories checked | items compared | seconds |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const report of reports) {
    const killed = report.points.filter((p) => p.killed);
    const failing = report.points.filter((p) => p.problems.length > 0);
    lines.push(
      `| ${report.name} | ${report.steps} | ${killed.length} | ${failing.length} | ${report.tally.repositoriesChecked} | ${report.tally.itemsCompared} | ${Math.round(report.seconds)} |`,
    );
  }
  for (const report of reports) {
    lines.push('', `## ${report.name}`, '', 'Steps of the uncut run:', '');
    for (const step of report.trace) lines.push(`    ${step.n} ${step.op} ${step.where}`);
    const failures = failuresOf(report);
    lines.push('', failures.length === 0 ? 'No failures.' : 'Failures:', '');
    for (const failure of failures) lines.push(`- ${failure}`);
  }
  return `${lines.join('\n')}\n`;
}

const server = await startDovecot({
  users: Object.fromEntries(
    [...scratch, ...scenarios.flatMap((s) => s.base.accounts)].map((u) => [u, `${u}-pw`]),
  ),
});
const reports: ScenarioReport[] = [];
const bases = new PreparedBases(server);
try {
  for (const scenario of scenarios) {
    console.log(`== ${scenario.name}`);
    const report = await runScenario(scenario, server, {
      settings,
      bases,
      lanes,
      scratchAccounts: scratch,
      onPoint: (name, point) =>
        console.log(
          `${name} ${point.n} ${point.step}: ${point.problems.length === 0 ? 'ok' : point.problems.join('; ')}`,
        ),
    });
    reports.push(report);
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, markdown(reports));
  }
} finally {
  await bases.dispose();
  await server.stop();
}
console.log(`report: ${out}`);
process.exitCode = reports.some((r) => failuresOf(r).length > 0) ? 1 : 0;
