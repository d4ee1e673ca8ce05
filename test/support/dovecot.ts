// Starts a real Dovecot 2.3 IMAP server for integration tests: one per call, from its own
// temporary directory, on 127.0.0.1 and a free port, following the recipe in
// shared/TEST-SERVERS.md. Several run side by side (instance_name and base_dir are per server).
import { execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chown, mkdir, utimes, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { RawImap, quoted } from './raw-imap.js';
import type { ServerBinary } from './servers.js';
import {
  makeCertificate,
  PortInUseError,
  startWithPortRetries,
  assertBinaries,
  freePort,
  makeTempDir,
  removeTempDir,
  requireBinaries,
  sleep,
  spawnServer,
  stopProcess,
  waitForExit,
  waitForReady,
} from './servers.js';

const execFileAsync = promisify(execFile);

export const DOVECOT: ServerBinary = {
  name: 'Dovecot',
  path: '/usr/sbin/dovecot',
  debianPackage: 'dovecot-imapd',
};
export const DOVEADM: ServerBinary = {
  name: 'doveadm',
  path: '/usr/bin/doveadm',
  debianPackage: 'dovecot-core',
};

/**
 * For `describe.skipIf(!haveDovecot)`. False only when Dovecot is missing outside CI (a
 * reason is printed); under CI it stays true so that startDovecot fails the tests instead.
 */
export const haveDovecot: boolean = requireBinaries(DOVECOT, DOVEADM);

/** Throws, naming the Debian package, unless Dovecot and doveadm are installed. */
export function assertDovecot(): void {
  assertBinaries(DOVECOT, DOVEADM);
}

/** The uid/gid the mail processes run as; the recipe's userdb is static. */
export const MAIL_UID = 5000;

export interface DovecotOptions {
  /** Mail users and their passwords. Default: alice/alicepw and bob/bobpw. */
  users?: Record<string, string>;
  /** Master users (log in as `user*master`). Default: admin/adminpw. */
  masters?: Record<string, string>;
  /**
   * Default true. False advertises neither CONDSTORE nor QRESYNC (pre- and post-login), by
   * setting imap_capability to the server's own list without them. Dovecot 2.3 cannot switch
   * the code off: a client that sends ENABLE CONDSTORE or SELECT (CONDSTORE) anyway gets it.
   */
  condstore?: boolean;
  /**
   * Default true. False leaves BINARY (RFC 3516) out of the advertised capabilities, the same way:
   * a server a client must treat as without BINARY (Dovecot still stores NUL bytes it is given).
   */
  binary?: boolean;
  /** Also listen with implicit TLS (imaps) on `tlsPort`, with a self-signed certificate. */
  tls?: boolean;
  /**
   * Maildir layout. 'maildir++' (default, the recipe's) refuses '.' in mailbox names;
   * 'fs' (LAYOUT=fs) accepts it, for tests of such names. 'mbox' keeps mail in mbox files
   * instead (~/mail/NAME, INBOX in ~/mail/inbox), for tests of what Dovecot reads in them.
   */
  layout?: 'maildir++' | 'fs' | 'mbox';
}

export interface DovecotServer {
  host: string;
  port: number;
  tlsPort?: number;
  /** The server's temporary directory (config, logs, mail under mail/<user>). */
  dir: string;
  /** The first master user: log in as `${user}*${master.user}` with `master.password`. */
  master: { user: string; password: string };
  /** Current mail users and passwords. */
  readonly users: ReadonlyMap<string, string>;
  /** Adds (or changes) a user and checks that it can log in; takes up to a second. */
  addUser(name: string, password: string): Promise<void>;
  /** Removes a user (its mail stays); in force when this resolves, up to a second later. */
  removeUser(name: string): Promise<void>;
  /** Runs `doveadm -c <config> ...args` and returns its standard output. */
  doveadm(...args: string[]): Promise<string>;
  /** The server's log so far (for assertions and for failure messages). */
  log(): string;
  /** SIGTERM, wait for the exit, remove the directory. */
  stop(): Promise<void>;
  /** SIGKILL the master at once (its children follow): for fault tests. */
  kill(): void;
  /** Stops (if running) and starts again on the same ports with the same data. */
  restart(): Promise<void>;
}

interface Layout {
  dir: string;
  port: number;
  tlsPort: number | undefined;
  layout: 'maildir++' | 'fs' | 'mbox';
  capability: string | undefined;
}

function greetingFor(layout: Layout): string {
  return `Dovecot ready (${basename(layout.dir)})`;
}

function configText(layout: Layout): string {
  const d = layout.dir;
  const location = {
    'maildir++': 'maildir:~/Maildir',
    fs: 'maildir:~/Maildir:LAYOUT=fs',
    mbox: 'mbox:~/mail:INBOX=~/mail/inbox',
  }[layout.layout];
  const ssl =
    layout.tlsPort === undefined
      ? 'ssl = no'
      : `ssl = yes\nssl_cert = <${d}/tls/cert.pem\nssl_key = <${d}/tls/key.pem`;
  const capability =
    layout.capability === undefined ? '' : `  imap_capability = ${layout.capability}\n`;
  return `# Written by test/support/dovecot.ts
base_dir = ${d}/run
state_dir = ${d}/state
instance_name = mailvault-dovecot-${layout.port}-${basename(d)}
log_path = ${d}/dovecot.log
# Names the instance in its greeting, so that readiness is not fooled by whatever else may
# have taken the port.
login_greeting = ${greetingFor(layout)}
protocols = imap
listen = 127.0.0.1
${ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
auth_master_user_separator = *
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1000
mail_location = ${location}
mail_fsync = never
mail_attribute_dict = file:%h/dovecot-attributes
protocol imap {
  imap_metadata = yes
  mail_max_userip_connections = 100
${capability}}
# No auth penalty: otherwise one failed login (a fault test) delays every later login from
# 127.0.0.1, good or bad, by 2 s and up to 15 s. Without the socket, auth skips the penalty
# (login_trusted_networks no longer exempts anyone in 2.3). A failed login still takes 0.5 s.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${layout.port}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${layout.tlsPort ?? 0}
${layout.tlsPort === undefined ? '' : '    ssl = yes\n'}  }
}
passdb {
  driver = passwd-file
  master = yes
  pass = yes
  args = scheme=PLAIN username_format=%u ${d}/masters
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${d}/users
}
userdb {
  driver = static
  args = uid=${MAIL_UID} gid=${MAIL_UID} home=${d}/mail/%u
}
# Special-use mailboxes as a backup must see and restore them. Sent and Trash always exist
# (as in most deployments); the others only once created, so tests see both kinds.
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
  mailbox Drafts {
    special_use = \\Drafts
    auto = no
  }
  mailbox Junk {
    special_use = \\Junk
    auto = no
  }
  mailbox Archive {
    special_use = \\Archive
    auto = no
  }
}
`;
}

function passwdFile(entries: ReadonlyMap<string, string>): string {
  let text = '';
  for (const [name, password] of entries) {
    if (/[:\n\r]/.test(name) || /[\n\r]/.test(password)) {
      throw new Error(`unusable passwd-file entry ${JSON.stringify(name)}`);
    }
    text += `${name}:{PLAIN}${password}\n`;
  }
  return text;
}

/**
 * Dovecot re-reads a passwd-file when its mtime or size changed, but stats it at most once per
 * second of its clock (passwd_file_sync() in db-passwd-file.c). So every write moves the mtime
 * forward by at least a second (an edit that keeps the size must still differ), and then waits
 * for the next whole second: any lookup after that stats the file and sees the change.
 */
class PasswdFile {
  private lastMtime = 0;
  constructor(private readonly path: string) {}

  async write(entries: ReadonlyMap<string, string>): Promise<void> {
    await writeFile(this.path, passwdFile(entries), { mode: 0o644 });
    const mtime = Math.max(Math.floor(Date.now() / 1000), this.lastMtime + 1);
    this.lastMtime = mtime;
    await utimes(this.path, mtime, mtime);
  }

  async writeAndSettle(entries: ReadonlyMap<string, string>): Promise<void> {
    await this.write(entries);
    await sleep(1000 - (Date.now() % 1000) + 20);
  }
}

const READY_TIMEOUT_MS = 15_000;

class Instance implements DovecotServer {
  readonly host = '127.0.0.1';
  readonly master: { user: string; password: string };
  private child: ChildProcess | null = null;
  private stderr = '';
  private readonly userMap: Map<string, string>;
  private readonly usersFile: PasswdFile;
  private stopped = false;

  constructor(
    private readonly layout: Layout,
    users: Record<string, string>,
    masters: Record<string, string>,
  ) {
    this.userMap = new Map(Object.entries(users));
    this.usersFile = new PasswdFile(join(layout.dir, 'users'));
    const first = Object.entries(masters)[0];
    if (!first) throw new Error('Dovecot needs at least one master user');
    this.master = { user: first[0], password: first[1] };
  }

  get port(): number {
    return this.layout.port;
  }
  get tlsPort(): number | undefined {
    return this.layout.tlsPort;
  }
  get dir(): string {
    return this.layout.dir;
  }
  get users(): ReadonlyMap<string, string> {
    return this.userMap;
  }
  get configPath(): string {
    return join(this.layout.dir, 'dovecot.conf');
  }

  async writeFiles(masters: Record<string, string>): Promise<void> {
    const d = this.layout.dir;
    await mkdir(join(d, 'run'));
    await mkdir(join(d, 'state'));
    await mkdir(join(d, 'mail'));
    await chown(join(d, 'mail'), MAIL_UID, MAIL_UID);
    await writeFile(join(d, 'masters'), passwdFile(new Map(Object.entries(masters))), {
      mode: 0o644,
    });
    await this.usersFile.write(this.userMap);
    if (this.layout.tlsPort !== undefined) await makeCertificate(join(d, 'tls'));
    await this.writeConfig();
  }

  async writeConfig(): Promise<void> {
    await writeFile(this.configPath, configText(this.layout));
  }

  /** Spawns the master and resolves once the plain listener sends its greeting. */
  async spawnAndWait(): Promise<void> {
    this.stderr = '';
    const child = spawnServer(DOVECOT.path, ['-F', '-c', this.configPath], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      if (this.stderr.length < 64 * 1024) this.stderr += chunk;
    });
    await waitForReady(child, {
      name: 'Dovecot',
      ready: () => this.greets(),
      output: () => `${this.stderr}\n${this.log()}`,
      timeoutMs: READY_TIMEOUT_MS,
      pollMs: 10,
    });
  }

  /** Whether Dovecot greets on the port as this instance (its greeting names the run). */
  private async greets(): Promise<boolean> {
    try {
      const client = await RawImap.connect({ host: this.host, port: this.port, timeoutMs: 1_000 });
      client.close();
      // Someone else's server: ours fails to bind and exits, which waitForReady reports.
      return client.greeting.includes(greetingFor(this.layout));
    } catch {
      return false; // not listening yet
    }
  }

  log(): string {
    try {
      return readFileSync(join(this.layout.dir, 'dovecot.log'), 'utf8');
    } catch {
      return '';
    }
  }

  async addUser(name: string, password: string): Promise<void> {
    this.userMap.set(name, password);
    await this.usersFile.writeAndSettle(this.userMap);
    // A login proves the new entry is in force.
    const client = await RawImap.connect({ host: this.host, port: this.port });
    try {
      await client.ok(`LOGIN ${quoted(name)} ${quoted(password)}`);
    } finally {
      await client.logout();
    }
  }

  async removeUser(name: string): Promise<void> {
    this.userMap.delete(name);
    await this.usersFile.writeAndSettle(this.userMap);
  }

  async doveadm(...args: string[]): Promise<string> {
    try {
      const { stdout } = await execFileAsync(DOVEADM.path, ['-c', this.configPath, ...args], {
        maxBuffer: 256 * 1024 * 1024,
      });
      return stdout;
    } catch (error) {
      const failure = error as Error & { stderr?: string };
      throw new Error(`doveadm ${args.join(' ')} failed: ${failure.stderr ?? failure.message}`);
    }
  }

  kill(): void {
    this.child?.kill('SIGKILL');
  }

  async restart(): Promise<void> {
    if (this.stopped) throw new Error('the server was stopped');
    if (this.child) await stopProcess(this.child);
    // After a SIGKILL the old login processes may hold the listening socket for a moment.
    const started = Date.now();
    for (;;) {
      try {
        await this.spawnAndWait();
        return;
      } catch (error) {
        if (!(error instanceof PortInUseError) || Date.now() - started > READY_TIMEOUT_MS) {
          throw error;
        }
        await sleep(50);
      }
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.child) {
      await stopProcess(this.child);
      await waitForExit(this.child);
    }
    await removeTempDir(this.layout.dir);
  }
}

