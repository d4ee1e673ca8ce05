// Starts a real Radicale 3 CalDAV/CardDAV server for integration tests: one per call, from its
// own temporary directory, on 127.0.0.1 and a free port, following the recipe in
// shared/TEST-SERVERS.md, with rights from a file: each user reads and writes their own
// principal and collections, and an administrator reads and writes everyone's.
import type { ChildProcess } from 'node:child_process';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import type { ServerBinary } from './servers.js';
import {
  makeCertificate,
  startWithPortRetries,
  assertBinaries,
  freePort,
  makeTempDir,
  removeTempDir,
  requireBinaries,
  spawnServer,
  stopProcess,
  waitForReady,
} from './servers.js';

export const RADICALE: ServerBinary = {
  name: 'Radicale',
  path: '/usr/bin/radicale',
  debianPackage: 'radicale',
};

/**
 * For `describe.skipIf(!haveRadicale)`. False only when Radicale is missing outside CI (a
 * reason is printed); under CI it stays true so that startRadicale fails the tests instead.
 */
export const haveRadicale: boolean = requireBinaries(RADICALE);

export interface RadicaleOptions {
  /** Users and their passwords. Default: alice/alicepw and bob/bobpw. */
  users?: Record<string, string>;
  /** The administrator, who may read and write every collection. Default: admin/adminpw. */
  admin?: { user: string; password: string };
  /** Serve HTTPS with a self-signed certificate for localhost and 127.0.0.1 (in `dir`/tls). */
  tls?: boolean;
}

export interface RadicaleServer {
  /** The server's root, e.g. http://127.0.0.1:41234/ */
  url: string;
  port: number;
  dir: string;
  admin: { user: string; password: string };
  readonly users: ReadonlyMap<string, string>;
  /** The certificate the server presents, when started with tls. */
  certificateFile: string | null;
  /** Adds or changes a user; Radicale reads the users file at each login. */
  addUser(name: string, password: string): Promise<void>;
  /** The server's log (warnings and errors) so far: a refused PUT's reason is there. */
  log(): string;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 15_000;

function configText(dir: string, port: number, tls: boolean): string {
  const ssl = tls
    ? `ssl = True\ncertificate = ${dir}/tls/cert.pem\nkey = ${dir}/tls/key.pem\n`
    : '';
  return `# Written by test/support/radicale.ts
[server]
hosts = 127.0.0.1:${port}
${ssl}[auth]
type = htpasswd
htpasswd_filename = ${dir}/users
htpasswd_encryption = plain
delay = 0
[rights]
type = from_file
file = ${dir}/rights
[storage]
filesystem_folder = ${dir}/collections
[web]
type = none
[logging]
level = warning
mask_passwords = True
`;
}

/** Python regular expression matching exactly `text`. */
function regexFor(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Rules are tried in order, first match wins (radicale/rights/from_file.py). Permissions: R/W
 * on plain collections (the root, principals), r/w on calendars and address books.
 */
function rightsText(admin: string): string {
  return `# Written by test/support/radicale.ts
[admin]
user: ${regexFor(admin)}
collection: .*
permissions: RrWw

[root]
user: .+
collection:
permissions: R

[principal]
user: .+
collection: {user}
permissions: RW

[collections]
user: .+
collection: {user}/[^/]+
permissions: rw
`;
}

function usersText(users: ReadonlyMap<string, string>): string {
  let text = '';
  for (const [name, password] of users) {
    if (/[:\n\r]/.test(name) || /[\n\r]/.test(password)) {
      throw new Error(`unusable htpasswd entry ${JSON.stringify(name)}`);
    }
    text += `${name}:${password}\n`;
  }
  return text;
}

class Instance implements RadicaleServer {
  private child: ChildProcess | null = null;
  private output = '';
  private stopped = false;
  private readonly userMap: Map<string, string>;

  constructor(
    readonly dir: string,
    readonly port: number,
    readonly admin: { user: string; password: string },
    users: Record<string, string>,
    private readonly tls: boolean,
  ) {
    this.userMap = new Map(Object.entries(users));
  }

  get url(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}/`;
  }

  get users(): ReadonlyMap<string, string> {
    return this.userMap;
  }

  get certificateFile(): string | null {
    return this.tls ? join(this.dir, 'tls', 'cert.pem') : null;
  }

  async writeFiles(): Promise<void> {
    await mkdir(join(this.dir, 'collections'));
    if (this.tls) await makeCertificate(join(this.dir, 'tls'));
    await writeFile(join(this.dir, 'config'), configText(this.dir, this.port, this.tls));
    await writeFile(join(this.dir, 'rights'), rightsText(this.admin.user));
    await this.writeUsers();
  }

  private async writeUsers(): Promise<void> {
    const all = new Map(this.userMap);
    all.set(this.admin.user, this.admin.password);
    // Radicale reads the file at every login: replace it whole, never let it see half of one.
    const path = join(this.dir, 'users');
    await writeFile(`${path}.new`, usersText(all), { mode: 0o600 });
    await rename(`${path}.new`, path);
  }

  async addUser(name: string, password: string): Promise<void> {
    this.userMap.set(name, password);
    await this.writeUsers();
  }

  log(): string {
    return this.output;
  }

  async spawnAndWait(): Promise<void> {
    const child = spawnServer(RADICALE.path, ['--config', join(this.dir, 'config')], {
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
      name: 'Radicale',
      ready: () => this.answers(),
      output: () => this.output,
      timeoutMs: READY_TIMEOUT_MS,
      portInUse: /Address already in use|Errno 98/,
    });
  }

  /** Whether our Radicale answers: the admin's PROPFIND of its own principal, 207. */
  private answers(): Promise<boolean> {
    const token = Buffer.from(`${this.admin.user}:${this.admin.password}`).toString('base64');
    // node:http(s) rather than fetch: the probe must not depend on the client under test.
    const send = this.tls ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      const request = send(
        new URL(`/${encodeURIComponent(this.admin.user)}/`, this.url),
        {
          method: 'PROPFIND',
          headers: { Authorization: `Basic ${token}`, Depth: '0' },
          timeout: 1_000,
          rejectUnauthorized: false,
        },
        (response) => {
          response.resume();
          resolve(response.statusCode === 207);
        },
      );
      request.on('error', () => resolve(false));
      request.on('timeout', () => request.destroy());
      request.end();
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.child) await stopProcess(this.child, 2_000);
    await removeTempDir(this.dir);
  }
}

/** Starts a server; resolves once it answers an authenticated PROPFIND. */
export async function startRadicale(options: RadicaleOptions = {}): Promise<RadicaleServer> {
  assertBinaries(RADICALE);
  const users = options.users ?? { alice: 'alicepw', bob: 'bobpw' };
  const admin = options.admin ?? { user: 'admin', password: 'adminpw' };
  return startWithPortRetries(async () => {
    const dir = await makeTempDir('radicale');
    const server = new Instance(dir, await freePort(), admin, users, options.tls ?? false);
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
