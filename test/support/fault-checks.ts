// What the fault suite asks of a repository and a catalog after a command was killed: each check
// returns the problems it found as sentences (an empty list: none), so that one kill point can
// report everything wrong with it and the suite can go on to the next.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DovecotServer } from './dovecot.js';
import { readExportedMaildir, mailByFolder } from './fault-maildir.js';
import { mailOf, readAccount } from './imap-fixture.js';
import { wipeAccount } from './mail-admin.js';
import { listRepository } from './repository-files.js';
import { runCli, shown, type CliResult } from './workspace.js';
import { readPackHeader } from '../../src/repository/pack/read-pack-header.js';
import { Repository } from '../../src/repository/repository.js';
import { LocalStorage } from '../../src/storage/local/local-storage.js';

/** What a check adds to the figures of a run. */
export interface CheckTally {
  repositoriesChecked: number;
  itemsCompared: number;
}

export function emptyTally(): CheckTally {
  return { repositoriesChecked: 0, itemsCompared: 0 };
}

/** Runs the CLI with one configuration, as an administrator would. */
export type Cli = (args: string[], env?: Record<string, string>) => Promise<CliResult>;

export function cliFor(config: string): Cli {
  return async (args, env) => {
    const t = Date.now();
    const r = await runCli(config, args, { env: env ?? {}, timeoutMs: 180_000 });
    if (process.env.FAULT_DEBUG) console.log(`${Date.now() - t} ms: ${args.join(' ')}`);
    return r;
  };
}

/** A short account of a CLI run for a problem's sentence. */
function briefly(result: CliResult): string {
  return shown(result).replace(/\n+/g, ' | ').slice(0, 1500);
}

/** The folders whose files are named by the SHA-256 of their bytes (format section 2). */
const CONTENT_ADDRESSED = /^(data\/[0-9a-f]{2}|index|snapshots|runs|keys|condemned)\/([^/]+)$/;

/**
 * Nothing is half-written where the format promises a file is absent or complete: every file
 * under a real name holds the bytes its name is the hash of, and an unfinished write lies only
 * under a `.tmp-` name in the folder its real name would go to (format sections 2 and 12).
 * `damaged` names files a scenario damaged on purpose.
 */
export async function halfWrittenFiles(
  root: string,
  damaged: ReadonlySet<string> = new Set(),
): Promise<string[]> {
  const problems: string[] = [];
  for (const entry of await listRepository(root)) {
    if (entry.path.endsWith('/') || entry.path === 'config') continue;
    const name = entry.path.slice(entry.path.lastIndexOf('/') + 1);
    const folder = entry.path.slice(0, Math.max(0, entry.path.lastIndexOf('/')));
    if (name.startsWith('.tmp-')) {
      // The config's temporary file lies beside it, at the top (folder '').
      if (!/^(|data\/[0-9a-f]{2}|index|snapshots|runs|keys|condemned|locks)$/.test(folder))
        problems.push(`${entry.path}: a temporary file outside its folder`);
      continue;
    }
    if (folder === 'locks') continue;
    if (!CONTENT_ADDRESSED.test(entry.path) || !/^[0-9a-f]{64}$/.test(name)) {
      problems.push(`${entry.path}: a name the repository format does not use`);
      continue;
    }
    if (damaged.has(name)) continue;
    const digest = createHash('sha256')
      .update(await readFile(join(root, entry.path)))
      .digest('hex');
    if (digest !== name) problems.push(`${entry.path}: its content does not match its name`);
  }
  return problems;
}

/**
 * What a prune that had every chance to clean up (past its grace period) must have left: no
 * object stored in two packs, no temporary file. Read from the packs' own headers, whatever the
 * index says.
 */
