// Starts a real OpenSSH sshd serving SFTP for integration tests: one per call, from its own
// temporary directory, on 127.0.0.1 and a free port, following the recipe in
// shared/TEST-SERVERS.md. The current user logs in with a key made for the run; every login gets
// internal-sftp only, starting in the run's sftp/ folder.
import { execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ServerBinary } from './servers.js';
import {
  assertBinaries,
  freePort,
  makeTempDir,
  removeTempDir,
  requireBinaries,
  sleep,
  spawnServer,
  startWithPortRetries,
  waitForExit,
  waitForReady,
} from './servers.js';

const execFileAsync = promisify(execFile);

export const SSHD: ServerBinary = {
  name: 'OpenSSH server',
  path: '/usr/sbin/sshd',
  debianPackage: 'openssh-server',
};
export const SSH_KEYGEN: ServerBinary = {
  name: 'ssh-keygen',
  path: '/usr/bin/ssh-keygen',
  debianPackage: 'openssh-client',
};

/**
 * For `describe.skipIf(!haveSshd)`. False only when sshd is missing outside CI (a reason is
 * printed); under CI it stays true so that startSshd fails the tests instead.
 */
export const haveSshd: boolean = requireBinaries(SSHD, SSH_KEYGEN);

export type HostKeyType = 'ed25519' | 'ecdsa' | 'rsa';

export interface SshdOptions {
  /** The type of the server's host key. Default ed25519. */
  hostKeyType?: HostKeyType;
  /** Serve SFTP read-only (internal-sftp -R): every write is refused as permission denied. */
  readOnly?: boolean;
}

export interface SshdServer {
  port: number;
  dir: string;
  /** The user who may log in: the one running the tests. */
  user: string;
  /** Where logins start; repositories go below it (an absolute path on the server too). */
  sftpRoot: string;
  /** The private key authorized to log in (OpenSSH format, no passphrase). */
  clientKeyFile: string;
  /** A known_hosts file holding the server's host key, as ssh would record it. */
  knownHostsFile: string;
  /** The server's public host key line (`type base64`). */
  hostPublicKey: string;
  /** Makes a key pair in the run's folder; `authorize` lets it log in. Returns the private key. */
  makeClientKey(
    name: string,
    options?: { passphrase?: string; authorize?: boolean },
  ): Promise<string>;
  /** Kills the processes serving the open connections; the server goes on accepting new ones. */
  killSessions(): Promise<void>;
  /**
   * Stops (SIGSTOP) the server and every session: connections stay open and answer nothing, as
   * with a frozen machine or a dead link. `thaw` lets them go on (SIGCONT).
   */
  freeze(): void;
  thaw(): void;
  /** Stops the server and its connections, keeping its folder, keys and port for startAgain. */
  shutDown(): Promise<void>;
  /** Starts the server again after shutDown, on the same port with the same keys. */
  startAgain(): Promise<void>;
  /** sshd's log so far (its own errors explain a refused login). */
  log(): string;
  /** Stops everything and removes the folder. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;

function configText(dir: string, port: number, user: string, readOnly: boolean): string {
  return `# Written by test/support/sshd.ts
Port ${port}
ListenAddress 127.0.0.1
HostKey ${dir}/keys/host_key
PidFile ${dir}/sshd.pid
AuthorizedKeysFile ${dir}/keys/authorized_keys_%u
AllowUsers ${user}
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM yes
StrictModes no
PermitTTY no
AllowTcpForwarding no
UseDNS no
LogLevel VERBOSE
Subsystem sftp internal-sftp
ForceCommand internal-sftp${readOnly ? ' -R' : ''} -d ${dir}/sftp
`;
}

async function makeKeyPair(path: string, type: HostKeyType, passphrase = ''): Promise<void> {
  const bits = type === 'rsa' ? ['-b', '2048'] : [];
  await execFileAsync(SSH_KEYGEN.path, [
    '-q',
    '-t',
    type,
    ...bits,
    '-N',
    passphrase,
    '-C',
    'mailvault-test',
    '-f',
    path,
  ]);
}

/** The live process ids below `root` in the process tree (its children, theirs, ...). */
function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // After the command, which is in parentheses, come the state and the parent id. A zombie
    // (state Z) is dead already, only not yet reaped by a parent that may be stopped.
    const [state, parentId] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (state === 'Z') continue;
    const parent = Number(parentId);
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const visit = (pid: number): void => {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      visit(child);
    }
  };
  visit(root);
  return found;
}

class Instance implements SshdServer {
  private child: ChildProcess | null = null;
  private output = '';
  private stopped = false;
  readonly user = userInfo().username;
  hostPublicKey = '';

  constructor(
    readonly dir: string,
    readonly port: number,
    private readonly hostKeyType: HostKeyType,
    private readonly readOnly: boolean,
  ) {}

  get sftpRoot(): string {
    return join(this.dir, 'sftp');
  }

