import type { Command } from 'commander';
import { parseAt } from '../../dates/at-spec.js';
import type { ExportOutcome } from '../../export/export-account.js';
import { checkPlan, planExport, type ExportPlan } from '../../export/export-plan.js';
import type { ExportSource } from '../../export/export-source.js';
import type { ExportDescription } from '../../export/export-writer.js';
import { resolveAccount } from '../../app/account-resolution.js';
import { accountSnapshotAt } from '../../app/snapshot-at.js';
import type { CliContext } from '../context.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import type { CommandRunner } from '../main.js';
import { notified } from '../../app/notified.js';
import { addNotifyOption, cliRequester } from '../notify.js';
import type { NoticeOutcome } from '../../notify/notice.js';
import { formatBytes, formatCount, formatDuration, formatTime } from '../../text/format.js';
import { printable } from '../../text/printable.js';

interface ExportOptions {
  format: string;
  output: string;
  at?: string;
  folder?: string[];
  allVersions?: boolean;
  force?: boolean;
  source?: string;
  notify?: string;
}

/** Output mistakes (an existing output, a bad format) are usage errors: exit 2, nothing written. */
async function asUsage<T>(work: () => Promise<T> | T): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof Error && error.name === 'OutputError') throw new UsageError(error.message);
    throw error;
  }
}

export function registerExport(program: Command, run: CommandRunner): void {
  const command = program
    .command('export')
    .description(
      'write an account as it was at a date, or every item it ever held, as mbox, Maildir or .eml files, or .ics and .vcf files',
    )
    .argument('<account>', 'the account')
    .requiredOption(
      '--format <format>',
      'mbox, maildir or eml (mail); ics (calendars and task lists) or vcf (address books)',
    )
    .requiredOption(
      '--output <path>',
      'a new directory; or a .mbox file (mbox, one --folder); or a .zip file (eml)',
    )
    .option('--at <date>', 'as it was at this date, or in this snapshot (its id) (default: last)')
    .option('--folder <folder...>', 'only these folders (with their subfolders)')
    .option(
      '--all-versions',
      'every message ever backed up, deleted ones included, with a manifest (JSON and CSV) beside the export',
    )
    .option('--force', 'replace an existing output file, or an earlier export in the directory')
    .option('--source <server>', 'the server, when the account name exists on several');
  addNotifyOption(command).action(async (name: string, options: ExportOptions) =>
    run(async (context) => {
      if (options.format === 'ics' || options.format === 'vcf') {
        const { exportCollectionsCommand } = await import('./export-collections.js');
        return exportCollectionsCommand(context, name, { ...options, format: options.format });
      }
      const wanted = (options.folder ?? []).map((f) => (/^inbox$/i.test(f) ? 'INBOX' : f));
      const plan = await asUsage(() =>
        planExport(options.format, options.output, wanted, Boolean(options.allVersions)),
      );
      if (options.allVersions && options.at !== undefined)
        throw new UsageError('--all-versions exports every snapshot; it does not take --at');
      const at = parseAt(options.at ?? 'last');
      // Before the passphrase is asked for or anything is opened.
      await asUsage(() => checkPlan(plan, Boolean(options.force)));

      const started = Date.now();
      const loaded = await context.config();
      const repository = await context.repository();
      const catalog = await context.catalog();
      const account = await resolveAccount(catalog, name, options.source);
      const exportSource = await import('../../export/export-source.js');
      const base = {
        format: plan.format,
        layout: layoutOf(plan),
        account: account.name,
        source: account.source,
        allVersions: Boolean(options.allVersions),
        exported: new Date().toISOString(),
      };
      let source: ExportSource;
      let description: ExportDescription;
      let where: string;
      if (options.allVersions) {
        const history = await import('../../catalog/history.js');
        const folders = await history.foldersEver(catalog.db, account.id);
        checkFolders(exportSource.unknownFolders(folders, wanted), `${account.name} never had`);
        const times = await history.snapshotTimes(catalog.db, account.id);
        source = exportSource.historySource(catalog.db, folders, times, wanted, plan.singleMbox);
        description = { ...base, snapshot: null, snapshotTime: null };
        where = `every version of ${account.source}/${account.name} in ${times.length} snapshot(s)`;
      } else {
        const snapshot = await accountSnapshotAt(catalog, account, at);
        if (!snapshot) {
          const first = await catalog.snapshotAt(account.id, { kind: 'first' });
          throw new UsageError(
            `no backup of ${name} at ${options.at ?? 'last'}: its first backup is ${first ? formatTime(first.time) : 'missing'}`,
          );
        }
        const { readAccountTree } = await import('../../mailbox/account-tree.js');
        const tree = await readAccountTree(repository, snapshot.tree);
        const when = formatTime(snapshot.time);
        checkFolders(
          exportSource.unknownFolders(tree.folders, wanted),
          `${account.name} had no`,
          ` at ${when}`,
        );
        source = exportSource.snapshotSource(repository, tree, wanted, plan.singleMbox);
        description = {
          ...base,
          snapshot: snapshot.id,
          snapshotTime: snapshot.time.toISOString(),
        };
        where = `${account.source}/${account.name} as of ${when} (snapshot ${snapshot.id.slice(0, 12)})`;
      }
      if (plan.singleMbox && source.folders.length === 0)
        throw new UsageError(`${wanted[0] ?? ''} holds no messages (it is only a parent folder)`);

      const { exportAccount } = await import('../../export/export-account.js');
      const progress = context.output.progress('export');
      let outcome: ExportOutcome;
      try {
        outcome = await notified(context, {
          kind: 'export',
          requestedBy: cliRequester(context.terminal.env),
          title: `export of ${account.name}`,
          initiator: options.notify,
          parameters: {
            Account: `${account.source}/${account.name}`,
            Format: options.format,
            Output: options.output,
            'As of': options.allVersions ? 'every version' : (options.at ?? 'last'),
          },
          outcome: (done: ExportOutcome) => ({ outcome: exportNotice(done), report: done }),
          work: () =>
            asUsage(() =>
              exportAccount({
                repository,
                plan,
                force: Boolean(options.force),
                source,
                description,
                workers: loaded.config.restore.workers,
                onFolder: (folder) => progress.setDetail(folder),
                onMessages: (count, bytes) => progress.add(count, bytes),
              }),
            ),
        });
      } finally {
        progress.finish();
      }
      printOutcome(context, description, where, outcome, Date.now() - started);
      return outcome.failures.length > 0 ? ExitCode.Partial : ExitCode.Ok;
    }),
  );
}

