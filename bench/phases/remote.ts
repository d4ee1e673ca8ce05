// 13. Remote repositories: one account (BENCH_REMOTE_MESSAGES) backed up for the first time to
// each store — a local folder, SFTP (OpenSSH on loopback), S3 (s3rver, over HTTP and over
// HTTPS) — then restored from it into an empty account, with the requests the backup made to the
// store and how long its end waited for uploads; restic backing up and restoring the same
// account's Maildir beside it, on the stores where it works here. 14. What a no-change run costs
// the remote at scale: BENCH_REMOTE_ACCOUNTS small accounts backed up to each store, then again
// with nothing new, its requests counted by kind and, from a --verbose run's log, by file kind.
//
// Why an HTTPS s3rver too: restic's S3 client (minio-go) signs uploads over plain HTTP as
// aws-chunked streams, which s3rver stores verbatim, chunk headers and all, so restic cannot read
// back its own config; over HTTPS it signs the payload whole. mailvault runs on both, so its
// HTTPS figures are the ones to hold restic's against.
import type { ChildProcess } from 'node:child_process';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StorageRequestCounts } from '../../src/storage/wrappers/counting-storage.js';
import { MAIL_UID, type DovecotServer } from '../../test/support/dovecot.js';
import { startS3rver } from '../../test/support/s3.js';
import {
  makeCertificate,
  makeTempDir,
  removeTempDir,
  sleep,
  spawnServer,
  stopProcess,
} from '../../test/support/servers.js';
import { startSshd } from '../../test/support/sshd.js';
import { MAILVAULT_BIN } from '../../test/support/workspace.js';
import { checkSameMail, mailboxStatus, totals, type FolderStatus } from '../accounts.js';
import { rawFetch } from '../ceilings.js';
import {
  describeRun,
  fmtSpread,
  mb,
  medianRun,
  progress,
  rate,
  rotate,
  settle,
  spread,
  type Bench,
  type Settings,
} from '../common.js';
import { KEYWORDS, planMailbox, renderMessage } from '../mailgen.js';
import { maildirRoot, writeMailbox, writeMessageFile } from '../maildir.js';
import { backupFigures, type MailvaultRun } from '../mailvault.js';
import { run, timed, type Timed } from '../proc.js';
import { fmtBytes, fmtCount, fmtRate, fmtSeconds } from '../report.js';
import { RESTIC } from '../tools.js';

const checkout = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PASSPHRASE = 'correct horse battery staple';
/** The account of section 13, and the accounts of section 14 (many0001, many0002, ...). */
const ACCOUNT = 'remote';
const manyUser = (i: number): string => `many${String(i + 1).padStart(4, '0')}`;

type StoreId = 'local' | 'sftp' | 's3' | 's3tls';
const STORE_IDS: readonly StoreId[] = ['local', 'sftp', 's3', 's3tls'];

const restoreTarget = (store: StoreId, n: number): string => `restored-${store}-${n}`;

/** The Dovecot accounts this phase needs, made when the server starts. */
export function remoteUsers(settings: Settings): string[] {
  const targets = STORE_IDS.flatMap((store) =>
    Array.from({ length: settings.SAMPLES }, (_, i) => restoreTarget(store, i + 1)),
  );
  const many = Array.from({ length: settings.REMOTE_ACCOUNTS }, (_, i) => manyUser(i));
  return [ACCOUNT, ...targets, ...many];
}

/** How restic reaches a repository on a store: its -r and options, and its environment. */
interface ResticAccess {
  args: string[];
  env: NodeJS.ProcessEnv;
}

/** A place repositories go, as mailvault's configuration and restic's command line name it. */
interface Store {
  id: StoreId;
  label: string;
  /** The `repository:` lines (but the passphrase) for a repository named `name`. */
  mailvault(name: string): string[];
  /** What mailvault's environment needs besides the usual. */
  env: NodeJS.ProcessEnv;
  restic?: (name: string) => ResticAccess;
  /** Where the repository named `name` lies on the store's own disk, to remove it afterwards. */
  disk(name: string): string;
  /** HTTP requests that reached the store since the last call, by method and file kind. */
  takeHttpCounts?: () => Record<string, number>;
}

interface Stores {
  all: Store[];
  /** The S3 store again, behind a proxy that counts HTTP requests (section 14 only). */
  countedS3: Store;
  stop(): Promise<void>;
}

function localStore(root: string): Store {
  return {
    id: 'local',
    label: 'local folder',
    mailvault: (name) => [`url: ${join(root, name)}`],
    env: {},
    restic: (name) => ({ args: ['-r', join(root, name)], env: {} }),
    disk: (name) => join(root, name),
  };
}

