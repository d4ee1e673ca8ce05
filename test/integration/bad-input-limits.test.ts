// Input at the edges: numbers YAML reads in every form (1e20, .nan, 0, -1), URLs the URL parser
// refuses without saying why, a configuration built to exhaust memory, a repository config no
// mailvault wrote. Each must give one line on stderr that says what and where, and the contract's
// exit code (2 bad usage or configuration, 1 the operation failed), never a stack trace.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../support/servers.js';
import { MAILVAULT_BIN, runNode, shown, type CliResult } from '../support/workspace.js';

/** The single line a failed command must print on stderr (and no stack trace). */
function oneLine(result: CliResult): string {
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  expect(lines, `exactly one line on stderr\n${shown(result)}`).toHaveLength(1);
  return lines[0] ?? '';
}

describe('bad input at the limits', () => {
  let dir: string;
  let variants = 0;

  /** A configuration with these lines in place of the defaults' (no server is contacted). */
  function yaml(options: { repository?: string; imap?: string; extra?: string } = {}): string {
    return [
      'repository:',
      `  url: ${options.repository ?? './repo'}`,
      '  passwordFile: ./repo.pass',
      'catalog: { url: ./catalog.sqlite }',
      'servers:',
      '  - name: mail1',
      `    imap: { host: 127.0.0.1, ${options.imap ?? 'port: 1'}, tls: none, auth: { mode: authzid, user: admin, passwordFile: ./repo.pass } }`,
      '    accounts: { list: [alice] }',
      options.extra ?? '',
    ].join('\n');
  }

  async function variant(text: string): Promise<string> {
    const path = join(dir, `variant-${++variants}.yml`);
    await writeFile(path, text);
    return path;
  }

  function cli(config: string, args: string[], nodeOptions: string[] = []): Promise<CliResult> {
    return runNode(
      [...nodeOptions, MAILVAULT_BIN, '--config', config, '--no-progress', ...args],
      {},
      60_000,
    );
  }

  /** Runs `args` on a configuration and expects exit 2 and one line matching every pattern. */
  async function refused(text: string, args: string[], patterns: RegExp[]): Promise<string> {
    const config = await variant(text);
    const result = await cli(config, args);
    expect(result.code, shown(result)).toBe(2);
    const line = oneLine(result);
    expect(line).toContain(config);
    for (const pattern of patterns) expect(line).toMatch(pattern);
    return line;
  }

  beforeAll(async () => {
    dir = await makeTempDir('mailvault-limits-');
    await writeFile(join(dir, 'repo.pass'), 'correct horse battery staple\n');
    const init = await cli(await variant(yaml()), ['init', '--scrypt-cost', '10']);
    expect(init.code, shown(init)).toBe(0);
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  describe('repository URLs', () => {
    it('an unknown scheme: exit 2, naming the key and the schemes there are', async () => {
      const line = await refused(
        yaml({ repository: 'ftp://backup.example.com/mail' }),
        ['snapshots'],
        [/repository\.url/, /unknown repository URL scheme ftp/, /sftp:\/\//, /s3:\/\//],
      );
      expect(line).not.toMatch(/^mailvault: error:/);
    });

    it('an sftp:// URL whose port is not a number: exit 2, naming the port, not "Invalid URL" alone', async () => {
      await refused(
        yaml({ repository: 'sftp://u@host:notaport/x' }),
        ['snapshots'],
        [/repository\.url/, /sftp:\/\/u@host:notaport\/x/, /the port "notaport" is not a number/],
      );
    });

    it('a port out of range, with a password in the URL: the password is not shown', async () => {
      const line = await refused(
        yaml({ repository: 'sftp://u:hunter2@host:99999/x' }),
        ['snapshots'],
        [/repository\.url/, /the port 99999 is not from 1 to 65535/],
      );
      expect(line).not.toContain('hunter2');
    });

    it('port 0, which the URL parser takes: exit 2', async () => {
      await refused(
        yaml({ repository: 'sftp://u@host:0/x' }),
        ['snapshots'],
        [/repository\.url/, /the port 0 is not from 1 to 65535/],
      );
    });
  });

  describe('numbers in the configuration', () => {
    it.each([
      ['1e20', '100000000000000000000'],
      ['.nan', 'NaN'],
      ['0', '0'],
      ['143.5', '143.5'],
      ['"143"', '"143"'],
    ])('IMAP port %s: exit 2, naming the key, the range and the value', async (port, shownAs) => {
      await refused(
        yaml({ imap: `port: ${port}` }),
        ['snapshots'],
        [
          /servers\[0\]\.imap\.port: a port number from 1 to 65535, not /,
          new RegExp(`not ${escape(shownAs)}$`),
        ],
      );
    });

    it('an IMAP timeout beyond what a timer can wait (it would fire at once): exit 2', async () => {
      await refused(
        yaml({ imap: 'port: 143, timeout: 1e20' }),
        ['snapshots'],
        [/servers\[0\]\.imap\.timeout: a number of seconds above 0 and at most 86400/],
      );
    });

    it.each([
      [
        'backup: { concurrency: 1e99 }',
        /backup\.concurrency: a whole number from 1 to 64, not 1e\+99/,
      ],
      ['restore: { batchSize: -1 }', /restore\.batchSize: a whole number from 1 to 1000, not -1/],
      ['retention: { keepDaily: 1e20 }', /retention\.keepDaily: a whole number from 0 to 1000000/],
      [
        'retention: { keepLast: 2.5 }',
        /retention\.keepLast: a whole number from 0 to 1000000, not 2\.5/,
      ],
      [
        'notify: { smtp: { host: h, port: 1e20, from: a@b }, admins: [a@b] }',
        /notify\.smtp\.port: a port number/,
      ],
      ['serve: { healthPort: -80 }', /serve\.healthPort: a port number from 1 to 65535, not -80/],
      [
        'serve: { checkReadDataSubset: "500%" }',
        /serve\.checkReadDataSubset: a percentage above 0% and at most 100%, not 500%/,
      ],
    ])('%s: exit 2, naming the key and the range', async (extra, pattern) => {
      await refused(yaml({ extra }), ['snapshots'], [pattern]);
    });
  });

  it('a YAML alias bomb: exit 2 at once, in bounded memory, naming the file', async () => {
    // Ten lines that expand to 9^10 (3.5 billion) strings if the aliases are followed.
    const lines = ['  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < 10; i++)
      lines.push(`  a${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(', ')}]`);
    const config = await variant(`${yaml()}\nbomb:\n${lines.join('\n')}\n`);
    const started = Date.now();
    // A heap of 64 MB: expanding even a small part of the bomb would end the process.
    const result = await cli(config, ['snapshots'], ['--max-old-space-size=64']);
    expect(result.code, shown(result)).toBe(2);
    expect(Date.now() - started).toBeLessThan(20_000);
    const line = oneLine(result);
    expect(line).toContain(config);
    expect(line).toMatch(/aliases .* expand too far/);
  });

  it('search --limit 1e99 (and other numbers that are not a count): exit 2, naming the option', async () => {
    const config = await variant(yaml());
    for (const limit of ['1e99', '0', '-5', '2.5', 'ten', '0x10']) {
      const result = await cli(config, ['search', '--subject', 'x', '--limit', limit]);
      expect(result.code, `--limit ${limit}\n${shown(result)}`).toBe(2);
      expect(oneLine(result)).toBe(
        `mailvault: --limit: a whole number from 1 to 1000000000, not ${JSON.stringify(limit)}`,
      );
    }
    const fine = await cli(config, ['search', '--subject', 'x', '--limit', '1000000000']);
    expect(fine.code, shown(fine)).toBe(0);
  });

  it('a bad repository URL on the command line (copy --to, restore external --repo): exit 2, naming the URL', async () => {
    const config = await variant(yaml());
    const copy = await cli(config, ['copy', '--to', 'ftp://backup.example/x']);
    expect(copy.code, shown(copy)).toBe(2);
    expect(oneLine(copy)).toMatch(
      /^mailvault: ftp:\/\/backup\.example\/x: unknown repository URL scheme ftp/,
    );
    const external = await cli(config, [
      'restore',
      'external',
      '--repo',
      'sftp://u@host:notaport/x',
      '--password-file',
      join(dir, 'repo.pass'),
    ]);
    expect(external.code, shown(external)).toBe(2);
    expect(oneLine(external)).toMatch(
      /^mailvault: sftp:\/\/u@host:notaport\/x: .*"notaport" is not a number/,
    );
  });

  it('serve with a bad time zone names schedule.timezone once, not behind schedule.backup', async () => {
    const config = await variant(
      yaml({ extra: 'schedule: { timezone: Mars/Olympus, backup: "0 1 * * *" }' }),
    );
    const result = await cli(config, ['serve']);
    expect(result.code, shown(result)).toBe(2);
    const line = oneLine(result);
    expect(line).toBe(
      `mailvault: ${config}: schedule.timezone: "Mars/Olympus" is not a time zone; use an IANA name such as Europe/Paris or UTC`,
    );
  });

  describe('a repository config with chunker sizes no mailvault writes: every command refuses it, naming the file', () => {
    it.each([
      ['maxSize 1 TiB', { minSize: 32768, avgSize: 131072, maxSize: 2 ** 40 }],
      ['minSize 0', { minSize: 0, avgSize: 131072, maxSize: 1048576 }],
      ['avgSize not a power of two', { minSize: 32768, avgSize: 100000, maxSize: 1048576 }],
      ['sizes as text', { minSize: '32768', avgSize: 131072, maxSize: 1048576 }],
      ['no chunker at all', undefined],
    ])('%s', async (_name, chunker) => {
      const repository = join(dir, `repo-chunker-${++variants}`);
      const config = await variant(yaml({ repository }));
      const init = await cli(config, ['init', '--scrypt-cost', '10']);
      expect(init.code, shown(init)).toBe(0);
      const file = join(repository, 'config');
      const parsed = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      await writeFile(file, JSON.stringify({ ...parsed, chunker }));
      for (const args of [['snapshots'], ['backup']]) {
        const result = await cli(config, args);
        expect(result.code, `${args.join(' ')}\n${shown(result)}`).toBe(1);
        const line = oneLine(result);
        expect(line).toContain(repository);
        expect(line).toMatch(/config file has invalid chunker parameters/);
      }
    });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
