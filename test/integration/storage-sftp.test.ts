// The SFTP backend against a real OpenSSH sshd: the storage contract, then what only a remote
// backend has to get right — host keys, logins, and a connection that drops.
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/storage/open-storage.js';
import { openSftpStorage, type SftpOptions } from '../../src/storage/sftp/open-sftp.js';
import { StorageError, type FileHandle, type Storage } from '../../src/storage/storage.js';
import { sleep } from '../support/servers.js';
import { SSH_KEYGEN, haveSshd, startSshd, type SshdServer } from '../support/sshd.js';
import { storageContract } from '../support/storage-contract.js';

const execFileAsync = promisify(execFile);
const hexName = (seed: string): string => createHash('sha256').update(seed).digest('hex');

async function failure(promise: Promise<unknown>): Promise<StorageError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof StorageError)) throw new Error(`expected a StorageError, got ${error}`);
  return error;
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** The SHA256 fingerprint ssh-keygen gives for a public key file. */
async function fingerprintOf(publicKeyFile: string): Promise<string> {
  const { stdout } = await execFileAsync(SSH_KEYGEN.path, ['-l', '-f', publicKeyFile]);
  return stdout.split(' ')[1] ?? '';
}

describe.skipIf(!haveSshd)('SFTP storage against OpenSSH', () => {
  let server: SshdServer;
  let repositories = 0;
  const open: Storage[] = [];

  /** A storage for a fresh folder under the server's root, reached with the authorized key. */
  function storageFor(options: SftpOptions = {}, url?: string): Storage {
    const folder = join(server.sftpRoot, `repo-${++repositories}`);
    const storage = openSftpStorage(
      new URL(url ?? `sftp://${server.user}@127.0.0.1:${server.port}${folder}`),
      { keyFile: server.clientKeyFile, knownHostsFile: server.knownHostsFile, ...options },
      server.dir,
    );
    open.push(storage);
    return storage;
  }

  /** The folder a storage made by storageFor keeps its files in, as the server's disk has it. */
  const folderOf = (storage: Storage): string => new URL(storage.location).pathname;

  beforeAll(async () => {
    server = await startSshd();
  });
  afterAll(async () => {
    await Promise.all(open.map((storage) => storage.close()));
    await server?.stop();
  });

  describe('keeps the storage contract', () => {
    storageContract(async () => {
      const folder = join(server.sftpRoot, `contract-${++repositories}`);
      // A password in the URL too: the contract checks it never shows in the location.
      const storage = openSftpStorage(
        new URL(`sftp://${server.user}:not-shown@127.0.0.1:${server.port}${folder}`),
        { keyFile: server.clientKeyFile, knownHostsFile: server.knownHostsFile },
        server.dir,
      );
      return {
        storage,
        // The server's disk is this machine's.
        leaveTemporary: async (path, data) => {
          await mkdir(join(folder, path, '..'), { recursive: true });
          await writeFile(join(folder, path), data);
        },
        cleanup: () => rm(folder, { recursive: true, force: true }),
      };
    });
  });

  describe('layout and listing', () => {
    it('lays files out as the local backend does, making data/XX on demand', async () => {
      const storage = storageFor();
      await storage.create();
      const root = folderOf(storage);
      expect(readdirSync(root).sort()).toEqual([
        'condemned',
        'data',
        'index',
        'keys',
        'locks',
        'runs',
        'snapshots',
      ]);
      expect(readdirSync(join(root, 'data'))).toEqual([]);
      const pack = hexName('pack');
      await storage.save({ kind: 'config', name: '' }, Buffer.from('{}'));
      await storage.save({ kind: 'data', name: pack }, Buffer.from('pack'));
      await storage.save({ kind: 'keys', name: hexName('key') }, Buffer.from('key'));
      await storage.save({ kind: 'locks', name: 'host-1' }, Buffer.from('lock'));
      expect(readdirSync(join(root, 'data'))).toEqual([pack.slice(0, 2)]);
      expect(await readFile(join(root, 'data', pack.slice(0, 2), pack), 'utf8')).toBe('pack');
      expect(existsSync(join(root, 'config'))).toBe(true);
      expect(existsSync(join(root, 'locks', 'host-1'))).toBe(true);
      // Only the owner reads repository files, as with the local backend.
      expect(statSync(join(root, 'keys', hexName('key'))).mode & 0o077).toBe(0);
    });

    it('never lists the temporary files of an interrupted save, nor strays', async () => {
      const storage = storageFor();
      await storage.create();
      const root = folderOf(storage);
      const snapshot = hexName('snapshot');
      await storage.save({ kind: 'snapshots', name: snapshot }, Buffer.from('s'));
      await writeFile(join(root, 'snapshots', '.tmp-0123456789abcdef'), 'half');
      await mkdir(join(root, 'data', '00'));
      await writeFile(join(root, 'data', '00', '.tmp-0123456789abcdef'), 'half a pack');
      await writeFile(join(root, 'data', hexName('outside')), 'not in a sub-folder');
      await mkdir(join(root, 'snapshots', hexName('a folder')));
      expect(await all(storage.names('snapshots'))).toEqual([snapshot]);
      expect(await all(storage.list('snapshots'))).toEqual([{ name: snapshot, size: 1 }]);
      expect(await all(storage.names('data'))).toEqual([]);
    });

    it('refuses a name that could leave its folder', async () => {
      const storage = storageFor();
      await storage.create();
      for (const name of ['../config', 'a/b', '', '..'])
        await expect(storage.save({ kind: 'index', name }, Buffer.from('x'))).rejects.toThrow(
          /invalid file name/,
        );
    });

    it('says permission denied where the server refuses, and that retrying will not help', async () => {
      // A read-only server (internal-sftp -R): file modes would not stop a test run as root.
      const readOnly = await startSshd({ readOnly: true });
      try {
        const root = join(readOnly.sftpRoot, 'repo');
        await mkdir(join(root, 'index'), { recursive: true });
        await writeFile(join(root, 'config'), '{}');
        const url = `sftp://${readOnly.user}@127.0.0.1:${readOnly.port}${root}`;
        const options = {
          keyFile: readOnly.clientKeyFile,
          knownHostsFile: readOnly.knownHostsFile,
        };
        const storage = openSftpStorage(new URL(url), options, readOnly.dir);
        expect((await storage.load({ kind: 'config', name: '' })).toString()).toBe('{}');
        for (const attempt of [
          () => storage.save({ kind: 'index', name: hexName('refused') }, Buffer.from('x')),
          () => storage.remove({ kind: 'config', name: '' }),
        ]) {
          const error = await failure(attempt());
          expect(error.code).toBe('denied');
          expect(error.message).toMatch(/permission denied/);
          expect(storage.isPermanent(error)).toBe(true);
          expect(storage.isNotFound(error)).toBe(false);
        }
        await storage.close();
      } finally {
        await readOnly.stop();
      }
    });
  });

  it('is what openStorage opens for an sftp:// URL, wrapped like every remote backend', async () => {
    const folder = join(server.sftpRoot, 'through-open-storage');
    const storage = openStorage(
      `sftp://${server.user}:not-shown@127.0.0.1:${server.port}${folder}`,
      server.dir,
      { sftp: { keyFile: 'keys/client', knownHostsFile: 'known_hosts' } },
    );
    try {
      await storage.create();
      await storage.save({ kind: 'config', name: '' }, Buffer.from('{"version":1}'));
      expect((await storage.load({ kind: 'config', name: '' })).toString()).toBe('{"version":1}');
      expect(storage.location).not.toContain('not-shown');
      expect(existsSync(join(folder, 'config'))).toBe(true);
    } finally {
      await storage.close();
    }
  });

  it('opens one connection on first use, and shares it', async () => {
    const before = logins(server);
    const storage = storageFor();
    await sleep(50);
    expect(logins(server)).toBe(before);
    await storage.create();
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        storage.save({ kind: 'index', name: hexName(`shared${i}`) }, randomBytes(300_000)),
      ),
    );
    expect(await all(storage.names('index'))).toHaveLength(40);
    expect(logins(server)).toBe(before + 1);
  });

  describe('host keys', () => {
    it('refuses a server whose key is not in known_hosts, naming its fingerprint and the line to add', async () => {
      const knownHostsFile = join(server.dir, 'empty_known_hosts');
      await writeFile(knownHostsFile, '# nothing known yet\n');
      const storage = storageFor({ knownHostsFile });
      const error = await failure(storage.create());
      expect(error.code).toBe('denied');
      expect(storage.isPermanent(error)).toBe(true);
      const fingerprint = await fingerprintOf(join(server.dir, 'keys', 'host_key.pub'));
      expect(error.message).toContain(fingerprint);
      expect(error.message).toContain(`[127.0.0.1]:${server.port} ${server.hostPublicKey}`);
      expect(error.message).toContain(knownHostsFile);
    });

    it('refuses too when the known_hosts file does not exist', async () => {
      const storage = storageFor({ knownHostsFile: join(server.dir, 'no_such_file') });
      const error = await failure(storage.create());
      expect(error.code).toBe('denied');
      expect(error.message).toMatch(/SHA256:/);
    });

    it('accepts an unknown key with acceptUnknownHostKey, and says so in the log', async () => {
      const warnings: string[] = [];
      const storage = storageFor({
        knownHostsFile: join(server.dir, 'no_such_file'),
        acceptUnknownHostKey: true,
        log: { warn: (_fields, message) => warnings.push(message) },
      });
      await storage.create();
      await storage.save({ kind: 'config', name: '' }, Buffer.from('{}'));
      const fingerprint = await fingerprintOf(join(server.dir, 'keys', 'host_key.pub'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(fingerprint);
      expect(warnings[0]).toContain('acceptUnknownHostKey');
    });

    it('refuses a key that differs from the recorded one, even with acceptUnknownHostKey', async () => {
      const impostor = await server.makeClientKey('impostor');
      const recorded = (await readFile(`${impostor}.pub`, 'utf8')).split(' ').slice(0, 2);
      const knownHostsFile = join(server.dir, 'changed_known_hosts');
      await writeFile(knownHostsFile, `[127.0.0.1]:${server.port} ${recorded.join(' ')}\n`);
      const warnings: string[] = [];
      const storage = storageFor({
        knownHostsFile,
        acceptUnknownHostKey: true,
        log: { warn: (_fields, message) => warnings.push(message) },
      });
      const error = await failure(storage.create());
      expect(error.code).toBe('denied');
      expect(error.message).toMatch(/differs from the host key recorded/);
      expect(error.message).toContain(
        await fingerprintOf(join(server.dir, 'keys', 'host_key.pub')),
      );
      expect(warnings).toEqual([]);
    });

    it('finds the host in a hashed known_hosts file', async () => {
      const knownHostsFile = join(server.dir, 'hashed_known_hosts');
      await writeFile(knownHostsFile, await readFile(server.knownHostsFile));
      await execFileAsync(SSH_KEYGEN.path, ['-H', '-f', knownHostsFile]);
      expect(await readFile(knownHostsFile, 'utf8')).toMatch(/^\|1\|/);
      const storage = storageFor({ knownHostsFile });
      await storage.create();
    });

    for (const hostKeyType of ['ecdsa', 'rsa'] as const) {
      it(`checks ${hostKeyType} host keys too`, async () => {
        const other = await startSshd({ hostKeyType });
        try {
          const url = `sftp://${other.user}@127.0.0.1:${other.port}${other.sftpRoot}/repo`;
          const options = { keyFile: other.clientKeyFile, knownHostsFile: other.knownHostsFile };
          const storage = openSftpStorage(new URL(url), options, other.dir);
          await storage.create();
          await storage.close();
          const stranger = openSftpStorage(
            new URL(url),
            { ...options, knownHostsFile: server.knownHostsFile },
            other.dir,
          );
          const error = await failure(stranger.stat({ kind: 'config', name: '' }));
          expect(error.message).toContain(
            await fingerprintOf(join(other.dir, 'keys', 'host_key.pub')),
          );
          await stranger.close();
        } finally {
          await other.stop();
        }
      });
    }
  });

  describe('logins', () => {
    it('says clearly when the server refuses the key', async () => {
      const stranger = await server.makeClientKey('stranger');
      const storage = storageFor({ keyFile: stranger });
      const error = await failure(storage.create());
      expect(error.code).toBe('denied');
      expect(storage.isPermanent(error)).toBe(true);
      expect(error.message).toContain(`refused the login as ${server.user}`);
      expect(error.message).toContain(stranger);
    });

    it('opens an encrypted key with the passphrase in passwordFile, and says what is wrong otherwise', async () => {
      const locked = await server.makeClientKey('locked', {
        passphrase: 'open sesame',
        authorize: true,
      });
      await writeFile(join(server.dir, 'passphrase'), 'open sesame\n');
      await writeFile(join(server.dir, 'wrong-passphrase'), 'close sesame\n');
      await storageFor({ keyFile: locked, passwordFile: 'passphrase' }).create();
      const missing = await failure(storageFor({ keyFile: locked }).create());
      expect(missing.code).toBe('denied');
      expect(missing.message).toMatch(/is encrypted: set passwordFile/);
      const wrong = await failure(
        storageFor({ keyFile: locked, passwordFile: 'wrong-passphrase' }).create(),
      );
      expect(wrong.code).toBe('denied');
      expect(wrong.message).toMatch(/cannot be opened with the passphrase/);
    });

    it('names a key file that cannot be read', async () => {
      const error = await failure(storageFor({ keyFile: 'no-such-key' }).create());
      expect(error.code).toBe('denied');
      expect(error.message).toContain(join(server.dir, 'no-such-key'));
    });

    it('never shows the URL password in an error', async () => {
      const stranger = await server.makeClientKey('stranger2');
      const folder = join(server.sftpRoot, 'never');
      const storage = storageFor(
        { keyFile: stranger },
        `sftp://${server.user}:hunter2@127.0.0.1:${server.port}${folder}`,
      );
      const error = await failure(storage.create());
      expect(error.message).not.toContain('hunter2');
      expect(storage.location).not.toContain('hunter2');
    });
  });

  describe('a connection that drops', () => {
    it('fails what was under way with retryable io errors, and reconnects for the next operation', async () => {
      const storage = storageFor();
      await storage.create();
      const kept: FileHandle = { kind: 'index', name: hexName('kept') };
      await storage.save(kept, Buffer.from('kept'));
      const before = logins(server);

      // Kill the session while a large save is writing.
      const large: FileHandle = { kind: 'data', name: hexName('large') };
      // Its outcome is taken at once: it fails while the test is still killing the session.
      const saving = failure(storage.save(large, randomBytes(64 * 1024 * 1024)));
      await waitForTemporaryFile(join(folderOf(storage), 'data', large.name.slice(0, 2)));
      await server.killSessions();
      const cut = await saving;
      expect(cut.code).toBe('io');
      expect(storage.isPermanent(cut)).toBe(false);
      expect(cut.message).toMatch(/connection .* was lost|No response/);

      // The server still runs: the next operation logs in again.
      expect((await storage.load(kept)).toString()).toBe('kept');
      expect(logins(server)).toBe(before + 1);
      // The cut-off save left a temporary file at most, which is not listed.
      expect(await all(storage.names('data'))).toEqual([]);
    });

    it('fails with retryable io errors while the server is down, and recovers once it is back', async () => {
      const storage = storageFor();
      await storage.create();
      const kept: FileHandle = { kind: 'snapshots', name: hexName('kept') };
      await storage.save(kept, Buffer.from('kept'));

      await server.shutDown();
      try {
        for (const attempt of [
          () => storage.load(kept),
          () => storage.save({ kind: 'index', name: hexName('while down') }, Buffer.from('x')),
          () => all(storage.names('snapshots')),
        ]) {
          const error = await failure(attempt());
          expect(error.code).toBe('io');
          expect(storage.isPermanent(error)).toBe(false);
          expect(storage.isNotFound(error)).toBe(false);
          expect(error.message).toContain(storage.location);
        }
      } finally {
        await server.startAgain();
      }
      expect((await storage.load(kept)).toString()).toBe('kept');
      expect(await all(storage.names('snapshots'))).toEqual([kept.name]);
    });

    it('fails a read cut off mid-way, and serves ranges again afterwards', async () => {
      const storage = storageFor();
      await storage.create();
      const data = randomBytes(48 * 1024 * 1024);
      const pack: FileHandle = { kind: 'data', name: hexName('pack to read') };
      await storage.save(pack, data);
      expect(
        (await storage.load(pack, { offset: 10, length: 5 })).equals(data.subarray(10, 15)),
      ).toBe(true);
      const loading = failure(storage.load(pack));
      await sleep(20);
      await server.killSessions();
      const error = await loading;
      expect(error.code).toBe('io');
      // The kept-open handle died with the connection; a new one is opened on the new one.
      const range = await storage.load(pack, { offset: 1_000_000, length: 100 });
      expect(range.equals(data.subarray(1_000_000, 1_000_100))).toBe(true);
    });
  });
});

/** How many logins sshd has accepted so far. */
function logins(server: SshdServer): number {
  return server.log().match(/Accepted publickey for /g)?.length ?? 0;
}

/** Waits until a save's temporary file has some bytes in `folder`. */
async function waitForTemporaryFile(folder: string): Promise<void> {
  const started = Date.now();
  for (;;) {
    const temporary = existsSync(folder)
      ? readdirSync(folder).find((name) => name.startsWith('.tmp-'))
      : undefined;
    if (temporary !== undefined && statSync(join(folder, temporary)).size > 0) return;
    if (Date.now() - started > 10_000) throw new Error(`no temporary file appeared in ${folder}`);
    await sleep(5);
  }
}
