// Starts a real Cyrus IMAP 3 server for integration tests: one per call, from its own temporary
// directory, on 127.0.0.1 and a free port, killed afterwards. Cyrus differs from Dovecot where it
// matters to a restore: an administrator may authorize as any name, mailbox or not, and an
// account exists only once an administrator has created its INBOX (`CREATE user/<name>`).
import { execFile, type ChildProcess } from 'node:child_process';
import { chown, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { RawImap, quoted } from './raw-imap.js';
import type { ServerBinary } from './servers.js';
import {
  assertBinaries,
  freePort,
  makeTempDir,
  removeTempDir,
  requireBinaries,
  spawnServer,
  startWithPortRetries,
  stopProcess,
  waitForExit,
  waitForReady,
} from './servers.js';

const execFileAsync = promisify(execFile);

export const CYRUS_MASTER: ServerBinary = {
  name: 'Cyrus master',
  path: '/usr/lib/cyrus/bin/master',
  debianPackage: 'cyrus-common',
};
export const CYRUS_IMAPD: ServerBinary = {
  name: 'Cyrus imapd',
  path: '/usr/lib/cyrus/bin/imapd',
  debianPackage: 'cyrus-imapd',
  // The package conflicts with dovecot-imapd, which the other tests need.
  install: 'run .ci/run, which unpacks it from cyrus-imapd beside dovecot-imapd',
};
export const SASLPASSWD2: ServerBinary = {
  name: 'saslpasswd2',
  path: '/usr/sbin/saslpasswd2',
  debianPackage: 'sasl2-bin',
};

/**
 * For `describe.skipIf(!haveCyrus)`: false only when Cyrus is missing outside CI (a reason is
 * printed); under CI it stays true so that startCyrus fails the tests instead.
 */
export const haveCyrus: boolean = requireBinaries(CYRUS_MASTER, CYRUS_IMAPD, SASLPASSWD2);

export interface CyrusOptions {
  /** The administrator and its password. Default: admin/adminpw. */
  admin?: { user: string; password: string };
  /** Accounts whose mailbox (INBOX) exists from the start. Default: none. */
  accounts?: string[];
}

export interface CyrusServer {
  host: string;
  port: number;
  dir: string;
  /** The administrator: it may authorize as any name (SASL PLAIN authorization identity). */
  master: { user: string; password: string };
  /**
   * A shell command for a configuration's `provisioning.command`: creates the account's mailbox as
   * the administrator (its password is read from a file, never from the command line).
   */
  provisionCommand: string;
  /** Creates an account's mailbox (INBOX), as provisioning would. */
  createAccount(name: string): Promise<void>;
  /** A connection authorized as `user` by the administrator (whether or not `user` has a mailbox). */
  login(user: string): Promise<RawImap>;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 15_000;

/** The uid and gid Cyrus drops to when started as root (the Debian package's `cyrus` user). */
async function cyrusOwner(): Promise<{ uid: number; gid: number } | null> {
  if (process.getuid?.() !== 0) return null;
  const { stdout: uid } = await execFileAsync('id', ['-u', 'cyrus']);
  const { stdout: gid } = await execFileAsync('id', ['-g', 'cyrus']);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

async function chownTree(path: string, owner: { uid: number; gid: number }): Promise<void> {
  await chown(path, owner.uid, owner.gid);
  if (!(await stat(path)).isDirectory()) return;
  for (const entry of await readdir(path)) await chownTree(join(path, entry), owner);
}

function imapdConf(dir: string, servername: string, admin: string): string {
  return `# Written by test/support/cyrus.ts
servername: ${servername}
configdirectory: ${dir}/conf
defaultpartition: default
partition-default: ${dir}/spool
sievedir: ${dir}/sieve
admins: ${admin}
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: ${dir}/sasldb2
sasl_mech_list: PLAIN LOGIN
# Cyrus 3's defaults: folders beside INBOX, '/' as separator (Debian's file turns both off).
altnamespace: yes
unixhierarchysep: yes
lmtpsocket: ${dir}/socket/lmtp
idlesocket: ${dir}/socket/idle
notifysocket: ${dir}/socket/notify
mboxname_lockpath: ${dir}/lock
proc_path: ${dir}/proc
syslog_prefix: mailvault-cyrus
`;
}

function cyrusConf(dir: string, port: number): string {
  return `# Written by test/support/cyrus.ts
START {
  recover cmd="ctl_cyrusdb -r -C ${dir}/imapd.conf"
}
SERVICES {
  imap cmd="imapd -C ${dir}/imapd.conf" listen="127.0.0.1:${port}" prefork=0 maxchild=50
}
EVENTS {
}
`;
}

/** The provisioning script: logs in as the administrator and creates user/<name>. */
function provisionScript(port: number, admin: string, passwordFile: string): string {
  return `// Written by test/support/cyrus.ts: creates a Cyrus account's mailbox, as a provisioning hook.
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
const account = process.argv[2];
const password = readFileSync(${JSON.stringify(passwordFile)}, 'utf8').trim();
const quote = (s) => '"' + s.replace(/[\\\\"]/g, (c) => '\\\\' + c) + '"';
const socket = connect(${port}, '127.0.0.1');
const lines = [];
let buffer = '';
const commands = ['LOGIN ' + quote(${JSON.stringify(admin)}) + ' ' + quote(password), 'CREATE ' + quote('user/' + account), 'LOGOUT'];
let sent = 0;
socket.on('data', (chunk) => {
  buffer += chunk.toString('latin1');
  let end;
  while ((end = buffer.indexOf('\\r\\n')) >= 0) {
    const line = buffer.slice(0, end);
    buffer = buffer.slice(end + 2);
    lines.push(line);
    const tagged = /^T(\\d+) (OK|NO|BAD)/.exec(line);
    if (line.startsWith('* OK') && sent === 0) socket.write('T' + ++sent + ' ' + commands[0] + '\\r\\n');
    else if (tagged && tagged[2] !== 'OK' && Number(tagged[1]) < 3) { process.stderr.write(line + '\\n'); process.exit(1); }
    else if (tagged && sent < commands.length) socket.write('T' + ++sent + ' ' + commands[sent - 1] + '\\r\\n');
    else if (tagged) { socket.end(); process.exit(0); }
  }
});
socket.on('error', (error) => { process.stderr.write(error.message + '\\n'); process.exit(1); });
`;
}

class Instance implements CyrusServer {
  readonly host = '127.0.0.1';
  private child: ChildProcess | null = null;
  private output = '';
  private stopped = false;

  constructor(
    readonly dir: string,
    readonly port: number,
    readonly master: { user: string; password: string },
  ) {}

  get servername(): string {
    // Lower case: imapd looks users up in the realm of its servername, lowercased.
    return `mailvault-cyrus-${this.port}-${basename(this.dir)}`.toLowerCase();
  }

  get provisionCommand(): string {
    return `${process.execPath} ${join(this.dir, 'provision.mjs')}`;
  }

  async writeFiles(): Promise<void> {
    const d = this.dir;
    for (const sub of ['conf', 'spool', 'sieve', 'socket', 'lock', 'proc', 'run'])
      await mkdir(join(d, sub));
    await writeFile(join(d, 'imapd.conf'), imapdConf(d, this.servername, this.master.user));
    await writeFile(join(d, 'cyrus.conf'), cyrusConf(d, this.port));
    await writeFile(join(d, 'admin.pass'), `${this.master.password}\n`, { mode: 0o600 });
    await writeFile(
      join(d, 'provision.mjs'),
      provisionScript(this.port, this.master.user, join(d, 'admin.pass')),
    );
    // The password on standard input (-p), never on a command line; in the realm imapd looks in
    // (its servername).
    await new Promise<void>((resolve, reject) => {
      const child = execFile(
        SASLPASSWD2.path,
        ['-p', '-c', '-f', join(d, 'sasldb2'), '-u', this.servername, this.master.user],
        (error) => (error ? reject(error) : resolve()),
      );
      child.stdin?.end(`${this.master.password}\n`);
    });
    const owner = await cyrusOwner();
    if (owner) {
      for (const entry of await readdir(d))
        if (entry !== 'admin.pass' && entry !== 'provision.mjs')
          await chownTree(join(d, entry), owner);
    }
  }

  async spawnAndWait(): Promise<void> {
    const child = spawnServer(
      CYRUS_MASTER.path,
      // Its own pid file: the default one (/run/cyrus-master.pid) would make a second server exit.
      [
        '-C',
        join(this.dir, 'imapd.conf'),
        '-M',
        join(this.dir, 'cyrus.conf'),
        '-p',
        join(this.dir, 'run', 'master.pid'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    const keep = (chunk: Buffer): void => {
      if (this.output.length < 64 * 1024) this.output += chunk.toString('utf8');
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    await waitForReady(child, {
      name: 'Cyrus',
      ready: () => this.greets(),
      output: () => this.output,
      portInUse: /Address already in use|unable to bind/i,
      timeoutMs: READY_TIMEOUT_MS,
      pollMs: 50,
    });
  }

  private async greets(): Promise<boolean> {
    try {
      const client = await RawImap.connect({ host: this.host, port: this.port, timeoutMs: 1_000 });
      client.close();
      return client.greeting.includes(this.servername);
    } catch {
      return false;
    }
  }

  async createAccount(name: string): Promise<void> {
    const client = await RawImap.connect({ host: this.host, port: this.port });
    try {
      await client.ok(`LOGIN ${quoted(this.master.user)} ${quoted(this.master.password)}`);
      await client.ok(`CREATE ${quoted(`user/${name}`)}`);
    } finally {
      await client.logout();
    }
  }

  async login(user: string): Promise<RawImap> {
    const client = await RawImap.connect({ host: this.host, port: this.port });
    const token = Buffer.from(`${user}\0${this.master.user}\0${this.master.password}`).toString(
      'base64',
    );
    try {
      await client.ok(`AUTHENTICATE PLAIN ${token}`);
    } catch (error) {
      client.close();
      throw error;
    }
    return client;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.child) {
      await stopProcess(this.child);
      await waitForExit(this.child);
    }
    await removeTempDir(this.dir);
  }
}

/** Starts a Cyrus server; resolves once it greets as this instance. */
export async function startCyrus(options: CyrusOptions = {}): Promise<CyrusServer> {
  assertBinaries(CYRUS_MASTER, CYRUS_IMAPD, SASLPASSWD2);
  const admin = options.admin ?? { user: 'admin', password: 'adminpw' };
  const server = await startWithPortRetries(async () => {
    const instance = new Instance(await makeTempDir('cyrus'), await freePort(), admin);
    try {
      await instance.writeFiles();
      await instance.spawnAndWait();
      return instance;
    } catch (error) {
      await instance.stop();
      throw error;
    }
  });
  try {
    for (const account of options.accounts ?? []) await server.createAccount(account);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}
