// The commands the fault suite kills, each with the state it starts from and what must hold
// after the kill. Every scenario has accounts of its own on the shared Dovecot, so that one
// scenario's changes to the server never reach another's.
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DovecotServer } from './dovecot.js';
import {
  catalogMatches,
  checkReadData,
  exportMatchesServer,
  halfWrittenFiles,
  leftovers,
  repositorySnapshots,
  restoreMatchesServer,
  type Cli,
} from './fault-checks.js';
import type { FaultBase, FaultScenario, KillContext } from './fault-driver.js';
import { fillMailbox } from './imap-fixture.js';
import { generateMessages } from './mail-generator.js';
import { contentPacks } from './repository-files.js';
import { runCli, shown, type Workspace } from './workspace.js';

const INIT = ['init', '--scrypt-cost', '10'];
const NEW_PASSPHRASE = 'a new passphrase for the fault suite';

/** Runs a command of the preparation; a failure there is the suite's own fault. */
async function must(cli: Cli, args: string[], code = 0): Promise<string> {
  const result = await cli(args);
  if (result.code !== code)
    throw new Error(`preparing: mailvault ${args.join(' ')}: ${shown(result)}`);
  return result.stdout;
}

function oneLine(text: string): string {
  return text.replace(/\n+/g, ' | ').slice(0, 1500);
}

const repositoryAndCatalog = (ws: Workspace): Record<string, string> => ({
  repo: ws.repository,
  catalog: ws.catalog,
});

/** The command run again completes with `code`; if not, what it said. */
async function runsAgain(cli: Cli, args: string[], code = 0): Promise<string[]> {
  const result = await cli(args);
  return result.code === code
    ? []
    : [
        `the next \`${args.join(' ')}\` exited ${result.code}, not ${code}: ${oneLine(shown(result))}`,
      ];
}

/** Nothing half-written, and check --read-data passes (packs in no index allowed). */
async function crashLeftValid(context: KillContext): Promise<string[]> {
  return [
    ...(await halfWrittenFiles(context.ws.repository)),
    ...(await checkReadData(context.cli, context.tally)),
  ];
}

async function catalogProblems(context: KillContext, when: string): Promise<string[]> {
  const { cli, ws, passphrase } = context;
  return (await catalogMatches(cli, ws.repository, passphrase, when)).problems;
}

/** Each account's latest snapshot exports (and, deep, restores) exactly as the server holds it. */
async function mailMatchesServer(
  context: KillContext,
  accounts: string[],
  cli = context.cli,
): Promise<string[]> {
  const { server, ws, tally } = context;
  const problems: string[] = [];
  for (const account of accounts)
    problems.push(...(await exportMatchesServer(cli, server, account, ws.dir, tally)));
  if (context.deep && accounts[0])
    problems.push(
      ...(await restoreMatchesServer(cli, server, accounts[0], context.scratchAccount, tally)),
    );
  return problems;
}

/**
 * backup: an incremental run of an account backed up before (new mail in a new folder and in an
 * old one) and a first run of another account. After a kill: the repository checks out, the
 * next backup completes, the catalog lists exactly the repository's snapshots, and both accounts
 * export (and restore) exactly as the server holds them.
 */
const pendingMail: FaultBase = {
  name: 'pending mail',
  accounts: ['alice', 'bob'],
  async prepare(server, _ws, cli) {
    await fillMailbox(server, 'alice', {
      INBOX: generateMessages({ tag: 'fault-alice-inbox', count: 30, largeEvery: 10 }),
      Work: generateMessages({ tag: 'fault-alice-work', count: 15 }),
    });
    await must(cli, INIT);
    await must(cli, ['backup', 'alice']);
    await fillMailbox(server, 'alice', {
      INBOX: generateMessages({ tag: 'fault-alice-inbox-2', count: 10 }),
      Archive: generateMessages({ tag: 'fault-alice-archive', count: 10, largeEvery: 5 }),
    });
    await fillMailbox(server, 'bob', {
      INBOX: generateMessages({ tag: 'fault-bob-inbox', count: 20, largeEvery: 7 }),
    });
  },
};

export const backupScenario: FaultScenario = {
  name: 'backup',
  base: pendingMail,
  command: () => ['backup'],
  smallPoints: 2,
  smallDeep: true,
  watch: repositoryAndCatalog,
  async verify(context, outcome) {
    const problems = outcome.killed ? await crashLeftValid(context) : [];
    problems.push(...(await runsAgain(context.cli, ['backup'])));
    problems.push(...(await catalogProblems(context, 'after the next backup')));
    problems.push(...(await mailMatchesServer(context, ['alice', 'bob'])));
    return problems;
  },
};