async function sftpStore(): Promise<{ store: Store; stop(): Promise<void> }> {
  const sshd = await startSshd();
  const login = `${sshd.user}@127.0.0.1`;
  // restic runs ssh itself: the port, key and host key go on its command line.
  const ssh = [
    `ssh -p ${sshd.port} -i ${sshd.clientKeyFile}`,
    `-o UserKnownHostsFile=${sshd.knownHostsFile} -o StrictHostKeyChecking=yes`,
    `-o BatchMode=yes -o IdentitiesOnly=yes ${login} -s sftp`,
  ].join(' ');
  const store: Store = {
    id: 'sftp',
    label: 'SFTP (OpenSSH)',
    mailvault: (name) => [
      `url: sftp://${login}:${sshd.port}${join(sshd.sftpRoot, name)}`,
      `sftp: { keyFile: ${sshd.clientKeyFile}, knownHostsFile: ${sshd.knownHostsFile} }`,
    ],
    env: {},
    restic: (name) => ({
      args: ['-r', `sftp:${login}:${join(sshd.sftpRoot, name)}`, '-o', `sftp.command=${ssh}`],
      env: {},
    }),
    disk: (name) => join(sshd.sftpRoot, name),
  };
  return { store, stop: () => sshd.stop() };
}

/** s3rver's one account; its key files for mailvault's configuration. */
const S3_KEY = 'S3RVER';

async function s3KeyLines(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'id'), `${S3_KEY}\n`);
  await writeFile(join(dir, 'secret'), `${S3_KEY}\n`);
  return `s3: { accessKeyIdFile: ${join(dir, 'id')}, secretAccessKeyFile: ${join(dir, 'secret')} }`;
}

const s3Url = (name: string, endpoint: string): string =>
  `url: s3://backups/${name}?endpoint=${endpoint}&region=us-east-1&pathStyle=true`;

/** "PUT snapshots", "HEAD data", "LIST index": what an S3 request did to which kind of file. */
function s3RequestKind(message: IncomingMessage): string {
  const url = new URL(message.url ?? '/', 'http://s3');
  const prefix = url.searchParams.get('prefix');
  // Path style: /bucket/repository/kind/...; a listing names its folder in `prefix`.
  if (url.searchParams.has('list-type') || prefix !== null)
    return `LIST ${prefix?.split('/')[1] ?? '?'}`;
  const kind = url.pathname.split('/')[3] ?? '?';
  return `${message.method ?? '?'} ${kind}`;
}

/**
 * Passes HTTP requests on to s3rver and counts them: a storage request of mailvault's may take
 * several (a save asks whether the file exists first; a listing takes a page per 1,000 keys), and
 * S3 bills each one. The Host header goes on unchanged, so the signatures still hold.
 */
async function countingProxy(
  target: URL,
): Promise<{ endpoint: string; take(): Record<string, number>; stop(): Promise<void> }> {
  let counts: Record<string, number> = {};
  const server: Server = createServer((incoming, outgoing) => {
    const kind = s3RequestKind(incoming);
    counts[kind] = (counts[kind] ?? 0) + 1;
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    upstream.on('error', () => outgoing.destroy());
    incoming.pipe(upstream);
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    take: () => {
      const taken = counts;
      counts = {};
      return taken;
    },
    stop: () =>
      new Promise<void>((closed) => {
        server.closeAllConnections();
        server.close(() => closed());
      }),
  };
}

async function s3Store(
  work: string,
): Promise<{ store: Store; counted: Store; stop(): Promise<void> }> {
  const s3 = await startS3rver({ buckets: ['backups'] });
  const keys = await s3KeyLines(join(work, 's3-keys'));
  const proxy = await countingProxy(new URL(s3.endpoint));
  const store: Store = {
    id: 's3',
    label: 'S3 (s3rver, HTTP)',
    mailvault: (name) => [s3Url(name, s3.endpoint), keys],
    env: {},
    disk: (name) => join(s3.dir, 'backups', name),
  };
  const counted: Store = {
    ...store,
    mailvault: (name) => [s3Url(name, proxy.endpoint), keys],
    takeHttpCounts: proxy.take,
  };
  const stop = async (): Promise<void> => {
    await proxy.stop();
    await s3.stop();
  };
  return { store, counted, stop };
}

/**
 * s3rver over HTTPS, in a child process as test/support/s3.ts starts it (with OpenSSL's legacy
 * provider, for its paginated listings), with a self-signed certificate and the bucket made.
 */
const S3RVER_TLS = `import S3rver from 's3rver';
import { readFileSync } from 'node:fs';
const [directory, key, cert] = process.argv.slice(1);
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory,
  key: readFileSync(key), cert: readFileSync(cert), configureBuckets: [{ name: 'backups' }] });
const { port } = await server.run();
process.stdout.write(JSON.stringify({ port }) + '\\n');
`;

function announcedPort(child: ChildProcess): Promise<number> {
  return new Promise((resolvePort, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the HTTPS s3rver did not start')), 15_000);
    child.once('exit', (code) => reject(new Error(`the HTTPS s3rver exited (${code})`)));
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      out += chunk;
      if (!out.includes('\n')) return;
      clearTimeout(timer);
      resolvePort((JSON.parse(out.split('\n')[0] ?? '') as { port: number }).port);
    });
  });
}

