// mailvault as an administrator installs it: the checkout packed by `npm pack`, the tarball
// installed with `npm install -g --prefix` (the command the README gives), under any Node, and the
// installed `mailvault` run from a directory that has nothing to do with the checkout.
//
// Native addons: their install scripts run for real. prebuild-install would download a prebuilt
// binary from GitHub, which these machines cannot reach, and compiling better-sqlite3 takes
// minutes of CPU; so the binaries the checkout's own `npm ci` built are offered to it as local
// prebuilds (its `local-prebuilds` setting), and it unpacks them where a download would have
// gone. A Node whose ABI the checkout has no binary for compiles from source, once: the result is
// kept as a prebuild in PREBUILD_CACHE for the next run.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CHECKOUT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The dependencies whose install scripts the README's install command allows
 * (`--allow-scripts=...`): a global install reads no package.json's allowScripts.
 */
export const ALLOWED_SCRIPTS = ['better-sqlite3', 'zstd-napi', 'ssh2', 'cpu-features'];

/** Where binaries compiled for an ABI the checkout has none for are kept between runs. */
export const PREBUILD_CACHE = join(
  process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'),
  'mailvault-tests',
  'prebuilds',
);

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Runs a program to its end, collecting what it prints; killed after timeoutMs. */
export function run(command: string, args: string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (data: Buffer) => out.push(data));
    child.stderr.on('data', (data: Buffer) => err.push(data));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/** A run as an assertion's message shows it. */
export function described(what: string, result: RunResult): string {
  return `${what}: exit ${result.code}\nstdout:\n${result.stdout.slice(-4000)}\nstderr:\n${result.stderr.slice(-4000)}`;
}

/** npm's own script (npm-cli.js), so that npm can be run by any Node binary. */
export function npmCli(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'npm');
    if (dir !== '' && existsSync(candidate)) return realpathSync(candidate);
  }
  throw new Error('npm is not on the PATH');
}

/** A PATH on which `node` is `node` (so scripts and `#!/usr/bin/env node` find that one). */
export function pathWith(node: string): string {
  return [dirname(node), '/usr/local/bin', '/usr/bin', '/bin'].join(delimiter);
}

/** The environment the installed command runs in: this Node, nothing of mailvault's own. */
export function cleanEnvironment(node: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith('MAILVAULT_') && !name.startsWith('npm_'),
    ),
  );
  return { ...env, PATH: pathWith(node) };
}

export interface PackedTarball {
  /** The .tgz's absolute path. */
  path: string;
  /** The paths inside the package, as `npm pack` lists them (`dist/bundle/main.js`). */
  files: string[];
}

/**
 * `npm pack` of the checkout into `dir`. Scripts are not run: the build is `npm run build`'s (which
 * `npm test` runs first), not rewritten under the other tests running from dist/ beside this one.
 */
export async function packCheckout(dir: string): Promise<PackedTarball> {
  if (!existsSync(join(CHECKOUT, 'dist', 'bundle', 'main.js')))
    throw new Error('dist/ is not built: run `npm run build` first');
  const result = await run(
    process.execPath,
    [npmCli(), 'pack', '--ignore-scripts', '--json', '--pack-destination', dir],
    { cwd: CHECKOUT, env: cleanEnvironment(process.execPath) },
  );
  if (result.code !== 0) throw new Error(described('npm pack', result));
  const [packed] = JSON.parse(result.stdout) as [{ filename: string; files: { path: string }[] }];
  return { path: join(dir, packed.filename), files: packed.files.map((file) => file.path) };
}

/** The headers of `node`'s release, when it ships them beside itself (for node-gyp). */
function nodeDir(node: string): string | undefined {
  const prefix = resolve(dirname(node), '..');
  return existsSync(join(prefix, 'include', 'node', 'common.gypi')) ? prefix : undefined;
}

/** What `node` reports about itself: its ABI and N-API versions, platform and architecture. */
async function nodeFacts(
  node: string,
): Promise<{ modules: string; napi: number; platform: string; arch: string }> {
  const result = await run(
    node,
    [
      '-p',
      'JSON.stringify({modules: process.versions.modules, napi: Number(process.versions.napi), platform: process.platform, arch: process.arch})',
    ],
    { cwd: CHECKOUT },
  );
  if (result.code !== 0) throw new Error(described(`${node} -p`, result));
  return JSON.parse(result.stdout) as {
    modules: string;
    napi: number;
    platform: string;
    arch: string;
  };
}

interface AddonPackage {
  version: string;
  binary?: { napi_versions?: number[] };
}

function addonPackage(name: string): AddonPackage {
  return JSON.parse(
    readFileSync(join(CHECKOUT, 'node_modules', name, 'package.json'), 'utf8'),
  ) as AddonPackage;
}

