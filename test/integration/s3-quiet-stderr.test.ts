// What a command on an S3 repository prints on stderr is mailvault's alone: the AWS SDK's notice
// that its later releases need a newer Node (printed by every process on Node 20, once the first
// S3 client is built) is not the administrator's business. Every command below succeeds on a
// repository on s3rver, and its stderr holds mailvault's own notes alone.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveS3rver, startS3rver, type S3rverServer } from '../support/s3.js';
import { makeTempDir, removeTempDir } from '../support/servers.js';
import { runCli, shown, type CliResult } from '../support/workspace.js';

/**
 * What reached stderr from somewhere other than mailvault: Node prints a warning that any code
 * emits (process.emitWarning) as "(node:PID) ...", and the AWS SDK names itself.
 */
function foreignLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => /^\(node:\d+\)|AWS SDK/.test(line));
}

describe.skipIf(!haveS3rver)('commands on an S3 repository', () => {
  let s3: S3rverServer;
  let dir: string;
  let config: string;
  // Each command in a process of its own: the notice is per process, and printed by Node itself.
  const cli = (...args: string[]): Promise<CliResult> => runCli(config, args, { process: true });

  beforeAll(async () => {
    s3 = await startS3rver({ buckets: ['backups'] });
    dir = await makeTempDir('s3-stderr');
    const data = join(dir, 'etc-app');
    await mkdir(data);
    await writeFile(join(data, 'app.conf'), 'listen = 127.0.0.1\n');
    await writeFile(join(dir, 'id'), `${s3.accessKeyId}\n`);
    await writeFile(join(dir, 'secret'), `${s3.secretAccessKey}\n`);
    await writeFile(join(dir, 'repo.pass'), 'correct horse battery staple\n');
    config = join(dir, 'mailvault.yml');
    await writeFile(
      config,
      [
        'repository:',
        `  url: s3://backups/vault?endpoint=${s3.endpoint}&region=us-east-1&pathStyle=true`,
        `  passwordFile: ${join(dir, 'repo.pass')}`,
        `  s3: { accessKeyIdFile: ${join(dir, 'id')}, secretAccessKeyFile: ${join(dir, 'secret')} }`,
        'catalog:',
        `  url: ${join(dir, 'catalog.sqlite')}`,
        'servers: []',
        'files:',
        '  - name: app-config',
        `    include: [${JSON.stringify(data)}]`,
        '',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    await s3?.stop();
    if (dir) await removeTempDir(dir);
  });

  it('print no warning of a dependency on stderr', async () => {
    for (const args of [
      ['init', '--scrypt-cost', '10'],
      ['backup'],
      ['snapshots'],
      ['check', '--read-data'],
    ]) {
      const result = await cli(...args);
      expect(result.code, `${args.join(' ')}: ${shown(result)}`).toBe(0);
      expect(foreignLines(result.stderr), `${args.join(' ')}: ${shown(result)}`).toEqual([]);
    }
    // The commands did their work: the snapshot is listed.
    expect((await cli('snapshots')).stdout).toContain('files/app-config');
  });
});