/**
 * Three snapshot files of one account (ivan: new mail in INBOX, then in a new folder) and, for
 * two accounts that did not change (judy, kate), one snapshot file each and two run files of two
 * entries each (a run file half recorded in the catalog is what an interrupted rebuild leaves).
 */
const history: FaultBase = {
  name: 'history',
  accounts: ['ivan', 'judy', 'kate'],
  async prepare(server, _ws, cli) {
    await fillMailbox(server, 'ivan', {
      INBOX: generateMessages({ tag: 'fault-ivan-inbox', count: 20, largeEvery: 4 }),
    });
    await fillMailbox(server, 'judy', {
      INBOX: generateMessages({ tag: 'fault-judy-inbox', count: 10 }),
      Sent: generateMessages({ tag: 'fault-judy-sent', count: 4 }),
    });
    await fillMailbox(server, 'kate', {
      INBOX: generateMessages({ tag: 'fault-kate-inbox', count: 3 }),
    });
    await must(cli, INIT);
    await must(cli, ['backup']);
    await fillMailbox(server, 'ivan', {
      INBOX: generateMessages({ tag: 'fault-ivan-inbox-2', count: 5 }),
    });
    await must(cli, ['backup']);
    await fillMailbox(server, 'ivan', {
      Work: generateMessages({ tag: 'fault-ivan-work', count: 5, largeEvery: 2 }),
    });
    await must(cli, ['backup']);
  },
};

/**
 * forget with `keepLast: 1` on the history. After a kill: the repository checks out, the next
 * forget completes, each account keeps exactly its latest snapshot, in the catalog as in the
 * repository, and it exports as the server holds it.
 */
export const forgetScenario: FaultScenario = {
  name: 'forget',
  base: history,
  extra: 'retention: { keepLast: 1 }',
  command: () => ['forget'],
  smallPoints: 1,
  watch: repositoryAndCatalog,
  async verify(context, outcome) {
    const problems = outcome.killed ? await crashLeftValid(context) : [];
    problems.push(...(await runsAgain(context.cli, ['forget'])));
    const { cli, ws, passphrase } = context;
    const catalog = await catalogMatches(cli, ws.repository, passphrase, 'after the next forget');
    problems.push(...catalog.problems);
    const counts: Record<string, number> = {};
    for (const row of catalog.listed) counts[row.account] = (counts[row.account] ?? 0) + 1;
    if (counts.ivan !== 1 || counts.judy !== 1 || counts.kate !== 1)
      problems.push(
        `after the next forget, snapshots per account: ${JSON.stringify(counts)} (keepLast 1)`,
      );
    problems.push(...(await mailMatchesServer(context, ['ivan'])));
    return problems;
  },
};

/** Deletes messages of a folder on the server: all, or those of a UID range ('1:6'). */
async function expungeFolder(
  server: DovecotServer,
  user: string,
  folder: string,
  uids?: string,
): Promise<void> {
  const which = uids === undefined ? ['all'] : ['uid', uids];
  await server.doveadm('expunge', '-u', user, 'mailbox', folder, ...which);
}

/**
 * prune --grace 0s: packs condemned by an earlier prune are due for deletion, others have just
 * become unused (their mail deleted from the server, the snapshots that held it forgotten), and
 * packs of which part is used (six of the ten messages of Work deleted) are repacked: the prune
 * writes new packs and an index, then condemns the old ones. After a kill: the repository checks out; the next prune
 * completes; one more prune (past the grace period) leaves no object stored twice, no pack in no
 * index and no temporary file; the account exports as the server holds it.
 */
const prunable: FaultBase = {
  name: 'prunable',
  accounts: ['erin'],
  async prepare(server, ws, cli) {
    // forget needs a policy: this base's own configuration gets one.
    await appendFile(ws.config, '\nretention: { keepLast: 1 }\n');
    await fillMailbox(server, 'erin', {
      INBOX: generateMessages({ tag: 'fault-erin-a', count: 20, largeEvery: 4 }),
    });
    await must(cli, INIT);
    await must(cli, ['backup']);
    await fillMailbox(server, 'erin', {
      Work: generateMessages({ tag: 'fault-erin-b', count: 10, largeEvery: 3 }),
    });
    await must(cli, ['backup']);
    await expungeFolder(server, 'erin', 'INBOX');
    await must(cli, ['backup']);
    await must(cli, ['forget']);
    await must(cli, ['prune', '--grace', '0s']);
    await fillMailbox(server, 'erin', {
      INBOX: generateMessages({ tag: 'fault-erin-c', count: 10, largeEvery: 5 }),
    });
    await expungeFolder(server, 'erin', 'Work', '1:6');
    await must(cli, ['backup']);
    await must(cli, ['forget']);
  },
};