/** Packs one built addon file of the checkout as prebuild-install names and unpacks it. */
async function tarAddon(name: string, file: string, into: string, tag: string): Promise<void> {
  const pkgDir = join(CHECKOUT, 'node_modules', name);
  if (!existsSync(join(pkgDir, file))) return;
  const { version } = addonPackage(name);
  const target = join(into, `${name}-v${version}-${tag}.tar.gz`);
  const result = await run('tar', ['-czf', target, '-C', pkgDir, file], { cwd: into });
  if (result.code !== 0) throw new Error(described(`tar ${name}`, result));
}

/**
 * A folder of prebuilds for `node`: the checkout's N-API addon (zstd-napi, the same binary for
 * every Node), better-sqlite3 when the checkout was built for this Node's ABI, and whatever
 * PREBUILD_CACHE holds.
 */
async function localPrebuilds(node: string, dir: string): Promise<string> {
  const facts = await nodeFacts(node);
  const suffix = `${facts.platform}-${facts.arch}`;
  const prebuilds = join(dir, 'prebuilds');
  await mkdir(prebuilds, { recursive: true });
  const napi = Math.max(
    ...(addonPackage('zstd-napi').binary?.napi_versions ?? []).filter((v) => v <= facts.napi),
  );
  if (Number.isFinite(napi))
    await tarAddon('zstd-napi', 'build/Release/binding.node', prebuilds, `napi-v${napi}-${suffix}`);
  if (facts.modules === process.versions.modules)
    await tarAddon(
      'better-sqlite3',
      'build/Release/better_sqlite3.node',
      prebuilds,
      `node-v${facts.modules}-${suffix}`,
    );
  if (existsSync(PREBUILD_CACHE))
    for (const name of await readdir(PREBUILD_CACHE))
      if (!existsSync(join(prebuilds, name)))
        await copyFile(join(PREBUILD_CACHE, name), join(prebuilds, name));
  return prebuilds;
}

/**
 * Keeps the better-sqlite3 that an install under `node` compiled, as a prebuild for the next
 * install under a Node of the same ABI (nothing to do when it came from a prebuild already).
 */
export async function keepCompiledAddon(node: string, prefix: string): Promise<void> {
  const facts = await nodeFacts(node);
  const installed = join(prefix, 'lib', 'node_modules', 'mailvault', 'node_modules');
  const pkgDir = join(installed, 'better-sqlite3');
  const { version } = JSON.parse(
    readFileSync(join(pkgDir, 'package.json'), 'utf8'),
  ) as AddonPackage;
  const name = `better-sqlite3-v${version}-node-v${facts.modules}-${facts.platform}-${facts.arch}.tar.gz`;
  if (existsSync(join(PREBUILD_CACHE, name))) return;
  await mkdir(PREBUILD_CACHE, { recursive: true });
  const partial = join(PREBUILD_CACHE, `${name}.${process.pid}.partial`);
  const packed = await run(
    'tar',
    ['-czf', partial, '-C', pkgDir, 'build/Release/better_sqlite3.node'],
    { cwd: PREBUILD_CACHE },
  );
  if (packed.code !== 0) throw new Error(described('tar better-sqlite3', packed));
  const moved = await run('mv', [partial, join(PREBUILD_CACHE, name)], { cwd: PREBUILD_CACHE });
  if (moved.code !== 0) throw new Error(described('mv', moved));
}

/**
 * `npm install -g --prefix PREFIX --allow-scripts=... TARBALL`, run by `node` (npm's scripts and
 * node-gyp then build for that Node), from `cwd`. Dependencies come from npm's cache where it has
 * them, else from the registry.
 */
export async function installTarball(
  tarball: string,
  prefix: string,
  options: { node: string; cwd: string; timeoutMs: number },
): Promise<RunResult> {
  const env = cleanEnvironment(options.node);
  const headers = nodeDir(options.node);
  if (headers !== undefined) env.npm_config_nodedir = headers;
  await mkdir(join(prefix, 'lib'), { recursive: true });
  // prebuild-install looks for its settings in a .prebuild-installrc of any folder above the
  // package it installs (the install scripts' shell would drop an environment variable of that
  // name, which is not a shell identifier).
  const prebuilds = await localPrebuilds(options.node, prefix);
  await writeFile(join(prefix, '.prebuild-installrc'), `local-prebuilds=${prebuilds}\n`);
  return run(
    options.node,
    [
      npmCli(),
      'install',
      '--global',
      '--prefix',
      prefix,
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      `--allow-scripts=${ALLOWED_SCRIPTS.join(',')}`,
      tarball,
    ],
    { cwd: options.cwd, env, timeoutMs: options.timeoutMs },
  );
}
