// Starts a real Xandikos CalDAV/CardDAV server for integration tests: a second DAV server
// besides Radicale, with other conventions. One per call, from its own temporary directory, on
// 127.0.0.1 and a free port, stopped (and its directory removed) afterwards.
//
// What sets Xandikos apart (Debian's 0.2.8, read from its source and checked by hand):
// - no authentication at all: it serves one user, whatever credentials a client sends, whose
//   principal is /user/ (current-user-principal), with the homes /user/calendars/ and
//   /user/contacts/ (created empty by --autocreate);
// - MKCALENDAR and extended MKCOL answer 201 Created even when they stored none of the
//   properties they were given, listing each property with its own status (404) in the body;
// - after creation, PROPPATCH stores a calendar's display name, calendar-color and
//   calendar-order, and an address book's display name, description and colour, but refuses
//   (409) a calendar's description, time zone and supported component set, which it keeps
//   fixed (every component).
import type { ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
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
  waitForReady,
} from './servers.js';

export const XANDIKOS: ServerBinary = {
  name: 'Xandikos',
  path: '/usr/bin/xandikos',
  debianPackage: 'xandikos',
};

/**
 * For `describe.skipIf(!haveXandikos)`. False only when Xandikos is missing outside CI (a
 * reason is printed); under CI it stays true so that startXandikos fails the tests instead.
 */
export const haveXandikos: boolean = requireBinaries(XANDIKOS);

export interface XandikosServer {
  /** The server's root, e.g. http://127.0.0.1:41234/ */
  url: string;
  port: number;
  dir: string;
  /** The only principal it serves. */
  principal: string;
  calendarHome: string;
  addressbookHome: string;
  /** What it printed so far (its access log included). */
  log(): string;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;
const PRINCIPAL = '/user/';

class Instance implements XandikosServer {
  private child: ChildProcess | null = null;
  private output = '';
  private stopped = false;
  readonly principal = PRINCIPAL;
  readonly calendarHome = `${PRINCIPAL}calendars/`;
  readonly addressbookHome = `${PRINCIPAL}contacts/`;

  constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  log(): string {
    return this.output;
  }

  async spawnAndWait(): Promise<void> {
    const child = spawnServer(
      XANDIKOS.path,
      [
        '--directory',
        join(this.dir, 'data'),
        '--listen-address',
        '127.0.0.1',
        '--port',
        String(this.port),
        '--current-user-principal',
        PRINCIPAL,
        // The principal and its two homes, empty: an account with no calendar yet.
        '--autocreate',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        if (this.output.length < 4 * 1024 * 1024) this.output += chunk;
      });
    }
    await waitForReady(child, {
      name: 'Xandikos',
      ready: () => this.answers(),
      output: () => this.output,
      timeoutMs: READY_TIMEOUT_MS,
      portInUse: /address already in use|Errno 98/i,
      pollMs: 50,
    });
  }

  /** Whether our Xandikos answers: a PROPFIND of its principal, 207. */
  private answers(): Promise<boolean> {
    // node:http rather than fetch: the probe must not depend on the client under test.
    return new Promise((resolve) => {
      const request = httpRequest(
        new URL(PRINCIPAL, this.url),
        { method: 'PROPFIND', headers: { Depth: '0' }, timeout: 1_000 },
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

/** Starts a server; resolves once it answers a PROPFIND of its principal. */
export async function startXandikos(): Promise<XandikosServer> {
  assertBinaries(XANDIKOS);
  return startWithPortRetries(async () => {
    const dir = await makeTempDir('xandikos');
    const server = new Instance(dir, await freePort());
    try {
      await server.spawnAndWait();
      return server;
    } catch (error) {
      await server.stop();
      throw error;
    }
  });
}
