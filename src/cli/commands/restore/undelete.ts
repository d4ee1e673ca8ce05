import type { Command } from 'commander';
import { parseDate, type DateSpec } from '../../../dates/parse-date.js';
import { resolveAccount } from '../../../app/account-resolution.js';
import { UsageError } from '../../exit-codes.js';
import type { CommandRunner } from '../../main.js';
import { notified } from '../../../app/notified.js';
import { progressView } from '../../output/progress-view.js';
import { addNotifyOption, cliRequester } from '../../notify.js';
import { restoreOutcome } from '../../../app/restore/restore-outcome.js';
import type { RestoreReport } from '../../../restore/restore-report.js';
import { formatTime } from '../../../text/format.js';
import { entryOf } from './item.js';
import { buildReport } from '../../../app/restore/reports.js';
import { exitCodeOf, printRestoreReport } from './restore-output.js';
import type { AccountRestoreOutcome } from '../../../restore/account-restore.js';
import {
  collectionsOfItems,
  restoreCollectionsInto,
  restoreMailInto,
} from '../../../app/restore/collection-target.js';

interface UndeleteOptions {
  from: string;
  to: string;
  source?: string;
  intoFolder?: string;
  toAccount?: string;
  toServer?: string;
  notify?: string;
}

/** The keyword a restored deleted item carries: undelete_DD_MM_YY, for the day of the restore. */
export function undeleteKeyword(day: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `undelete_${pad(day.getDate())}_${pad(day.getMonth() + 1)}_${pad(day.getFullYear() % 100)}`;
}

function moment(spec: DateSpec, option: string): Date {
  if (spec.kind === 'time') return spec.time;
  if (spec.kind === 'first') return new Date(0);
  if (option === '--to') return new Date();
  throw new UsageError(`${option}: give a date or an age`);
}

export function registerRestoreUndelete(restore: Command, run: CommandRunner): void {
  const command = restore
    .command('undelete')
    .description(
      'items deleted between two dates (expunged, or gone with their folder; not moved), back into their folders, tagged undelete_DD_MM_YY',
    )
    .argument('<account>', 'the account')
    .requiredOption('--from <date>', 'deleted at or after this date')
    .requiredOption('--to <date>', 'deleted at or before this date')
    .option('--source <server>', 'the server, when the account name exists on several')
    .option('--into-folder <folder>', 'put them below this folder instead of their own')
    .option('--to-account <account>', 'into this account instead')
    .option(
      '--to-server <server>',
      'the server of the target account (default: the backed-up one)',
    );
  addNotifyOption(command).action(async (name: string, options: UndeleteOptions) =>
    run(async (context) => {
      const from = moment(parseDate(options.from, '--from', 'start'), '--from');
      const to = moment(parseDate(options.to, '--to', 'end'), '--to');
      if (to < from)
        throw new UsageError(`--to (${formatTime(to)}) is before --from (${formatTime(from)})`);
      await context.repository(); // the key and index first, as before any restore
      const catalog = await context.catalog();
      const account = await resolveAccount(catalog, name, options.source);
      const deleted = await catalog.deletedBetween(account.id, from, to);
      const deletedVersions = await catalog.collections.deletedBetween(account.id, from, to);
      if (deleted.length === 0 && deletedVersions.length === 0) {
        throw new Error(
          `nothing was deleted from ${account.name} between ${formatTime(from)} and ${formatTime(to)} (as far as its backups tell)`,
        );
      }
      const keyword = undeleteKeyword(new Date());
      let unnamed = 0;
      const destinationOf = (folder: string): string => {
        // The catalog knows every folder by name; the fallback keeps a nameless one apart anyway.
        const base = folder || `unknown_${++unnamed}`;
        return options.intoFolder ? `${options.intoFolder}/${base}` : base;
      };
      const targetAccount = options.toAccount ?? account.name;
      const started = Date.now();
      const progress = progressView(context.output, 'restore');
      const report = await notified(context, {
        kind: 'restore',
        requestedBy: cliRequester(context.terminal.env),
        title: `undelete in ${account.name}`,
        initiator: options.notify,
        parameters: {
          Account: `${account.source}/${account.name}`,
          Target: `${options.toServer ?? account.source}/${targetAccount}`,
          'Deleted between': `${formatTime(from)} and ${formatTime(to)}`,
          Keyword: keyword,
        },
        outcome: (done: RestoreReport) => ({ outcome: restoreOutcome(done), report: done }),
        work: async () => {
          const serverName = options.toServer ?? account.source;
          const outcome: AccountRestoreOutcome = { folders: [], failures: [], bytes: 0 };
          await restoreMailInto(
            context,
            { server: serverName, account: targetAccount },
            deleted.map((item) => ({
              folder: item.folder,
              destination: destinationOf(item.folder),
              entry: entryOf(item, [keyword]),
            })),
            outcome,
            progress.sink,
          );
          // Events and contacts go back into their own calendars and address books (a keyword
          // has no DAV equivalent that every client shows, so they are not tagged).
          await restoreCollectionsInto(
            context,
            { server: serverName, account: targetAccount },
            await collectionsOfItems(catalog, deletedVersions),
            outcome,
            progress.sink,
          );
          return buildReport(
            {
              account: `${account.source}/${account.name}`,
              target: `${serverName}/${targetAccount}`,
              snapshot: '',
              snapshotTime: '',
            },
            outcome,
          );
        },
      });
      progress.finish();
      printRestoreReport(context.output, report, Date.now() - started);
      context.output.note(
        `${deleted.length + deletedVersions.length} item(s) deleted between ${formatTime(from)} and ${formatTime(to)}, tagged ${keyword}`,
      );
      return exitCodeOf(report);
    }),
  );
}