  get clientKeyFile(): string {
    return join(this.dir, 'keys', 'client');
  }

  get knownHostsFile(): string {
    return join(this.dir, 'known_hosts');
  }

  private get configFile(): string {
    return join(this.dir, 'sshd_config');
  }

  async writeFiles(): Promise<void> {
    await mkdir(join(this.dir, 'keys'));
    await mkdir(this.sftpRoot);
    await makeKeyPair(join(this.dir, 'keys', 'host_key'), this.hostKeyType);
    const publicKey = await readFile(join(this.dir, 'keys', 'host_key.pub'), 'utf8');
    this.hostPublicKey = publicKey.split(' ').slice(0, 2).join(' ');
    await writeFile(this.knownHostsFile, `[127.0.0.1]:${this.port} ${this.hostPublicKey}\n`);
    await this.makeClientKey('client', { authorize: true });
    await writeFile(this.configFile, configText(this.dir, this.port, this.user, this.readOnly));
    // sshd refuses to start as root without its privilege separation folder.
    if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
    try {
      await execFileAsync(SSHD.path, ['-t', '-f', this.configFile]);
    } catch (error) {
      throw new Error(`sshd -t rejects ${this.configFile}: ${(error as Error).message}`);
    }
  }

  async makeClientKey(
    name: string,
    options: { passphrase?: string; authorize?: boolean } = {},
  ): Promise<string> {
    const path = join(this.dir, 'keys', name);
    await makeKeyPair(path, 'ed25519', options.passphrase);
    if (options.authorize) {
      const publicKey = await readFile(`${path}.pub`, 'utf8');
      await writeFile(join(this.dir, 'keys', `authorized_keys_${this.user}`), publicKey, {
        flag: 'a',
      });
    }
    return path;
  }

  log(): string {
    return this.output;
  }

  async spawnAndWait(): Promise<void> {
    // -D: stay in the foreground, the test's child; -e: log to stderr, which is kept.
    const child = spawnServer(SSHD.path, ['-D', '-e', '-f', this.configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        if (this.output.length < 4 * 1024 * 1024) this.output += chunk;
      });
    }
    await waitForReady(child, {
      name: 'sshd',
      ready: () => this.greets(),
      output: () => this.output,
      timeoutMs: READY_TIMEOUT_MS,
    });
  }

  /** Whether an SSH server greets on the port (its first line is SSH-2.0-...). */
  private greets(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: this.port });
      let text = '';
      const finish = (answer: boolean): void => {
        socket.destroy();
        resolve(answer);
      };
      socket.setTimeout(1_000, () => finish(false));
      socket.on('error', () => finish(false));
      socket.on('data', (chunk) => {
        text += chunk.toString('latin1');
        if (text.includes('\n')) finish(text.startsWith('SSH-2.0-'));
      });
    });
  }

  freeze(): void {
    this.signalAll('SIGSTOP');
  }

  thaw(): void {
    this.signalAll('SIGCONT');
  }

  private signalAll(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    for (const target of [pid, ...descendantsOf(pid)]) {
      try {
        process.kill(target, signal);
      } catch {
        // already gone
      }
    }
  }

  async killSessions(): Promise<void> {
    const child = this.child;
    if (child?.pid === undefined) return;
    // Deepest first, so no session process lingers to notice its parent gone.
    const sessions = descendantsOf(child.pid).reverse();
    for (const pid of sessions) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    // Wait until they are gone, so the client sees the connections close.
    const started = Date.now();
    while (descendantsOf(child.pid).some((pid) => sessions.includes(pid))) {
      if (Date.now() - started > 5_000) throw new Error('sshd session processes did not exit');
      await sleep(10);
    }
  }

  async shutDown(): Promise<void> {
    const child = this.child;
    if (!child?.pid) return;
    // The listener is stopped first: a client that reconnects while the sessions are being
    // killed would otherwise get a fresh session, which outlives the listener (sshd leaves its
    // sessions running when it exits) and lets the client carry on as if nothing had happened.
    process.kill(child.pid, 'SIGSTOP');
    await this.killSessions();
    child.kill('SIGKILL');
    await waitForExit(child);
    this.child = null;
  }

  async startAgain(): Promise<void> {
    if (this.child) return;
    await this.spawnAndWait();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.shutDown();
    await removeTempDir(this.dir);
  }
}

/** Starts a server; resolves once it greets on its port. */
export async function startSshd(options: SshdOptions = {}): Promise<SshdServer> {
  assertBinaries(SSHD, SSH_KEYGEN);
  return startWithPortRetries(async () => {
    const dir = await makeTempDir('sshd');
    const server = new Instance(
      dir,
      await freePort(),
      options.hostKeyType ?? 'ed25519',
      options.readOnly ?? false,
    );
    try {
      await server.writeFiles();
      await server.spawnAndWait();
      return server;
    } catch (error) {
      await server.stop();
      throw error;
    }
  });
}