async function s3TlsStore(work: string): Promise<{ store: Store; stop(): Promise<void> }> {
  const dir = await makeTempDir('s3rver-tls');
  await makeCertificate(join(dir, 'tls'));
  await mkdir(join(dir, 'store'));
  const cert = join(dir, 'tls', 'cert.pem');
  const child = spawnServer(
    process.execPath,
    [
      '--openssl-legacy-provider',
      '--input-type=module',
      '-e',
      S3RVER_TLS,
      join(dir, 'store'),
      join(dir, 'tls', 'key.pem'),
      cert,
    ],
    { cwd: checkout, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const endpoint = `https://127.0.0.1:${await announcedPort(child)}`;
  const keys = await s3KeyLines(join(work, 's3tls-keys'));
  const store: Store = {
    id: 's3tls',
    label: 'S3 (s3rver, HTTPS)',
    mailvault: (name) => [s3Url(name, endpoint), keys],
    // Node trusts the self-signed certificate through this alone; mailvault needs no option.
    env: { NODE_EXTRA_CA_CERTS: cert },
    restic: (name) => ({
      args: ['-r', `s3:${endpoint}/backups/${name}`, '--cacert', cert],
      env: { AWS_ACCESS_KEY_ID: S3_KEY, AWS_SECRET_ACCESS_KEY: S3_KEY },
    }),
    disk: (name) => join(dir, 'store', 'backups', name),
  };
  return {
    store,
    stop: async () => {
      await stopProcess(child, 2_000);
      await removeTempDir(dir);
    },
  };
}

async function startStores(work: string): Promise<Stores> {
  const root = join(work, 'remote-stores');
  await mkdir(join(root, 'local'), { recursive: true });
  const s3 = await s3Store(root);
  const started = [await sftpStore(), s3, await s3TlsStore(root)];
  return {
    all: [localStore(join(root, 'local')), ...started.map((s) => s.store)],
    countedS3: s3.counted,
    stop: async () => {
      for (const s of started) await s.stop();
    },
  };
}

/**
 * mailvault with a repository on a store: its configuration, catalog and cache in a folder
 * (bench/mailvault.ts's workspace with the repository lines of a store), run under GNU time.
 */
class StoreWorkspace {
  private constructor(
    readonly dir: string,
    readonly store: Store,
  ) {}

  get config(): string {
    return join(this.dir, 'mailvault.yml');
  }

  /** The default cache place: beside the catalog. */
  get cacheDir(): string {
    return join(this.dir, 'mailvault-cache');
  }

  static async create(
    server: DovecotServer,
    dir: string,
    store: Store,
    repository: string,
    accounts: string[],
  ): Promise<StoreWorkspace> {
    await mkdir(dir, { recursive: true });
    const ws = new StoreWorkspace(dir, store);
    await writeFile(join(dir, 'repo.pass'), `${PASSPHRASE}\n`, { mode: 0o600 });
    await writeFile(join(dir, 'admin.pass'), `${server.master.password}\n`, { mode: 0o600 });
    const auth = `auth: { mode: authzid, user: ${server.master.user}, passwordFile: ${join(dir, 'admin.pass')} }`;
    const lines = [
      'repository:',
      ...store.mailvault(repository).map((line) => `  ${line}`),
      `  passwordFile: ${join(dir, 'repo.pass')}`,
      'catalog:',
      `  url: ${join(dir, 'catalog.sqlite')}`,
      'servers:',
      '  - name: mail1',
      `    imap: { host: ${server.host}, port: ${server.port}, tls: none, ${auth} }`,
      `    accounts: { list: [${accounts.join(', ')}] }`,
      '',
    ];
    await writeFile(ws.config, lines.join('\n'));
    await ws.run(['init']);
    return ws;
  }

  /** `mailvault --json <args>`; `verbose` adds a log line per storage request on stderr. */
  async run(args: string[], verbose = false): Promise<MailvaultRun> {
    const env = { ...process.env, ...this.store.env };
    delete env.MAILVAULT_PASSWORD;
    delete env.MAILVAULT_CONFIG;
    const flags = ['--config', this.config, '--no-progress', '--json'];
    if (verbose) flags.push('--verbose');
    const result = await timed(process.execPath, [MAILVAULT_BIN, ...flags, ...args], { env });
    try {
      return { ...result, json: JSON.parse(result.stdout) as Record<string, unknown> };
    } catch {
      throw new Error(`mailvault ${args.join(' ')} printed no JSON:\n${result.stderr}`);
    }
  }
}

/** Files and bytes waiting in a cache's pending folders at a moment (epoch ms). */
interface PendingSample {
  at: number;
  files: number;
  bytes: number;
}

async function pendingNow(cacheDir: string): Promise<PendingSample> {
  const sample = { at: Date.now(), files: 0, bytes: 0 };
  for (const folder of await readdir(cacheDir).catch(() => [])) {
    const pending = join(cacheDir, folder, 'pending');
    for (const name of await readdir(pending).catch(() => [])) {
      if (name.startsWith('.tmp-')) continue;
      // The uploader may take the file away between the listing and the stat.
      const info = await stat(join(pending, name)).catch(() => undefined);
      if (!info) continue;
      sample.files++;
      sample.bytes += info.size;
    }
  }
  return sample;
}

/**
 * Samples the pending folders every `everyMs` until stopped: the JSON says what is left after
 * the end waited for uploads, not what waited when the backup itself was done.
 */
function watchPending(cacheDir: string, everyMs: number): () => Promise<PendingSample[]> {
  const samples: PendingSample[] = [];
  let stopped = false;
  const loop = (async (): Promise<void> => {
    while (!stopped) {
      samples.push(await pendingNow(cacheDir));
      await sleep(everyMs);
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    return samples;
  };
}

/** From the backup run's own end (its JSON's `finished`) to the process's exit. */
export interface UploadTail {
  seconds: number;
  /** What waited in the cache at the last sample before the run's end. */
  files: number;
  bytes: number;
}

interface StoreBackup {
  run: MailvaultRun;
  requests: StorageRequestCounts;
  /** On a store behind the counting proxy: the HTTP requests, by method and file kind. */
  http?: Record<string, number>;
  pendingAfter: { files: number; bytes: number };
  tail: UploadTail;
}

/**
 * A backup, its requests, and how long its end waited for uploads; the cache looked at every
 * `sampleMs` (a folder of a thousand snapshot files is not listed ten times a second).
 */
async function storeBackup(ws: StoreWorkspace, sampleMs: number): Promise<StoreBackup> {
  ws.store.takeHttpCounts?.();
  const stopWatch = watchPending(ws.cacheDir, sampleMs);
  const startedAt = Date.now();
  const backup = await ws.run(['backup']).catch(async (error: unknown) => {
    await stopWatch();
    throw error;
  });
  const samples = await stopWatch();
  const finished = Date.parse(String(backup.json.finished));
  const last = samples.filter((sample) => sample.at <= finished).at(-1);
  const json = backup.json as {
    storageRequests: StorageRequestCounts;
    pendingUploads: { files: number; bytes: number };
  };
  return {
    run: backup,
    requests: json.storageRequests,
    http: ws.store.takeHttpCounts?.(),
    pendingAfter: json.pendingUploads,
    tail: {
      seconds: (startedAt + backup.seconds * 1000 - finished) / 1000,
      files: last?.files ?? 0,
      bytes: last?.bytes ?? 0,
    },
  };
}

/** The account of section 13, as generated and as Dovecot serves it. */
interface RemoteMailbox {
  messages: number;
  raw: number;
  maildir: string;
  original: Map<string, FolderStatus>;
}

/**
 * A mailbox of its own rather than the main one: this phase runs alone (BENCH_ONLY=remote), and
 * four stores times BENCH_SAMPLES first backups, restores and restic runs of 20,000 messages
 * would take most of an hour.
 */
async function generateAccount(bench: Bench): Promise<RemoteMailbox> {
  const { server } = bench;
  const { REMOTE_MESSAGES, SEED } = bench.settings;
  const written = await writeMailbox(server, planMailbox(ACCOUNT, REMOTE_MESSAGES, SEED));
  const original = await mailboxStatus(server, ACCOUNT);
  const served = totals(original);
  if (served.messages !== REMOTE_MESSAGES)
    throw new Error(`Dovecot sees ${served.messages} messages in ${ACCOUNT}`);
  progress(
    `data: ${fmtCount(REMOTE_MESSAGES)} messages, ${fmtBytes(written.crlfBytes)} in ${ACCOUNT}`,
  );
  // Dovecot's first look at the messages is nobody's cost (as in phase backup).
  await rawFetch(server, ACCOUNT, written.folders, 'FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[]');
  return {
    messages: REMOTE_MESSAGES,
    raw: written.crlfBytes,
    maildir: maildirRoot(server, ACCOUNT),
    original,
  };
}

interface ResticRun {
  backup: Timed;
  restore: Timed;
}

export interface StoreRuns {
  store: StoreId;
  label: string;
  backups: StoreBackup[];
  restores: MailvaultRun[];
  restic: ResticRun[];
}

/** Message files restic restored: the files of every cur/ and new/ folder below `dir`. */
async function restoredMessages(dir: string): Promise<number> {
  let count = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    if (entry.name === 'cur' || entry.name === 'new') count += (await readdir(path)).length;
    else count += await restoredMessages(path);
  }
  return count;
}

/** restic's first backup of the account's Maildir to the store, then its restore to a folder. */
async function resticSample(
  bench: Bench,
  access: ResticAccess,
  dir: string,
  mailbox: RemoteMailbox,
): Promise<ResticRun> {
  const env = {
    ...process.env,
    ...access.env,
    RESTIC_PASSWORD: PASSPHRASE,
    RESTIC_CACHE_DIR: join(dir, 'cache'),
  };
  await timed(RESTIC, [...access.args, 'init', '--repository-version', '2'], { env });
  await settle();
  const backup = await timed(
    RESTIC,
    [...access.args, 'backup', '--quiet', '--host', 'bench', mailbox.maildir],
    { env },
  );
  await settle();
  const target = join(dir, 'restored');
  const restore = await timed(RESTIC, [...access.args, 'restore', 'latest', '--target', target], {
    env,
  });
  const files = await restoredMessages(target);
  if (files !== mailbox.messages) throw new Error(`restic restored ${files} message files`);
  return { backup, restore };
}

/** One round on one store: mailvault's backup and restore, then restic's; then it all goes. */
async function storeSample(
  bench: Bench,
  store: Store,
  mailbox: RemoteMailbox,
  n: number,
  runs: StoreRuns,
): Promise<void> {
  const { server, work, settings } = bench;
  const round = `${n}/${settings.SAMPLES}`;
  const name = `mailvault-${store.id}-${n}`;
  const ws = await StoreWorkspace.create(server, join(work, 'remote', name), store, name, [
    ACCOUNT,
  ]);
  await settle();
  progress(`mailvault backup to ${store.label} (${round})`);
  const backup = await storeBackup(ws, 100);
  const figures = backupFigures(backup.run);
  if (figures.items !== mailbox.messages) throw new Error(`backup saw ${figures.items} items`);
  runs.backups.push(backup);
  progress(
    `  ${describeRun(backup.run)}; ${fmtRequests(backup.requests)}; ` +
      `${fmtSeconds(backup.tail.seconds)} from the run's end to exit`,
  );
  const target = restoreTarget(store.id, n);
  await settle();
  progress(`mailvault restore from ${store.label} into the empty account ${target} (${round})`);
  const restore = await ws.run(['restore', 'account', ACCOUNT, '--to-account', target]);
  await checkSameMail(server, target, mailbox.original, `the restore from ${store.label}`);
  runs.restores.push(restore);
  progress(`  ${describeRun(restore)}`);
  await rm(ws.dir, { recursive: true, force: true });
  await rm(store.disk(name), { recursive: true, force: true });
  if (!store.restic || !settings.REMOTE_BASELINE) return;
  const resticName = `restic-${store.id}-${n}`;
  const dir = join(work, 'remote', resticName);
  progress(`restic backup and restore of the Maildir on ${store.label} (${round})`);
  const restic = await resticSample(bench, store.restic(resticName), dir, mailbox);
  runs.restic.push(restic);
  progress(`  backup ${describeRun(restic.backup)}; restore ${describeRun(restic.restore)}`);
  await rm(dir, { recursive: true, force: true });
  await rm(store.disk(resticName), { recursive: true, force: true });
}

async function measureThroughput(
  bench: Bench,
  stores: Store[],
  mailbox: RemoteMailbox,
): Promise<StoreRuns[]> {
  const runs = stores.map((store): StoreRuns => ({
    store: store.id,
    label: store.label,
    backups: [],
    restores: [],
    restic: [],
  }));
  // The order of the stores rotates from one round to the next, as in phase restore.
  for (let i = 0; i < bench.settings.SAMPLES; i++) {
    for (const store of rotate(stores, i)) {
      const storeRuns = runs.find((r) => r.store === store.id);
      if (storeRuns) await storeSample(bench, store, mailbox, i + 1, storeRuns);
    }
  }
  return runs;
}

/**
 * The small accounts of section 14, written straight into their Maildirs (a few messages each,
 * all in INBOX; Sent and Trash come from the server), then indexed by Dovecot in one doveadm run.
 */
async function writeSmallAccounts(bench: Bench, users: string[]): Promise<void> {
  const { server, work } = bench;
  const { REMOTE_ACCOUNT_MESSAGES, SEED } = bench.settings;
  const keywords = KEYWORDS.map((keyword, i) => `${i} ${keyword}\n`).join('');
  for (const [i, user] of users.entries()) {
    const plan = planMailbox(user, REMOTE_ACCOUNT_MESSAGES, SEED + i);
    const root = maildirRoot(server, user);
    for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(root, sub), { recursive: true });
    await writeFile(join(root, 'dovecot-keywords'), keywords);
    for (const spec of plan.messages)
      writeMessageFile(root, 'INBOX', renderMessage(plan, spec), spec.flags, spec.internalDate);
  }
  const chown = await run('chown', ['-R', `${MAIL_UID}:${MAIL_UID}`, join(server.dir, 'mail')]);
  if (chown.code !== 0) throw new Error(`chown failed: ${chown.stderr}`);
  const list = join(work, 'remote-accounts.txt');
  await writeFile(list, `${users.join('\n')}\n`);
  await server.doveadm('force-resync', '-F', list, '*');
}

/** Requests of one kind on one kind of file, from a --verbose run's log. */
export interface RequestKind {
  operation: string;
  kind: string;
  requests: number;
  /** Entries listed (listings), bytes moved (saves and loads). */
  items: number;
  bytes: number;
}

/**
 * The storage lines of a --verbose run (one per request that reached the remote, see
 * LoggingStorage), summed by operation and file kind. `create` is not counted by --json either.
 */
function requestBreakdown(stderr: string): RequestKind[] {
  const kinds = new Map<string, RequestKind>();
  for (const line of stderr.split('\n')) {
    if (!line.includes('"storage request"')) continue;
    const entry = JSON.parse(line) as {
      operation: string;
      file?: string;
      kind?: string;
      items?: number;
      bytes?: number;
    };
    if (entry.operation === 'create') continue;
    const operation = entry.operation === 'names' ? 'list' : entry.operation;
    const kind = entry.kind ?? entry.file?.split('/')[0] ?? '?';
    const key = `${operation} ${kind}`;
    const known = kinds.get(key) ?? { operation, kind, requests: 0, items: 0, bytes: 0 };
    known.requests++;
    known.items += entry.items ?? 0;
    known.bytes += entry.bytes ?? 0;
    kinds.set(key, known);
  }
  return [...kinds.values()].sort((a, b) => b.requests - a.requests);
}

export interface ScaleRuns {
  store: StoreId;
  label: string;
  first: StoreBackup;
  noChange: StoreBackup;
  /** A second no-change run with --verbose, for the breakdown by file kind (remote stores). */
  verbose: MailvaultRun;
  breakdown: RequestKind[];
}

async function scaleOnStore(bench: Bench, store: Store, users: string[]): Promise<ScaleRuns> {
  const { server, work } = bench;
  const expected = users.length * bench.settings.REMOTE_ACCOUNT_MESSAGES;
  const name = `mailvault-many-${store.id}`;
  const ws = await StoreWorkspace.create(server, join(work, 'remote', name), store, name, users);
  await settle();
  progress(`mailvault backup of ${fmtCount(users.length)} accounts to ${store.label}, first run`);
  const first = await storeBackup(ws, 500);
  const items = backupFigures(first.run).items;
  if (items !== expected) throw new Error(`backup saw ${items} items, expected ${expected}`);
  progress(`  ${describeRun(first.run)}; ${fmtRequests(first.requests)}`);
  await settle();
  progress(`mailvault backup of ${fmtCount(users.length)} accounts, no-change run`);
  const noChange = await storeBackup(ws, 500);
  if (backupFigures(noChange.run).newItems !== 0) throw new Error('the no-change run found mail');
  progress(`  ${describeRun(noChange.run)}; ${fmtRequests(noChange.requests)}`);
  const verbose = await ws.run(['backup'], true);
  const breakdown = requestBreakdown(verbose.stderr);
  progress(`  again with --verbose: ${fmtBreakdown(breakdown)}`);
  await rm(ws.dir, { recursive: true, force: true });
  await rm(store.disk(name), { recursive: true, force: true });
  return { store: store.id, label: store.label, first, noChange, verbose, breakdown };
}

export interface RemoteResults {
  messages: number;
  raw: number;
  stores: StoreRuns[];
  accounts: number;
  scale: ScaleRuns[];
}

export async function measureRemote(bench: Bench): Promise<RemoteResults> {
  const stores = await startStores(bench.work);
  try {
    const mailbox = await generateAccount(bench);
    const throughput = await measureThroughput(bench, stores.all, mailbox);
    const users = Array.from({ length: bench.settings.REMOTE_ACCOUNTS }, (_, i) => manyUser(i));
    progress(
      `writing ${fmtCount(users.length)} accounts of ${bench.settings.REMOTE_ACCOUNT_MESSAGES} messages`,
    );
    await writeSmallAccounts(bench, users);
    // HTTPS is left out: TLS changes how long requests take, not how many there are.
    const scaleStores = stores.all.filter((s) => s.id === 'local' || s.id === 'sftp');
    const scale: ScaleRuns[] = [];
    for (const store of [...scaleStores, stores.countedS3])
      scale.push(await scaleOnStore(bench, store, users));
    return {
      messages: mailbox.messages,
      raw: mailbox.raw,
      stores: throughput,
      accounts: users.length,
      scale,
    };
  } finally {
    await stores.stop();
  }
}

const requestTotal = (c: StorageRequestCounts): number =>
  c.save + c.load + c.stat + c.list + c.remove;

/** "45 requests (save 40, load 2, list 3; 13.8 kB up, 277 kB down)": kinds with none left out. */
function fmtRequests(c: StorageRequestCounts): string {
  const kinds = (['save', 'load', 'stat', 'list', 'remove', 'failed'] as const)
    .filter((kind) => c[kind] > 0)
    .map((kind) => `${kind} ${fmtCount(c[kind])}`);
  return (
    `${fmtCount(requestTotal(c))} requests (${kinds.join(', ')}; ` +
    `${fmtBytes(c.bytesUp)} up, ${fmtBytes(c.bytesDown)} down)`
  );
}

function fmtBreakdown(kinds: RequestKind[]): string {
  if (kinds.length === 0) return 'no remote requests logged';
  return kinds
    .map((k) => {
      const listed = k.operation === 'list' ? ` (${fmtCount(k.items)} entries)` : '';
      return `${k.operation} ${k.kind} ${fmtCount(k.requests)}${listed}`;
    })
    .join(', ');
}

const msgPerSec = (n: number): string => fmtRate(n, 'msg/s');
const fmtFiles = (n: number): string => `${fmtCount(n)} file${n === 1 ? '' : 's'}`;

/** The restic figures a mailvault row is held against, or why there are none. */
function resticTarget(runs: StoreRuns, messages: number, which: keyof ResticRun): string {
  if (runs.restic.length === 0)
    return runs.store === 's3' ? 'restic: not over HTTP (see HTTPS)' : 'restic: not run';
  const rates = spread(runs.restic.map((r) => rate(messages, r[which].seconds)));
  const what = which === 'backup' ? 'Maildir' : 'to a folder';
  return `restic (${what}): ${fmtSpread(rates, msgPerSec)}`;
}

function reportStore(bench: Bench, results: RemoteResults, runs: StoreRuns): void {
  const { messages, raw } = results;
  const section = `13. Remote repositories (${fmtCount(messages)} messages, ${fmtBytes(raw)}, one account)`;
  const add = bench.report.add.bind(bench.report);
  const id = `remote.${runs.store}`;
  const backups = spread(runs.backups.map((b) => rate(messages, b.run.seconds)));
  const mbPerMsg = mb(raw) / messages;
  add({
    id: `${id}.backup.msgPerSec`,
    section,
    label: `${runs.label}: first backup (wall)`,
    value: backups.median,
    unit: 'msg/s',
    display: `${fmtSpread(backups, msgPerSec)}; ${fmtRate(backups.median * mbPerMsg, 'MB/s')}`,
    target: resticTarget(runs, messages, 'backup'),
    samples: backups,
  });
  const median = medianBackup(runs.backups);
  add({
    id: `${id}.backup.requests`,
    section,
    label: `${runs.label}: requests of the backup`,
    value: requestTotal(median.requests),
    unit: 'requests',
    display: fmtRequests(median.requests),
    target: '',
  });
  const tails = spread(runs.backups.map((b) => b.tail.seconds));
  const waiting = `${fmtFiles(median.tail.files)}, ${fmtBytes(median.tail.bytes)} waiting at the run's end`;
  const left = median.pendingAfter.files > 0 ? `; ${median.pendingAfter.files} still after` : '';
  add({
    id: `${id}.backup.uploadTail`,
    section,
    label: `${runs.label}: from the run's end to exit (uploads)`,
    value: tails.median,
    unit: 's',
    display: `${fmtSpread(tails, fmtSeconds)}; ${waiting}${left}`,
    target: '',
    samples: tails,
  });
  const restores = spread(runs.restores.map((r) => rate(messages, r.seconds)));
  add({
    id: `${id}.restore.msgPerSec`,
    section,
    label: `${runs.label}: restore into an empty account`,
    value: restores.median,
    unit: 'msg/s',
    display: `${fmtSpread(restores, msgPerSec)}; ${fmtRate(restores.median * mbPerMsg, 'MB/s')}`,
    target: resticTarget(runs, messages, 'restore'),
    samples: restores,
  });
}

function medianBackup(backups: StoreBackup[]): StoreBackup {
  const middle = medianRun(backups.map((b) => b.run));
  const found = backups.find((b) => b.run === middle);
  if (!found) throw new Error('no backups');
  return found;
}

/** "PUT snapshots 1,000, HEAD snapshots 1,000, LIST snapshots 3": the proxy's counts. */
function fmtHttp(counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  const sum = entries.reduce((total, [, n]) => total + n, 0);
  return `${fmtCount(sum)}: ${entries.map(([kind, n]) => `${kind} ${fmtCount(n)}`).join(', ')}`;
}

/** The no-change run's wall time, split at the backup run's own start and end. */
function fmtWall(backup: StoreBackup): string {
  const runSeconds = backupFigures(backup.run).runSeconds;
  const before = backup.run.seconds - runSeconds - backup.tail.seconds;
  return (
    `${fmtSeconds(backup.run.seconds)}: ${fmtSeconds(before)} before the run (start, key, ` +
    `catalog, parents), the run ${fmtSeconds(runSeconds)}, ${fmtSeconds(backup.tail.seconds)} after ` +
    `(${fmtFiles(backup.tail.files)} waiting at its end)`
  );
}

function reportScale(bench: Bench, results: RemoteResults, runs: ScaleRuns): void {
  const { accounts } = results;
  const section = `14. Remote requests at scale (${fmtCount(accounts)} accounts of ${bench.settings.REMOTE_ACCOUNT_MESSAGES} messages)`;
  const add = bench.report.add.bind(bench.report);
  const id = `remote.scale.${runs.store}`;
  const remote = runs.store !== 'local';
  add({
    id: `${id}.first`,
    section,
    label: `${runs.label}: first backup`,
    value: runs.first.run.seconds,
    unit: 's',
    display:
      `${fmtSeconds(runs.first.run.seconds)}; ${fmtRequests(runs.first.requests)}` +
      (runs.first.http ? `; HTTP ${fmtHttp(runs.first.http)}` : ''),
    target: '',
  });
  const total = requestTotal(runs.noChange.requests);
  add({
    id: `${id}.noChange.requests`,
    section,
    label: `${runs.label}: no-change run, ${remote ? 'remote' : 'disk'} requests (--json)`,
    value: total,
    unit: 'requests',
    display: `${fmtRequests(runs.noChange.requests)}; ${(total / accounts).toFixed(2)} per account`,
    // "Not thousands" read as: fewer than one request per account. A local disk is not judged.
    target: remote ? `not thousands: < ${fmtCount(accounts)}, 1 per account` : '',
    ...(remote ? { met: total < accounts } : {}),
  });
  add({
    id: `${id}.noChange.seconds`,
    section,
    label: `${runs.label}: no-change run, wall time`,
    value: runs.noChange.run.seconds,
    unit: 's',
    display: fmtWall(runs.noChange),
    target: '',
  });
  if (runs.noChange.http) {
    const http = Object.values(runs.noChange.http).reduce((sum, n) => sum + n, 0);
    add({
      id: `${id}.noChange.httpRequests`,
      section,
      label: `${runs.label}: no-change run, HTTP requests (counting proxy)`,
      value: http,
      unit: 'requests',
      display: `${fmtHttp(runs.noChange.http)}; ${(http / accounts).toFixed(2)} per account`,
      target: '',
    });
  }
  if (!remote) return;
  const logged = runs.breakdown.reduce((sum, k) => sum + k.requests, 0);
  add({
    id: `${id}.noChange.breakdown`,
    section,
    label: `${runs.label}: by file kind (a 2nd no-change run, --verbose)`,
    value: logged,
    unit: 'requests',
    display: `${fmtCount(logged)}: ${fmtBreakdown(runs.breakdown)}`,
    target: '',
  });
}

export function reportRemote(bench: Bench, results: RemoteResults): void {
  for (const runs of results.stores) reportStore(bench, results, runs);
  for (const runs of results.scale) reportScale(bench, results, runs);
  bench.details.remote = {
    messages: results.messages,
    rawBytes: results.raw,
    stores: results.stores.map((runs) => ({
      store: runs.store,
      backups: runs.backups.map((b) => ({
        seconds: b.run.seconds,
        runSeconds: backupFigures(b.run).runSeconds,
        requests: b.requests,
        pendingAfter: b.pendingAfter,
        tail: b.tail,
      })),
      restoreSeconds: runs.restores.map((r) => r.seconds),
      restic: runs.restic.map((r) => ({
        backupSeconds: r.backup.seconds,
        restoreSeconds: r.restore.seconds,
      })),
    })),
    accounts: results.accounts,
    scale: results.scale.map((runs) => ({
      store: runs.store,
      first: {
        seconds: runs.first.run.seconds,
        requests: runs.first.requests,
        http: runs.first.http,
      },
      noChange: {
        seconds: runs.noChange.run.seconds,
        runSeconds: backupFigures(runs.noChange.run).runSeconds,
        requests: runs.noChange.requests,
        http: runs.noChange.http,
        tail: runs.noChange.tail,
      },
      verbose: {
        seconds: runs.verbose.seconds,
        requests: (runs.verbose.json as { storageRequests?: unknown }).storageRequests,
        breakdown: runs.breakdown,
      },
    })),
  };
}
