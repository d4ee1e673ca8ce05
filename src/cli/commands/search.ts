import type { Command } from 'commander';
import { parseDate, type DateSpec } from '../../dates/parse-date.js';
import { resolveAccount } from '../account-resolution.js';
import { UsageError } from '../exit-codes.js';
import type { CommandRunner } from '../main.js';
import { clip, formatBytes, formatTime } from '../output/format.js';

interface SearchOptions {
  account?: string;
  source?: string;
  folder?: string;
  from?: string;
  to?: string;
  subject?: string;
  text?: string;
  after?: string;
  before?: string;
  deleted?: boolean;
  limit: string;
}

function moment(spec: DateSpec, option: string): Date {
  if (spec.kind === 'time') return spec.time;
  throw new UsageError(`${option}: give a date or an age, not ${spec.kind}`);
}

export function registerSearch(program: Command, run: CommandRunner): void {
  program
    .command('search')
    .description('find items across every snapshot; --deleted finds items no longer on the server')
    .option('--account <account>', 'only this account')
    .option('--source <server>', 'the server, when the account name exists on several')
    .option('--folder <folder>', 'only this folder')
    .option('--from <words>', 'words of the sender')
    .option('--to <words>', 'words of the recipients')
    .option('--subject <words>', 'words of the subject')
    .option('--text <words>', 'words anywhere: subject, addresses, body text')
    .option('--after <date>', 'delivered at or after this date')
    .option('--before <date>', 'delivered before this date')
    .option('--deleted', 'only items no longer on the server, with when they were last seen')
    .option('--limit <n>', 'at most this many results', '100')
    .action(async (options: SearchOptions) =>
      run(async (context) => {
        const limit = Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1)
          throw new UsageError('--limit: a whole number of at least 1');
        const after =
          options.after === undefined
            ? undefined
            : moment(parseDate(options.after, '--after', 'start'), '--after');
        const before =
          options.before === undefined
            ? undefined
            : moment(parseDate(options.before, '--before', 'start'), '--before');
        const catalog = await context.catalog();
        const accountIds = options.account
          ? [(await resolveAccount(catalog, options.account, options.source)).id]
          : undefined;
        const folder = options.folder && /^inbox$/i.test(options.folder) ? 'INBOX' : options.folder;
        const hits = await catalog.search({ ...options, folder, accountIds, after, before, limit });
        context.output.result(
          hits.map((hit) => ({ ...hit, lastSeen: hit.lastSeen.toISOString() })),
        );
        context.output.table(
          [
            'ID',
            'ACCOUNT',
            'FOLDER',
            'DATE',
            'FROM',
            'SUBJECT',
            'SIZE',
            options.deleted ? 'LAST SEEN' : 'ON SERVER',
          ],
          hits.map((hit) => [
            hit.key,
            hit.account,
            hit.folder,
            formatTime(new Date(hit.internalDate)),
            clip(hit.from, 28),
            clip(hit.subject, 44),
            formatBytes(hit.size),
            options.deleted
              ? formatTime(hit.lastSeen)
              : hit.present
                ? 'yes'
                : `gone, last seen ${formatTime(hit.lastSeen)}`,
          ]),
          [6],
        );
        context.output.note(
          `${hits.length} item(s)${hits.length === limit ? ` (the first ${limit}; narrow the search or raise --limit)` : ''}`,
        );
      }),
    );
}
