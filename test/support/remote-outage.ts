// What the remote-outage tests share: a CLI run watched while it runs, a wait for what the
// remote's disk shows, the configuration that looks at the remote alone, and a fixture of one
// Dovecot server and one remote store per describe block. The tests themselves are in
// remote-outage-suites.ts, run by one small test file per remote kind and situation so that
// vitest can run them side by side (it runs files in parallel, not the tests of one file).
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { startDovecot, type DovecotServer } from './dovecot.js';
import { fillMailbox, readAccount, type AccountState } from './imap-fixture.js';
import { generateMessages } from './mail-generator.js';
import { REMOTE_KINDS, type RemoteKind, type RemoteStore } from './remote-stores.js';
import { sleep } from './servers.js';
import { createWorkspace, runCli, type CliResult, type Workspace, shown } from './workspace.js';

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  exited: boolean;
  kill(): void;
  finished: Promise<Finished>;
}

/** Starts the CLI without waiting, for tests that act while it runs. */
export function startCli(ws: Workspace, args: string[]): Running {
  const child = ws.spawn(args);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (data: Buffer) => out.push(data));
  child.stderr?.on('data', (data: Buffer) => err.push(data));
  const running: Running = {
    exited: false,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    finished: new Promise<Finished>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => {
        running.exited = true;
        resolve({
          code,
          signal,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        });
      });
    }),
  };
  return running;
}

/** Polls until `condition` holds (every 10 ms: a remote's first pack is a short moment to catch). */
export async function waitFor(condition: () => Promise<boolean>, what: string): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > 120_000) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export interface BackupJson {
  accounts: Array<{ account: string; ok: boolean; snapshot: string | null }>;
  totals: { items: number; newItems: number };
  pendingUploads: { files: number; bytes: number; remoteError?: string };
}

export interface SnapshotRow {
  id: string;
  account: string;
  items: number;
}

export const totalOf = (state: AccountState): number =>
  state.folders.reduce((sum, folder) => sum + folder.messages.length, 0);

/** The test waits this long for uploads at the end of a backup, not a minute. */
const CACHE = 'cache: { uploadWait: 3s }';

/**
 * Runs the CLI with the workspace's configuration but an empty cache: what it sees is what the
 * remote holds, nothing of what waits to upload.
 */
export async function runOnRemoteAlone(ws: Workspace, args: string[]): Promise<CliResult> {
  const empty = await mkdtemp(join(ws.dir, 'empty-cache-'));
  const yaml = await readFile(ws.config, 'utf8');
  const config = join(empty, 'remote-alone.yml');
  const changed = yaml.replace(CACHE, `cache: { uploadWait: 3s, dir: ${empty} }`);
  if (changed === yaml) throw new Error('no cache settings in the configuration');
  await writeFile(config, changed);
  return runCli(config, args);
}

export async function expectCheckPasses(
  ws: Workspace,
  args: string[],
  when: string,
): Promise<void> {
  const result = await runOnRemoteAlone(ws, args);
  expect(result.code, `${when}: ${args.join(' ')} on the remote alone\n${shown(result)}`).toBe(0);
  expect(result.stdout).toMatch(/^no errors/m);
}

/** The remote kind whose name starts with `prefix` ('SFTP', 'S3'). */
export function remoteKind(prefix: string): RemoteKind {
  const kind = REMOTE_KINDS.find((candidate) => candidate.name.startsWith(prefix));
  if (!kind) throw new Error(`no remote kind named ${prefix}`);
  return kind;
}

/** What a describe block's tests use: set in its beforeAll, so read it inside the tests. */
export class OutageFixture {
  server!: DovecotServer;
  store!: RemoteStore;
  /** alice's mailbox as filled, when the fixture was asked for it. */
  before: AccountState = { folders: [] };
  readonly workspaces: Workspace[] = [];

  /** A workspace backing up `account` to repository `repository` on the store, initialised. */
  async workspace(repository: string, account = 'alice'): Promise<Workspace> {
    const ws = await createWorkspace(this.server, {
      accounts: [account],
      repository: this.store.repository(repository, [CACHE]),
    });
    this.workspaces.push(ws);
    const init = await ws.run(['init', '--scrypt-cost', '10']);
    expect(init.code, shown(init)).toBe(0);
    return ws;
  }
}

/**
 * Registers, in the describe block that calls it, a Dovecot server with `users`, a remote store of
 * `remote`'s kind, and with `largeMailbox` alice's mailbox of some 1,750 messages (about 40 MB)
 * that keeps a backup and its uploads going for a while.
 */
export function outageFixture(
  remote: RemoteKind,
  users: Record<string, string>,
  options: { largeMailbox: boolean },
): OutageFixture {
  const fixture = new OutageFixture();

  beforeAll(async () => {
    fixture.server = await startDovecot({ users });
    fixture.store = await remote.start();
    if (!options.largeMailbox) return;
    // Large messages first (Archive/2024 is backed up first): the first of some five packs
    // reaches the remote early, while the rest and the small messages after them keep the run
    // and its uploads going.
    await fillMailbox(fixture.server, 'alice', {
      'Archive/2024': generateMessages({ tag: 'outage-archive', count: 250, largeEvery: 1 }),
      INBOX: generateMessages({ tag: 'outage-inbox', count: 1200 }),
      Sent: generateMessages({ tag: 'outage-sent', count: 300 }),
    });
    fixture.before = await readAccount(fixture.server, 'alice');
  }, 180_000);

  // A test that fails while the remote is down or frozen leaves it up for the next one.
  afterEach(async () => {
    fixture.store?.thaw();
    await fixture.store?.startAgain();
  });

  afterAll(async () => {
    await fixture.server?.stop();
    await fixture.store?.stop();
    for (const ws of fixture.workspaces) await ws.remove();
  });

  return fixture;
}