/** Starts a server; resolves once it accepts connections and greets. */
export async function startDovecot(options: DovecotOptions = {}): Promise<DovecotServer> {
  assertDovecot();
  const users = options.users ?? { alice: 'alicepw', bob: 'bobpw' };
  const masters = options.masters ?? { admin: 'adminpw' };
  const hidden = [
    ...(options.condstore === false ? ['CONDSTORE', 'QRESYNC'] : []),
    ...(options.binary === false ? ['BINARY'] : []),
  ];
  const capability = hidden.length > 0 ? without(await defaultCapability(), hidden) : undefined;
  // freePort() can lose a race with another process; a fresh port is then tried.
  return startWithPortRetries(async () => {
    const dir = await makeTempDir('dovecot');
    const layout: Layout = {
      dir,
      port: await freePort(),
      tlsPort: options.tls ? await freePort() : undefined,
      layout: options.layout ?? 'maildir++',
      capability,
    };
    const server = new Instance(layout, users, masters);
    try {
      await server.writeFiles(masters);
      await server.spawnAndWait();
      return server;
    } catch (error) {
      await server.stop();
      throw error;
    }
  });
}

let capabilityProbe: Promise<string> | undefined;

/**
 * The post-login CAPABILITY of the installed Dovecot with this configuration, read once per
 * test process from a throwaway server, so that condstore:false removes exactly two words
 * and does not advertise what this Dovecot build lacks.
 */
function defaultCapability(): Promise<string> {
  capabilityProbe ??= (async () => {
    const server = await startDovecot({ users: { probe: 'probe' }, masters: { admin: 'probe' } });
    try {
      const client = await RawImap.connect({ host: server.host, port: server.port });
      try {
        await client.ok('LOGIN "probe" "probe"');
        const { untagged } = await client.ok('CAPABILITY');
        const line = untagged.find((response) => response.text.startsWith('* CAPABILITY '));
        const text = line?.text.slice('* CAPABILITY '.length);
        if (!text) throw new Error('Dovecot sent no CAPABILITY after login');
        return text;
      } finally {
        await client.logout();
      }
    } finally {
      server.kill();
      await server.stop();
    }
  })();
  return capabilityProbe;
}

function without(capability: string, words: readonly string[]): string {
  return capability
    .split(/\s+/)
    .filter((word) => !words.includes(word))
    .join(' ');
}