function layoutOf(plan: ExportPlan): string {
  if (plan.format === 'maildir') return 'maildir++ (UTF-8 names)';
  if (plan.format === 'eml') return plan.zip ? 'zip of a folder tree' : 'folder tree';
  return plan.singleMbox ? 'one mboxrd file' : 'one mboxrd file per folder';
}

function checkFolders(unknown: string[], prefix: string, suffix = ''): void {
  if (unknown.length > 0)
    throw new UsageError(
      `${prefix} folder ${unknown.map((f) => JSON.stringify(f)).join(', ')}${suffix}`,
    );
}

function printOutcome(
  context: CliContext,
  description: ExportDescription,
  where: string,
  outcome: ExportOutcome,
  elapsedMs: number,
): void {
  const { output } = context;
  const failed = outcome.failures.length;
  output.result({
    ...description,
    output: outcome.output,
    manifest: outcome.manifest,
    folders: outcome.folders,
    failures: outcome.failures,
    warnings: outcome.warnings,
    totals: {
      messages: outcome.messages,
      folders: outcome.folders.length,
      bytes: outcome.bytes,
      failed,
    },
    seconds: elapsedMs / 1000,
  });
  for (const warning of outcome.warnings) output.warn(warning);
  output.note(`exporting ${where} as ${description.format}`);
  output.table(
    ['FOLDER', 'MESSAGES', 'SIZE', 'FAILED'],
    outcome.folders.map((f) => [
      f.folder,
      formatCount(f.messages),
      formatBytes(f.bytes),
      formatCount(f.failed),
    ]),
    [1, 2, 3],
  );
  for (const failure of outcome.failures)
    output.problem(`FAILED  ${printable(failure.folder)} UID ${failure.uid}: ${failure.reason}`);
  output.line(
    `exported ${formatCount(outcome.messages)} messages (${formatBytes(outcome.bytes)}) from ${outcome.folders.length} folder(s)` +
      `${failed > 0 ? `, ${formatCount(failed)} failed` : ''}, to ${outcome.output} in ${formatDuration(elapsedMs)}`,
  );
  if (outcome.manifest)
    output.line(`manifest: ${outcome.manifest.json} and ${outcome.manifest.csv}`);
}

/** An export's outcome as the table of its 'finished' notice. */
function exportNotice(outcome: ExportOutcome): NoticeOutcome {
  return {
    rowLabel: 'folder',
    columns: ['exported', 'failed'],
    rows: outcome.folders.map((folder) => ({
      name: folder.folder,
      counts: [folder.messages, folder.failed],
    })),
    totals: [outcome.messages, outcome.failures.length],
    failures: outcome.failures.map((failure) => ({
      where: `${failure.folder} UID ${failure.uid}`,
      reason: failure.reason,
    })),
    notes: [`written to ${outcome.output}`],
  };
}
