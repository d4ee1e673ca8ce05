// The sshd harness, checked with OpenSSH's own sftp client: the known_hosts file it writes is one
// ssh trusts, the key it makes logs in, logins land in sftp/, and the server comes back after
// shutDown on the same port.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBinaries, requireBinaries, type ServerBinary } from './servers.js';
import { SSHD, SSH_KEYGEN, startSshd, type SshdServer } from './sshd.js';

const execFileAsync = promisify(execFile);
const SFTP_CLIENT: ServerBinary = {
  name: 'OpenSSH sftp client',
  path: '/usr/bin/sftp',
  debianPackage: 'openssh-client',
};

describe.skipIf(!requireBinaries(SSHD, SSH_KEYGEN, SFTP_CLIENT))('startSshd', () => {
  let server: SshdServer;

  /** Runs sftp batch commands with ssh's strict host key checking against the harness's file. */
  async function sftpBatch(commands: string): Promise<string> {
    const child = execFileAsync(SFTP_CLIENT.path, [
      '-b',
      '-',
      '-P',
      String(server.port),
      '-i',
      server.clientKeyFile,
      '-o',
      `UserKnownHostsFile=${server.knownHostsFile}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      'IdentitiesOnly=yes',
      `${server.user}@127.0.0.1`,
    ]);
    child.child.stdin?.end(commands);
    return (await child).stdout;
  }

  beforeAll(async () => {
    assertBinaries(SFTP_CLIENT);
    server = await startSshd();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('lets the made key log in, trusted by ssh through the known_hosts file, into sftp/', async () => {
    expect(await readFile(server.knownHostsFile, 'utf8')).toBe(
      `[127.0.0.1]:${server.port} ${server.hostPublicKey}\n`,
    );
    expect(await sftpBatch('pwd\nmkdir made-by-sftp\n')).toContain(server.sftpRoot);
    expect(await readFile(join(server.sftpRoot, '..', 'sshd_config'), 'utf8')).toContain(
      `ForceCommand internal-sftp -d ${server.sftpRoot}`,
    );
  });

  it('serves again on the same port after shutDown and startAgain', async () => {
    await server.shutDown();
    await expect(sftpBatch('pwd\n')).rejects.toThrow();
    await server.startAgain();
    expect(await sftpBatch('ls\n')).toContain('made-by-sftp');
  });
});