export async function leftovers(root: string, passphrase: string): Promise<string[]> {
  const storage = new LocalStorage(root);
  try {
    const repository = await Repository.open(storage, passphrase);
    const holders = new Map<string, number>();
    for await (const pack of storage.list('data')) {
      const entries = await readPackHeader(
        storage,
        repository.key.encryption,
        pack.name,
        pack.size,
      );
      for (const entry of entries) {
        const id = entry.id.toString('hex');
        holders.set(id, (holders.get(id) ?? 0) + 1);
      }
    }
    const twice = [...holders.values()].filter((count) => count > 1).length;
    const temporary = (await listRepository(root)).filter((entry) =>
      entry.path.slice(entry.path.lastIndexOf('/') + 1).startsWith('.tmp-'),
    );
    return [
      ...(twice > 0 ? [`${twice} object(s) are stored in more than one pack`] : []),
      ...temporary.map((entry) => `${entry.path}: a temporary file left behind`),
    ];
  } finally {
    await storage.close();
  }
}

/** What `check` may warn of after a crash: packs in no index, which the next prune takes. */
const ALLOWED_WARNINGS = /in no index/;

interface CheckJson {
  ok: boolean;
  errors: string[];
  warnings: string[];
  damagedItems: unknown[];
}

/**
 * `check --read-data` passes, warning at most of what the format says a crash may leave.
 * `allowedErrors` names errors a scenario caused on purpose (a pack it damaged), which the
 * command killed is not expected to make go away.
 */
export async function checkReadData(
  cli: Cli,
  tally: CheckTally,
  options: { what?: string; unindexedPacks?: boolean; allowedErrors?: RegExp } = {},
): Promise<string[]> {
  const what = options.what ?? 'check';
  const allowed = options.unindexedPacks === false ? null : ALLOWED_WARNINGS;
  const result = await cli(['check', '--read-data', '--json']);
  tally.repositoriesChecked++;
  let report: CheckJson;
  try {
    report = result.json<CheckJson>();
  } catch {
    return [`${what} --read-data gave no report: ${briefly(result)}`];
  }
  const problems: string[] = [];
  const errors = report.errors.filter((error) => !options.allowedErrors?.test(error));
  for (const error of errors) problems.push(`${what} --read-data: error: ${error}`);
  if (report.damagedItems.length > 0)
    problems.push(`${what} --read-data: ${report.damagedItems.length} damaged item(s)`);
  for (const warning of report.warnings)
    if (!allowed?.test(warning)) problems.push(`${what} --read-data: warning: ${warning}`);
  // An allowed error still makes check exit 1; any other failure must show in the report.
  const expectedCode = report.errors.length > errors.length ? 1 : 0;
  if (result.code !== expectedCode && problems.length === 0)
    problems.push(`${what} --read-data exited ${result.code}: ${briefly(result)}`);
  else if (result.code !== expectedCode)
    problems.unshift(`${what} --read-data exited ${result.code}`);
  return problems;
}

export interface RepositorySnapshot {
  id: string;
  account: string;
  items: number | null;
}

interface CatalogRow {
  id: string;
  source: string;
  account: string;
  items: number;
}

/** Every snapshot of the repository (snapshot files and run-file entries), read in-process. */
export async function repositorySnapshots(
  root: string,
  passphrase: string,
): Promise<{ snapshots: RepositorySnapshot[]; unreadable: string[] }> {
  const storage = new LocalStorage(root);
  try {
    const repository = await Repository.open(storage, passphrase);
    const unreadable: string[] = [];
    const snapshots: RepositorySnapshot[] = [];
    for await (const { id, snapshot } of repository.snapshots((file, error) =>
      unreadable.push(`${file.kind}/${file.name}: ${error.message}`),
    ))
      snapshots.push({ id, account: snapshot.name, items: snapshot.summary.items ?? null });
    return { snapshots: snapshots.sort((a, b) => (a.id < b.id ? -1 : 1)), unreadable };
  } finally {
    await storage.close();
  }
}

/**
 * The catalog, synced by a command (`snapshots`), lists exactly the repository's snapshots, each
 * once, with the item counts they were written with.
 */
