// The package an administrator installs: `npm pack` of the checkout, installed with the README's
// `npm install -g` into a prefix of its own, then used from a directory outside the checkout. It
// must carry its licence and nothing of the tests, install without a warning from npm (npm 11
// lists every install script nobody approved), and the `mailvault` it puts in PREFIX/bin must run
// there, with no `npx` and no checkout to lean on.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describedSteps, runInstalledScenario } from '../support/installed-scenario.js';
import {
  CHECKOUT,
  cleanEnvironment,
  described,
  installTarball,
  packCheckout,
  run,
  type PackedTarball,
  type RunResult,
} from '../support/packed-install.js';
import { makeTempDir, removeTempDir } from '../support/servers.js';

/** SHA-256 of the GNU AGPL v3 as the FSF publishes it (gnu.org/licenses/agpl-3.0.txt). */
const AGPL_3_SHA256 = '0d96a4ff68ad6d4b6f1f30f713b18d5184912ba8dd389f86aa7710db079abcb0';

const manifest = JSON.parse(readFileSync(join(CHECKOUT, 'package.json'), 'utf8')) as {
  version: string;
  license: string;
};

describe('the package made by npm pack', () => {
  let work: string;
  let tarball: PackedTarball;
  let unpacked: string;

  beforeAll(async () => {
    work = await makeTempDir('package');
    tarball = await packCheckout(work);
    unpacked = join(work, 'unpacked');
    await mkdir(unpacked);
    const extracted = await run('tar', ['-xzf', tarball.path, '-C', unpacked], { cwd: work });
    expect(extracted.code, described('tar', extracted)).toBe(0);
  }, 120_000);

  afterAll(async () => {
    if (work) await removeTempDir(work);
  });

  it('holds the built command, the README and the GNU AGPL v3 its package.json names', async () => {
    expect(tarball.files).toEqual(
      expect.arrayContaining(['LICENSE', 'README.md', 'bin/mailvault.js', 'dist/bundle/main.js']),
    );
    expect(manifest.license).toBe('AGPL-3.0-or-later');
    const licence = await readFile(join(unpacked, 'package', 'LICENSE'));
    expect(licence.toString('utf8')).toMatch(/^ +GNU AFFERO GENERAL PUBLIC LICENSE\n +Version 3,/);
    expect(createHash('sha256').update(licence).digest('hex')).toBe(AGPL_3_SHA256);
  });

  it('holds no tests, no test helpers and no source map whose source is not in it', async () => {
    expect(tarball.files.filter((path) => /\.test[.-]|(^|\/)test\//.test(path))).toEqual([]);
    const deadMaps: string[] = [];
    for (const path of tarball.files.filter((file) => file.endsWith('.map'))) {
      const map = JSON.parse(await readFile(join(unpacked, 'package', path), 'utf8')) as {
        sources: string[];
      };
      for (const source of map.sources) {
        const shipped = relative(
          join(unpacked, 'package'),
          resolve(join(unpacked, 'package', path), '..', source),
        );
        if (!tarball.files.includes(shipped)) deadMaps.push(`${path} -> ${source}`);
      }
    }
    expect(deadMaps).toEqual([]);
  });

  describe('installed with npm install -g into a prefix', () => {
    let prefix: string;
    let install: RunResult;
    let elsewhere: string;

    beforeAll(async () => {
      prefix = join(work, 'prefix');
      elsewhere = join(work, 'elsewhere');
      await mkdir(elsewhere);
      install = await installTarball(tarball.path, prefix, {
        node: process.execPath,
        cwd: elsewhere,
        timeoutMs: 540_000,
      });
    }, 600_000);

    it('installs without a warning from npm', () => {
      expect(install.code, described('npm install -g', install)).toBe(0);
      const warnings = (install.stdout + install.stderr)
        .split('\n')
        .filter((line) => /^npm warn/i.test(line));
      expect(warnings).toEqual([]);
    });

    it('is a copy of the package, not a link back into the checkout', () => {
      const installed = realpathSync(join(prefix, 'lib', 'node_modules', 'mailvault'));
      expect(installed.startsWith(CHECKOUT)).toBe(false);
      expect(existsSync(join(installed, 'dist', 'bundle', 'main.js'))).toBe(true);
    });

    it('puts a mailvault command in PREFIX/bin that prints its version from anywhere', async () => {
      const version = await run(join(prefix, 'bin', 'mailvault'), ['--version'], {
        cwd: elsewhere,
        env: cleanEnvironment(process.execPath),
      });
      expect(version.code, described('mailvault --version', version)).toBe(0);
      expect(version.stdout.trim()).toBe(manifest.version);
    }, 240_000);

    it('backs up a file set and restores it, run from a directory of its own', async () => {
      const outcome = await runInstalledScenario(
        join(prefix, 'bin', 'mailvault'),
        elsewhere,
        cleanEnvironment(process.execPath),
      );
      const shown = describedSteps(outcome);
      expect(
        outcome.steps.map((step) => step.result.code),
        shown,
      ).toEqual([0, 0, 0, 0, 0]);
      expect(outcome.steps[2]?.result.stdout, shown).toContain('files/app-config');
      expect(outcome.restored, shown).toBe(outcome.original);
    }, 240_000);
  });
});