export const pruneScenario: FaultScenario = {
  name: 'prune',
  base: prunable,
  command: () => ['prune', '--grace', '0s'],
  smallPoints: 2,
  watch: repositoryAndCatalog,
  async verify(context, outcome) {
    const { cli, ws, passphrase, tally } = context;
    const problems = outcome.killed ? await crashLeftValid(context) : [];
    problems.push(...(await runsAgain(cli, ['prune', '--grace', '0s'])));
    // Condemned by the run before, deleted by this one.
    problems.push(...(await runsAgain(cli, ['prune', '--grace', '0s'])));
    problems.push(
      ...(await checkReadData(cli, tally, {
        what: 'check after two more prunes',
        unindexedPacks: false,
      })),
    );
    problems.push(
      ...(await leftovers(ws.repository, passphrase)).map((p) => `after two more prunes: ${p}`),
    );
    problems.push(...(await catalogProblems(context, 'after two more prunes')));
    problems.push(...(await mailMatchesServer(context, ['erin'])));
    return problems;
  },
};

/** A second configuration in the workspace: the copy destination, with a catalog of its own. */
function destinationOf(ws: Workspace): { repository: string; config: string; catalog: string } {
  return {
    repository: join(ws.dir, 'dest'),
    config: join(ws.dir, 'dest.yml'),
    catalog: join(ws.dir, 'dest-catalog.sqlite'),
  };
}

/**
 * copy to a new local repository. After a kill: the source is untouched and checks out; the
 * destination, if it has its config yet, checks out; the next copy completes; the destination
 * then holds every snapshot of the source, its own catalog lists exactly them, and the account
 * exports from it as the server holds it.
 */
export const copyScenario: FaultScenario = {
  name: 'copy',
  base: history,
  command: (ws) => ['copy', '--to', destinationOf(ws).repository],
  smallPoints: 1,
  async furnish(ws) {
    const destination = destinationOf(ws);
    // The destination's configuration: the same servers, its own repository and catalog.
    const own = (await readFile(ws.config, 'utf8'))
      .replace(`url: ${ws.repository}`, `url: ${destination.repository}`)
      .replace(`url: ${ws.catalog}`, `url: ${destination.catalog}`);
    await writeFile(destination.config, own);
  },
  watch: (ws) => ({ ...repositoryAndCatalog(ws), dest: destinationOf(ws).repository }),
  async verify(context, outcome) {
    const { ws, cli, tally, passphrase } = context;
    const destination = destinationOf(ws);
    const toDestination: Cli = (args, env) =>
      runCli(destination.config, args, { env: env ?? {}, timeoutMs: 180_000 });
    const problems = outcome.killed ? await crashLeftValid(context) : [];
    if (outcome.killed) {
      problems.push(
        ...(await halfWrittenFiles(destination.repository)).map((p) => `destination: ${p}`),
      );
      const hasConfig = await readFile(join(destination.repository, 'config')).then(
        () => true,
        () => false,
      );
      if (hasConfig)
        problems.push(
          ...(await checkReadData(toDestination, tally, { what: 'check of the destination' })),
        );
    }
    problems.push(...(await runsAgain(cli, ['copy', '--to', destination.repository])));
    const source = await repositorySnapshots(ws.repository, passphrase);
    const copied = await catalogMatches(
      toDestination,
      destination.repository,
      passphrase,
      'destination after the next copy',
    );
    problems.push(...copied.problems);
    const ids = (rows: Array<{ id: string }>): string =>
      JSON.stringify(rows.map((r) => r.id).sort());
    if (ids(source.snapshots) !== ids(copied.listed))
      problems.push(
        `after the next copy the destination lists ${copied.listed.length} snapshots, the source has ${source.snapshots.length}`,
      );
    problems.push(...(await mailMatchesServer(context, ['ivan', 'judy'], toDestination)));
    return problems;
  },
};

/** A configuration like the workspace's whose passphrase file holds the new passphrase. */
function newPassphraseConfig(ws: Workspace): string {
  return join(ws.dir, 'new.yml');
}

