// What a newcomer does first with an installed `mailvault`, in a directory of their own: a
// configuration with relative paths and a file set, `init`, `backup`, `snapshots`, a full
// `check --read-data` and `restore files`. It touches every native addon (SQLite for the
// catalog, zstd for the packs) and the encryption.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { described, run, type RunResult } from './packed-install.js';

export interface ScenarioOutcome {
  /** Each command run, in order, with its arguments. */
  steps: { args: string[]; result: RunResult }[];
  /** The content of the configuration file restored below `target`, or undefined. */
  restored: string | undefined;
  /** What the file held when it was backed up. */
  original: string;
}

/**
 * Runs the scenario in `dir` with the installed command `bin`, under `env`; stops at the first
 * command that fails (its result is the last step).
 */
export async function runInstalledScenario(
  bin: string,
  dir: string,
  env: NodeJS.ProcessEnv,
): Promise<ScenarioOutcome> {
  const data = join(dir, 'etc', 'app');
  await mkdir(data, { recursive: true });
  const original = `listen = 127.0.0.1\nstarted by ${dir}\n`;
  await writeFile(join(data, 'app.conf'), original);
  await writeFile(join(dir, 'repo.pass'), 'correct horse battery staple\n');
  await writeFile(
    join(dir, 'mailvault.yml'),
    [
      'repository:',
      '  url: ./backups',
      '  passwordFile: ./repo.pass',
      'catalog:',
      '  url: ./catalog.sqlite',
      'servers: []',
      'files:',
      '  - name: app-config',
      `    include: [${JSON.stringify(data)}]`,
      '',
    ].join('\n'),
  );
  const steps: ScenarioOutcome['steps'] = [];
  const target = join(dir, 'restored');
  for (const args of [
    ['init'],
    ['backup'],
    ['snapshots'],
    ['check', '--read-data'],
    ['restore', 'files', '--at', 'last', '--target', target],
  ]) {
    // No --config: the default, ./mailvault.yml in the current directory, is what a newcomer uses.
    const result = await run(bin, ['--no-progress', ...args], { cwd: dir, env });
    steps.push({ args, result });
    if (result.code !== 0) return { steps, restored: undefined, original };
  }
  const restored = await readFile(join(target, data, 'app.conf'), 'utf8').catch(() => undefined);
  return { steps, restored, original };
}

/** The scenario's steps as an assertion's message shows them. */
export function describedSteps(outcome: ScenarioOutcome): string {
  return outcome.steps
    .map((step) => described(`mailvault ${step.args.join(' ')}`, step.result))
    .join('\n');
}
