// A support bundle of a mail server's configuration, through the real CLI: the corpus of
// test/fixtures/secrets/ (Dovecot, Postfix, LDAP, webmail, MySQL, JSON, XML, env files, scripts,
// nginx...) laid out as a server holds it, backed up as a file set and bundled. No secret the
// corpus lists may be anywhere in the bundle, its manifest or the command's output; the ordinary
// values a supporter needs (host names, ports, paths, users) must be there as written; private
// keys, secret files and binary files are left out and named with the reason.
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../support/servers.js';
import { corpusFiles, SECRETS_CORPUS, type CorpusFile } from '../support/secrets-corpus.js';
import { runCli, shown, type CliResult } from '../support/workspace.js';
import { zipEntries } from '../support/zip-entries.js';

interface BundleJson {
  files: number;
  redacted: Array<{ path: string; redactions: Array<{ line: number; what: string }> }>;
  leftOut: Array<{ path: string; reason: string }>;
}

/** A Berkeley DB map as postmap writes it: binary, with the relay password inside. */
const BINARY_MAP = Buffer.concat([
  Buffer.from([0x00, 0x06, 0x15, 0x61, 0x00, 0x00, 0x00, 0x00]),
  Buffer.from('[smtp.relay.example.net]:587\0relay-mx1@example.org:Db-Map-Binary-Pw-7\0'),
]);

describe('support bundle of a mail server configuration with secrets', () => {
  const files = corpusFiles();
  let dir: string;
  let server: string;
  let config: string;
  let text: CliResult;
  let json: CliResult;
  let entries: Map<string, Buffer>;
  const cli = (...args: string[]): Promise<CliResult> =>
    runCli(config, args, { timeoutMs: 180_000 });
  /** Where a corpus file lies in the bundle: below the set's name, by its absolute path. */
  const inBundle = (file: CorpusFile): string => `server${join(server, file.path)}`;

  beforeAll(async () => {
    dir = await makeTempDir('support-bundle-secrets');
    server = join(dir, 'server');
    await mkdir(server);
    await cp(SECRETS_CORPUS, server, {
      recursive: true,
      filter: (source) => !source.endsWith('.expect'),
    });
    await writeFile(join(server, 'etc/postfix/sasl_passwd.db'), BINARY_MAP);
    await writeFile(join(dir, 'repo.pass'), 'correct horse battery staple\n');
    config = join(dir, 'mailvault.yml');
    await writeFile(
      config,
      [
        'repository:',
        `  url: ${join(dir, 'repo')}`,
        `  passwordFile: ${join(dir, 'repo.pass')}`,
        'catalog:',
        `  url: ${join(dir, 'catalog.sqlite')}`,
        'servers: []',
        'files:',
        '  - name: server',
        `    include: [${JSON.stringify(server)}]`,
        '',
      ].join('\n'),
    );
    const init = await cli('init', '--scrypt-cost', '10');
    expect(init.code, shown(init)).toBe(0);
    const backup = await cli('backup');
    expect(backup.code, shown(backup)).toBe(0);
    text = await cli('support-bundle', '--output', join(dir, 'bundle.zip'));
    json = await cli('--json', 'support-bundle', '--output', join(dir, 'bundle.zip'), '--force');
    entries = zipEntries(join(dir, 'bundle.zip'));
  }, 400_000);

  afterAll(async () => {
    if (dir) await removeTempDir(dir);
  });

  it('writes the bundle', () => {
    expect(text.code, shown(text)).toBe(0);
    expect(json.code, shown(json)).toBe(0);
    expect(text.stdout).toMatch(
      /^wrote .*bundle\.zip: \d+ files, \d+ with values redacted, 5 left out/m,
    );
  });

  it('holds no secret of the corpus anywhere: files, manifest, output', () => {
    const secrets = [...files.flatMap((file) => file.secrets), 'Db-Map-Binary-Pw-7'];
    const found: string[] = [];
    for (const [name, bytes] of entries)
      for (const secret of secrets) if (bytes.includes(secret)) found.push(`${name}: ${secret}`);
    for (const [name, output] of [
      ['text output', text.stdout + text.stderr],
      ['--json output', json.stdout + json.stderr],
    ] as const)
      for (const secret of secrets) if (output.includes(secret)) found.push(`${name}: ${secret}`);
    expect(found).toEqual([]);
  });

  it('keeps what a supporter needs, as written', () => {
    const lost: string[] = [];
    for (const file of files.filter((each) => each.leftOut === null)) {
      const content = entries.get(inBundle(file))?.toString('utf8');
      if (content === undefined) lost.push(`${file.path}: not in the bundle`);
      else
        for (const value of file.keep)
          if (!content.includes(value)) lost.push(`${file.path}: ${value}`);
    }
    expect(lost).toEqual([]);
  });

  it('leaves out private keys, secret files and binary maps, and says why in MANIFEST.txt', () => {
    const manifest = entries.get('MANIFEST.txt')?.toString('utf8') ?? '';
    const leftOut = files.filter((file) => file.leftOut !== null);
    expect(leftOut.length).toBeGreaterThan(0);
    for (const file of leftOut) {
      expect(entries.has(inBundle(file)), file.path).toBe(false);
      expect(manifest).toContain(`${inBundle(file)}: ${file.leftOut}`);
    }
    const map = `server${join(server, 'etc/postfix/sasl_passwd.db')}`;
    expect(entries.has(map)).toBe(false);
    expect(manifest).toContain(`${map}: binary (it cannot be checked for secrets)`);
    expect(
      json
        .json<BundleJson>()
        .leftOut.map((file) => file.path)
        .sort(),
    ).toEqual([...leftOut.map(inBundle), map].sort());
  });

  it('names every redaction by file, line and key in the manifest, never by value', () => {
    const manifest = entries.get('MANIFEST.txt')?.toString('utf8') ?? '';
    const report = json.json<BundleJson>();
    const redactedFiles = new Set(report.redacted.map((file) => file.path));
    for (const file of files.filter((each) => each.leftOut === null && each.secrets.length > 0))
      expect(redactedFiles.has(inBundle(file)), file.path).toBe(true);
    expect(manifest).toContain(
      `${inBundle({ path: 'etc/dovecot/dovecot-sql.conf.ext', secrets: [], keep: [], leftOut: null })}: line 5 (password)`,
    );
    expect(manifest).toMatch(
      /settings\.json: line 1 \(apiKey\), line 1 \(client_secret\), line 1 \(pass\), line 1 \(password\)/,
    );
    expect(text.stdout).toMatch(/^REDACTED {2}".*\/etc\/app\/settings\.json": 4 value\(s\)$/m);
  });
});