async function furnishNewPassphrase(ws: Workspace): Promise<void> {
  await writeFile(join(ws.dir, 'new.pass'), `${NEW_PASSPHRASE}\n`);
  const yaml = await readFile(ws.config, 'utf8');
  await writeFile(
    newPassphraseConfig(ws),
    yaml.replace(
      `passwordFile: ${join(ws.dir, 'repo.pass')}`,
      `passwordFile: ${join(ws.dir, 'new.pass')}`,
    ),
  );
}

/** Whether a passphrase opens the repository (`key list` succeeds with it). */
async function opens(config: string): Promise<boolean> {
  return (await runCli(config, ['key', 'list'], { timeoutMs: 60_000 })).code === 0;
}

/**
 * key add: after a kill the old passphrase still opens the repository and it checks out; the
 * next key add completes; then the new passphrase opens it and reads the mail.
 */
export const keyAddScenario: FaultScenario = {
  name: 'key-add',
  command: (ws) => ['key', 'add', '--new-password-file', join(ws.dir, 'new.pass')],
  base: history,
  smallPoints: 1,
  furnish: furnishNewPassphrase,
  watch: repositoryAndCatalog,
  async verify(context, outcome) {
    const { ws, cli } = context;
    const problems = outcome.killed ? await crashLeftValid(context) : [];
    problems.push(
      ...(await runsAgain(cli, ['key', 'add', '--new-password-file', join(ws.dir, 'new.pass')])),
    );
    const newCli: Cli = (args, env) =>
      runCli(newPassphraseConfig(ws), args, { env: env ?? {}, timeoutMs: 180_000 });
    problems.push(...(await mailMatchesServer(context, ['ivan'], newCli)));
    return problems;
  },
};

/**
 * key passwd: after a kill one of the two passphrases opens the repository (never neither), and
 * it checks out with it; the next key passwd, with whichever opens, completes; then the new one
 * opens it and reads the mail, and the old one no longer does.
 */
export const keyPasswdScenario: FaultScenario = {
  name: 'key-passwd',
  command: (ws) => ['key', 'passwd', '--new-password-file', join(ws.dir, 'new.pass')],
  base: history,
  smallPoints: 1,
  furnish: furnishNewPassphrase,
  watch: repositoryAndCatalog,
  async verify(context, outcome) {
    const { ws, tally } = context;
    const newConfig = newPassphraseConfig(ws);
    const newCli: Cli = (args, env) =>
      runCli(newConfig, args, { env: env ?? {}, timeoutMs: 180_000 });
    const problems: string[] = [];
    const oldOpens = await opens(ws.config);
    const newOpens = await opens(newConfig);
    if (!oldOpens && !newOpens)
      return ['neither the old nor the new passphrase opens the repository'];
    const working = oldOpens ? context.cli : newCli;
    if (outcome.killed) {
      problems.push(...(await halfWrittenFiles(ws.repository)));
      problems.push(...(await checkReadData(working, tally)));
    }
    problems.push(
      ...(await runsAgain(working, [
        'key',
        'passwd',
        '--new-password-file',
        join(ws.dir, 'new.pass'),
      ])),
    );
    if (await opens(ws.config))
      problems.push('after the next key passwd the old passphrase still opens the repository');
    problems.push(...(await mailMatchesServer(context, ['ivan'], newCli)));
    return problems;
  },
};

/** Folder -> message count of an account's latest snapshot, as `ls` lists it from the catalog. */
async function listedCounts(cli: Cli, account: string): Promise<Record<string, number> | string> {
  const result = await cli(['ls', account, '--json']);
  if (result.code !== 0) return `ls ${account} exited ${result.code}: ${oneLine(shown(result))}`;
  const folders = result.json<{ folders: Array<{ path: string; count: number }> }>().folders;
  return Object.fromEntries(folders.filter((f) => f.count > 0).map((f) => [f.path, f.count]));
}

/**
 * catalog rebuild: three snapshot files of one account, one snapshot and two run-file entries
 * of another. After a kill: a command that syncs the catalog (snapshots) finds every snapshot
 * of the repository; the next rebuild completes, with every snapshot, and `ls` lists each
 * account's folders with the server's message counts.
 */