export async function catalogMatches(
  cli: Cli,
  root: string,
  passphrase: string,
  when: string,
): Promise<{ problems: string[]; listed: CatalogRow[] }> {
  const result = await cli(['snapshots', '--json']);
  if (result.code !== 0)
    return {
      problems: [`${when}: snapshots exited ${result.code}: ${briefly(result)}`],
      listed: [],
    };
  const listed = result.json<CatalogRow[]>();
  const stored = await repositorySnapshots(root, passphrase);
  const problems = stored.unreadable.map((file) => `${when}: unreadable ${file}`);
  const inCatalog = new Map<string, CatalogRow>();
  for (const row of listed) {
    if (inCatalog.has(row.id)) problems.push(`${when}: the catalog lists snapshot ${row.id} twice`);
    inCatalog.set(row.id, row);
  }
  const inRepository = new Set(stored.snapshots.map((snapshot) => snapshot.id));
  for (const snapshot of stored.snapshots) {
    const row = inCatalog.get(snapshot.id);
    if (!row)
      problems.push(
        `${when}: the catalog lacks snapshot ${snapshot.id} of ${snapshot.account} (in the repository)`,
      );
    else if (snapshot.items !== null && row.items !== snapshot.items)
      problems.push(
        `${when}: the catalog gives snapshot ${snapshot.id} ${row.items} items, the repository ${snapshot.items}`,
      );
  }
  for (const row of listed)
    if (!inRepository.has(row.id))
      problems.push(
        `${when}: the catalog lists snapshot ${row.id} of ${row.account}, not in the repository`,
      );
  return { problems, listed };
}

/** `mailvault export ACCOUNT --format maildir` gives exactly the mail the server holds now. */
export async function exportMatchesServer(
  cli: Cli,
  server: DovecotServer,
  account: string,
  scratch: string,
  tally: CheckTally,
): Promise<string[]> {
  const output = join(await mkdtemp(join(scratch, 'export-')), 'out');
  const result = await cli(['export', account, '--format', 'maildir', '--output', output]);
  if (result.code !== 0) return [`export ${account} exited ${result.code}: ${briefly(result)}`];
  const exported = await readExportedMaildir(output);
  const held = mailByFolder(await readAccount(server, account));
  tally.itemsCompared += Object.values(held).reduce((sum, list) => sum + list.length, 0);
  return differences(`export of ${account}`, exported, held);
}

/**
 * `mailvault restore account ACCOUNT --to-account TARGET` into an emptied account gives exactly
 * the mail ACCOUNT holds on the server (folders, bytes, flags, dates).
 */
export async function restoreMatchesServer(
  cli: Cli,
  server: DovecotServer,
  account: string,
  target: string,
  tally: CheckTally,
): Promise<string[]> {
  await wipeAccount(server, target);
  try {
    const result = await cli(['restore', 'account', account, '--to-account', target]);
    if (result.code !== 0)
      return [`restore ${account} into ${target} exited ${result.code}: ${briefly(result)}`];
    const restored = mailOf(await readAccount(server, target)) as Array<{
      path: string;
      messages: unknown[];
    }>;
    const held = mailOf(await readAccount(server, account)) as typeof restored;
    tally.itemsCompared += held.reduce((sum, folder) => sum + folder.messages.length, 0);
    const nonEmpty = (list: typeof restored): typeof restored =>
      list.filter((folder) => folder.messages.length > 0);
    return JSON.stringify(nonEmpty(restored)) === JSON.stringify(nonEmpty(held))
      ? []
      : [`restore of ${account} into ${target} differs from the server's ${account}`];
  } finally {
    await wipeAccount(server, target);
  }
}

/** Folder by folder, what differs between two views of an account, in a few sentences. */
export function differences(
  what: string,
  got: Record<string, Array<{ sha256: string }>>,
  want: Record<string, Array<{ sha256: string }>>,
): string[] {
  const problems: string[] = [];
  for (const path of new Set([...Object.keys(got), ...Object.keys(want)])) {
    const a = got[path] ?? [];
    const b = want[path] ?? [];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    const hashes = new Set(b.map((m) => m.sha256));
    const extra = a.filter((m) => !hashes.has(m.sha256)).length;
    const missing = b.length - a.filter((m) => hashes.has(m.sha256)).length;
    problems.push(
      `${what}: folder ${path} has ${a.length} messages, the server ${b.length}` +
        (extra || missing
          ? ` (${missing} missing, ${extra} not on the server)`
          : ' (flags or dates differ)'),
    );
  }
  return problems;
}
