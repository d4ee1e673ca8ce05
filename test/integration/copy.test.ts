// Offsite copies: back up two Dovecot accounts, `copy` them to a local folder and to S3 (s3rver),
// each destination with its own passphrase; verify every object of each copy, restore from it
// into another account and get the same mail; a second copy sends only what is new; --account
// limits; a wrong destination passphrase and a repository with another master key are refused.
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox, readAccount, type AccountState, mailOf } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { haveS3rver, startS3rver, type S3rverServer } from '../support/s3.js';
import {
  configYaml,
  createWorkspace,
  runCli,
  type CliResult,
  type Workspace,
  shown,
} from '../support/workspace.js';

interface CopyJson {
  created: boolean;
  snapshots: { copied: number; skipped: number; failed: number };
  objects: number;
  bytes: number;
  packs: number;
  wholePacks: number;
  seconds: number;
}

describe.skipIf(!haveDovecot || !haveS3rver)('copy to another repository', () => {
  let server: DovecotServer;
  let s3: S3rverServer;
  let ws: Workspace;
  let aliceBefore: AccountState;
  let localCopy: string;
  let s3Url: string;
  let s3Keys: string[];
  /** Configurations pointing at each copy, with its passphrase and a catalog of its own. */
  let localConfig: string;
  let s3Config: string;

  const copy = (to: string, ...args: string[]): Promise<CliResult> =>
    ws.run(['copy', '--to', to, '--to-password-file', join(ws.dir, 'offsite.pass'), ...args]);
  const copyJson = async (to: string, ...args: string[]): Promise<CopyJson> => {
    const result = await copy(to, ...args, '--json');
    expect(result.code, shown(result)).toBe(0);
    return result.json<CopyJson>();
  };
  const objectsIn = async (config: string): Promise<number> => {
    const stats = await runCli(config, ['stats', '--json']);
    expect(stats.code, shown(stats)).toBe(0);
    return stats.json<{ objects: number }>().objects;
  };
  /** A configuration beside the workspace's, naming `url` with the offsite passphrase. */
  const destinationConfig = async (name: string, url: string, extra: string[] = []) => {
    const yaml = configYaml(server, ws.dir, {
      accounts: ['alice', 'bob'],
      repository: { url, extra },
    })
      .replace(join(ws.dir, 'repo.pass'), join(ws.dir, 'offsite.pass'))
      .replace(join(ws.dir, 'catalog.sqlite'), join(ws.dir, `${name}.sqlite`));
    const path = join(ws.dir, `${name}.yml`);
    await writeFile(path, yaml);
    return path;
  };
  const verifyAndRestore = async (config: string, into: string): Promise<void> => {
    const check = await runCli(config, ['check', '--read-data']);
    expect(check.code, shown(check)).toBe(0);
    const restore = await runCli(config, ['restore', 'account', 'alice', '--to-account', into]);
    expect(restore.code, shown(restore)).toBe(0);
    expect(mailOf(await readAccount(server, into))).toEqual(mailOf(aliceBefore));
  };

  beforeAll(async () => {
    server = await startDovecot({
      users: { alice: 'x', bob: 'x', fromlocal: 'x', froms3: 'x' },
    });
    s3 = await startS3rver({ buckets: ['offsite'] });
    ws = await createWorkspace(server, { accounts: ['alice', 'bob'] });
    await writeFile(join(ws.dir, 'offsite.pass'), 'an offsite passphrase\n');
    await writeFile(join(ws.dir, 'wrong.pass'), 'not the offsite passphrase\n');
    const keys = join(ws.dir, 's3-keys');
    await mkdir(keys);
    await writeFile(join(keys, 'id'), `${s3.accessKeyId}\n`);
    await writeFile(join(keys, 'secret'), `${s3.secretAccessKey}\n`);
    s3Keys = [
      '--to-s3-access-key-id-file',
      join(keys, 'id'),
      '--to-s3-secret-access-key-file',
      join(keys, 'secret'),
    ];
    s3Url = `s3://offsite/mail/vault?endpoint=${s3.endpoint}&region=us-east-1&pathStyle=true`;
    localCopy = join(ws.dir, 'offsite');
    localConfig = await destinationConfig('local-copy', localCopy);
    s3Config = await destinationConfig('s3-copy', s3Url, [
      `s3: { accessKeyIdFile: ${join(keys, 'id')}, secretAccessKeyFile: ${join(keys, 'secret')} }`,
    ]);
    await fillMailbox(server, 'alice', {
      INBOX: generateMessages({ tag: 'in', count: 120, largeEvery: 10 }),
      Archive: generateMessages({ tag: 'ar', count: 40 }),
    });
    await fillMailbox(server, 'bob', { INBOX: generateMessages({ tag: 'bob', count: 30 }) });
    const init = await ws.run(['init', '--scrypt-cost', '12']);
    expect(init.code, shown(init)).toBe(0);
    const backup = await ws.run(['backup']);
    expect(backup.code, shown(backup)).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    await s3?.stop();
    await ws?.remove();
  });

  it('creates a local copy with its own passphrase, verified and restorable', async () => {
    aliceBefore = await readAccount(server, 'alice');
    const first = await copyJson(localCopy);
    expect(first.created).toBe(true);
    expect(first.snapshots).toEqual({ copied: 2, skipped: 0, failed: 0 });
    expect(first.objects).toBe(await objectsIn(ws.config));
    // One backup's packs hold only what its snapshots need: every one goes whole.
    expect(first.wholePacks).toBe(first.packs);
    await verifyAndRestore(localConfig, 'fromlocal');
  });

  it('sends only the new objects the next time', async () => {
    const again = await copyJson(localCopy);
    expect(again.snapshots).toEqual({ copied: 0, skipped: 2, failed: 0 });
    expect(again.objects).toBe(0);

    const before = await objectsIn(ws.config);
    await fillMailbox(server, 'alice', { INBOX: generateMessages({ tag: 'new', count: 3 }) });
    const backup = await ws.run(['backup']);
    expect(backup.code, shown(backup)).toBe(0);
    const added = (await objectsIn(ws.config)) - before;
    expect(added).toBeGreaterThan(0);

    const incremental = await copyJson(localCopy);
    expect(incremental.snapshots).toEqual({ copied: 2, skipped: 2, failed: 0 });
    expect(incremental.objects).toBe(added);
    expect(await objectsIn(localConfig)).toBe(await objectsIn(ws.config));
    // Moved: the configuration now names the copy, and the catalog stays as it was.
    const moved = join(ws.dir, 'moved.yml');
    await writeFile(
      moved,
      (await readFile(ws.config, 'utf8'))
        .replace(`url: ${ws.repository}`, `url: ${localCopy}`)
        .replace(join(ws.dir, 'repo.pass'), join(ws.dir, 'offsite.pass')),
    );
    const listed = await runCli(moved, ['snapshots', '--json']);
    expect(listed.code, shown(listed)).toBe(0);
    expect(listed.json<unknown[]>()).toHaveLength(4);
    console.log(
      `incremental copy: ${incremental.objects} objects (the backup added ${added}), ${incremental.bytes} bytes`,
    );
  });

  it('copies only the accounts asked for, then the rest, to S3', async () => {
    const bobOnly = await copyJson(s3Url, '--account', 'bob', ...s3Keys);
    expect(bobOnly.created).toBe(true);
    expect(bobOnly.snapshots).toEqual({ copied: 2, skipped: 0, failed: 0 });
    const snapshots = await runCli(s3Config, ['snapshots', '--json']);
    expect(snapshots.code, shown(snapshots)).toBe(0);
    const accounts = snapshots.json<Array<{ account: string }>>().map((s) => s.account);
    expect(new Set(accounts)).toEqual(new Set(['bob']));

    aliceBefore = await readAccount(server, 'alice');
    const rest = await copyJson(s3Url, ...s3Keys);
    expect(rest.snapshots).toEqual({ copied: 2, skipped: 2, failed: 0 });
    console.log(
      `copy local → S3 (s3rver): ${rest.objects} objects, ${rest.bytes} bytes in ${rest.seconds} s, ` +
        `${(rest.bytes / 1024 / 1024 / rest.seconds).toFixed(1)} MiB/s`,
    );
    await verifyAndRestore(s3Config, 'froms3');
  });

  it('refuses an account with no snapshot, a wrong passphrase and another master key', async () => {
    const listing = async (): Promise<string[]> =>
      (await readdir(join(localCopy, 'snapshots'))).sort();
    const before = await listing();

    const unknown = await copy(localCopy, '--account', 'nobody');
    expect(unknown.code, shown(unknown)).toBe(2);
    expect(unknown.stderr).toMatch(/no snapshot of nobody/);

    const wrong = await ws.run([
      'copy',
      '--to',
      localCopy,
      '--to-password-file',
      join(ws.dir, 'wrong.pass'),
    ]);
    expect(wrong.code, shown(wrong)).toBe(1);
    expect(wrong.stderr).toMatch(/wrong passphrase .*--to-password-file/);

    const other = join(ws.dir, 'unrelated');
    const otherConfig = await destinationConfig('unrelated', other);
    const init = await runCli(otherConfig, ['init', '--scrypt-cost', '10']);
    expect(init.code, shown(init)).toBe(0);
    const foreign = await copy(other);
    expect(foreign.code, shown(foreign)).toBe(2);
    expect(foreign.stderr).toMatch(/another master key.*copy to an empty location/);
    expect(await readdir(join(other, 'snapshots'))).toEqual([]);
    expect(await listing()).toEqual(before);
  });
});