export const catalogRebuildScenario: FaultScenario = {
  name: 'catalog-rebuild',
  base: history,
  command: () => ['catalog', 'rebuild'],
  smallPoints: 1,
  watch: repositoryAndCatalog,
  async verify(context, outcome) {
    const { cli, server } = context;
    const problems: string[] = [];
    if (outcome.killed) problems.push(...(await catalogProblems(context, 'synced after the kill')));
    problems.push(...(await runsAgain(cli, ['catalog', 'rebuild'])));
    problems.push(...(await catalogProblems(context, 'after the next rebuild')));
    const { readAccount } = await import('./imap-fixture.js');
    for (const account of ['ivan', 'judy', 'kate']) {
      const held = Object.fromEntries(
        (await readAccount(server, account)).folders
          .filter((f) => f.messages.length > 0)
          .map((f) => [f.path, f.messages.length]),
      );
      const listed = await listedCounts(cli, account);
      context.tally.itemsCompared += Object.values(held).reduce((a, b) => a + b, 0);
      if (JSON.stringify(listed) !== JSON.stringify(held))
        problems.push(
          `after the next rebuild ls ${account} gives ${JSON.stringify(listed)}, the server ${JSON.stringify(held)}`,
        );
    }
    return problems;
  },
};

interface DamageJson {
  damagedItems: Array<{ account: string; folder: string; uid: number | null }>;
}

const DAMAGE_FILE = 'damaged-items.json';
const VICTIM_FILE = 'damaged-pack';

function damagedItemsOf(json: DamageJson): string {
  return JSON.stringify(
    json.damagedItems.map((item) => `${item.account} ${item.folder} ${item.uid}`).sort(),
  );
}

/**
 * check --read-data --repair, with one pack of message content damaged on disk. After a kill:
 * check still names the same damaged messages (whether the repair dropped them from the index
 * yet or not); the next repair completes; the backup after it stores them again; then
 * check --read-data passes and the account exports (and restores) as the server holds it.
 */
export const checkRepairScenario: FaultScenario = {
  name: 'check-repair',
  base: history,
  command: () => ['check', '--read-data', '--repair'],
  exitCode: 1,
  smallPoints: 1,
  async prepare(_server, ws, cli) {
    const passphrase = (await readFile(join(ws.dir, 'repo.pass'), 'utf8')).trim();
    const [victim] = await contentPacks(ws.repository, passphrase);
    if (!victim) throw new Error('preparing: no pack of message content to damage');
    const path = join(ws.repository, 'data', victim.slice(0, 2), victim);
    const bytes = await readFile(path);
    // As test/integration/check-repair.test.ts damages one.
    for (let at = 100; at < bytes.length - 200; at += 4096) bytes[at] = (bytes[at] ?? 0) ^ 0xff;
    await writeFile(path, bytes);
    await writeFile(join(ws.dir, VICTIM_FILE), victim);
    const found = await cli(['check', '--read-data', '--json']);
    const damaged = found.json<DamageJson>();
    if (found.code !== 1 || damaged.damagedItems.length === 0)
      throw new Error(`preparing: check did not find the damage: ${shown(found)}`);
    await writeFile(join(ws.dir, DAMAGE_FILE), damagedItemsOf(damaged));
  },
  watch: repositoryAndCatalog,
  async verify(context, outcome) {
    const { ws, cli, tally } = context;
    const problems: string[] = [];
    const victim = await readFile(join(ws.dir, VICTIM_FILE), 'utf8');
    if (outcome.killed) {
      problems.push(...(await halfWrittenFiles(ws.repository, new Set([victim]))));
      const found = await cli(['check', '--read-data', '--json']);
      tally.repositoriesChecked++;
      const expected = await readFile(join(ws.dir, DAMAGE_FILE), 'utf8');
      let named = '';
      try {
        named = damagedItemsOf(found.json<DamageJson>());
      } catch {
        named = oneLine(shown(found));
      }
      if (found.code !== 1 || named !== expected)
        problems.push(
          `after the kill check (exit ${found.code}) names ${named}, before it ${expected}`,
        );
    }
    problems.push(...(await runsAgain(cli, ['check', '--read-data', '--repair'], 1)));
    problems.push(...(await runsAgain(cli, ['backup'])));
    // The repair drops the damaged objects from the index, not the pack: its intact objects stay
    // indexed and it keeps failing its SHA-256 check (an uncut repair leaves the same), so that
    // one error is expected; every other, and any damaged message, is a problem.
    problems.push(
      ...(await checkReadData(cli, tally, {
        what: 'check after the repair and a backup',
        allowedErrors: new RegExp(`^pack ${victim}: its content does not match its name`),
      })),
    );
    problems.push(...(await mailMatchesServer(context, ['ivan'])));
    return problems;
  },
};

export const SCENARIOS: FaultScenario[] = [
  backupScenario,
  pruneScenario,
  forgetScenario,
  copyScenario,
  keyAddScenario,
  keyPasswdScenario,
  catalogRebuildScenario,
  checkRepairScenario,
];
