// Several passphrases on one repository, through the real CLI on a local repository: a second
// passphrase opens it like the first, a removed one no longer does, the last key and the key in
// use are protected, and `key passwd` changes the passphrase without a moment with no key.
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../support/servers.js';
import { runCli, type CliResult } from '../support/workspace.js';

interface KeyRow {
  id: string;
  created: string;
  hostname: string | null;
  username: string | null;
  scryptCost: number;
  readable: boolean;
  current: boolean;
}

/** The value a test expects to be there, or a failure that says so. */
function present<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`no ${what}`);
  return value;
}

const shown = (result: CliResult): string =>
  `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;

describe('repository passphrases (mailvault key)', () => {
  let dir: string;
  /** A configuration whose passphrase comes from $MAILVAULT_PASSWORD, for trying each one. */
  let config: string;
  const withPassphrase = (passphrase: string, args: string[]): Promise<CliResult> =>
    runCli(config, args, { env: { MAILVAULT_PASSWORD: passphrase } });
  const keysOpenedBy = async (passphrase: string): Promise<KeyRow[]> => {
    const result = await withPassphrase(passphrase, ['key', 'list', '--json']);
    expect(result.code, shown(result)).toBe(0);
    return result.json<KeyRow[]>();
  };

  beforeAll(async () => {
    dir = await makeTempDir('mailvault-keys-');
    config = join(dir, 'mailvault.yml');
    await writeFile(config, `repository:\n  url: ${join(dir, 'repo')}\n`);
    for (const name of ['first', 'second', 'third'])
      await writeFile(join(dir, `${name}.pass`), `${name} passphrase\n`);
    const init = await withPassphrase('first passphrase', ['init', '--scrypt-cost', '10']);
    expect(init.code, shown(init)).toBe(0);
  });

  afterAll(async () => {
    await removeTempDir(dir);
  });

  it('adds a second passphrase; either opens the repository and the list shows both', async () => {
    const add = await withPassphrase('first passphrase', [
      'key',
      'add',
      '--new-password-file',
      join(dir, 'second.pass'),
      '--json',
    ]);
    expect(add.code, shown(add)).toBe(0);
    const added = add.json<{ added: string; scryptCost: number }>();
    // The new key takes the cost of the key in use unless told otherwise.
    expect(added.scryptCost).toBe(10);

    const byFirst = await keysOpenedBy('first passphrase');
    const bySecond = await keysOpenedBy('second passphrase');
    expect(byFirst.map((key) => key.id).sort()).toEqual(bySecond.map((key) => key.id).sort());
    expect(byFirst).toHaveLength(2);
    expect(bySecond.find((key) => key.current)?.id).toBe(added.added);
    expect(byFirst.find((key) => key.current)?.id).not.toBe(added.added);
    for (const key of byFirst) {
      expect(key).toMatchObject({ scryptCost: 10, readable: true });
      expect(Number.isNaN(Date.parse(key.created))).toBe(false);
    }
    // Keys share one master key: what one passphrase reads, the other reads too.
    const human = await withPassphrase('second passphrase', ['key', 'list']);
    expect(human.stdout).toMatch(new RegExp(`^\\*\\s+${added.added.slice(0, 12)}`, 'm'));
  });

  it('refuses to remove the key in use without --force, and an unknown id', async () => {
    const current = present(
      (await keysOpenedBy('first passphrase')).find((key) => key.current),
      'current key',
    );
    const refused = await withPassphrase('first passphrase', ['key', 'remove', current.id]);
    expect(refused.code, shown(refused)).toBe(2);
    expect(refused.stderr).toMatch(/the current passphrase opened.*key passwd/);
    const unknown = await withPassphrase('first passphrase', ['key', 'remove', 'ffffffffff']);
    expect(unknown.code, shown(unknown)).toBe(2);
    expect(unknown.stderr).toMatch(/no key ffffffffff/);
    expect(await keysOpenedBy('first passphrase')).toHaveLength(2);
  });

  it('removes a key (by a prefix of its id): its passphrase is refused from then on', async () => {
    const keys = await keysOpenedBy('first passphrase');
    const second = present(
      keys.find((key) => !key.current),
      'second key',
    );
    const remove = await withPassphrase('first passphrase', [
      'key',
      'remove',
      second.id.slice(0, 8),
    ]);
    expect(remove.code, shown(remove)).toBe(0);
    expect(remove.stdout).toContain(`removed key ${second.id.slice(0, 12)}`);
    const refused = await withPassphrase('second passphrase', ['key', 'list']);
    expect(refused.code, shown(refused)).toBe(1);
    expect(refused.stderr).toMatch(/wrong passphrase/);
    expect(await keysOpenedBy('first passphrase')).toHaveLength(1);
  });

  it('never removes the last key, not even with --force', async () => {
    const only = present((await keysOpenedBy('first passphrase'))[0], 'key');
    for (const args of [[], ['--force']]) {
      const refused = await withPassphrase('first passphrase', ['key', 'remove', only.id, ...args]);
      expect(refused.code, shown(refused)).toBe(2);
      expect(refused.stderr).toMatch(/last key: without it nobody could open the repository/);
    }
    expect(await readdir(join(dir, 'repo', 'keys'))).toEqual([only.id]);
  });

  it('changes the passphrase with passwd: the new one opens, the old one is refused', async () => {
    const passwd = await withPassphrase('first passphrase', [
      'key',
      'passwd',
      '--new-password-file',
      join(dir, 'third.pass'),
      '--json',
    ]);
    expect(passwd.code, shown(passwd)).toBe(0);
    const { added, removed } = passwd.json<{ added: string; removed: string }>();
    const keys = await keysOpenedBy('third passphrase');
    expect(keys.map((key) => key.id)).toEqual([added]);
    expect(removed).not.toBe(added);
    const old = await withPassphrase('first passphrase', ['key', 'list']);
    expect(old.code, shown(old)).toBe(1);
  });

  it('asks for the new passphrase nowhere when there is no terminal: bad usage', async () => {
    const result = await withPassphrase('third passphrase', ['key', 'add']);
    expect(result.code, shown(result)).toBe(2);
    expect(result.stderr).toMatch(/no new passphrase: give --new-password-file/);
    expect(await keysOpenedBy('third passphrase')).toHaveLength(1);
  });

  it('with --force removes the key in use once another passphrase exists', async () => {
    const added = await runCli(config, ['key', 'add', '--json'], {
      env: { MAILVAULT_PASSWORD: 'third passphrase', MAILVAULT_NEW_PASSWORD: 'fourth passphrase' },
    });
    expect(added.code, shown(added)).toBe(0);
    const current = present(
      (await keysOpenedBy('third passphrase')).find((key) => key.current),
      'current key',
    );
    const forced = await withPassphrase('third passphrase', [
      'key',
      'remove',
      current.id,
      '--force',
    ]);
    expect(forced.code, shown(forced)).toBe(0);
    expect(await keysOpenedBy('fourth passphrase')).toHaveLength(1);
  });
});
