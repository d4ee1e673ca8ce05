import type { Command } from 'commander';
import { parseAt } from '../../dates/at-spec.js';
import { resolveAccount } from '../../app/account-resolution.js';
import { momentOf } from '../../app/snapshot-at.js';
import { UsageError } from '../exit-codes.js';
import type { CommandRunner } from '../main.js';
import { clip, formatBytes, formatTime } from '../../text/format.js';
import type { SearchHit } from '../../catalog/search.js';
import type { CollectionItemRow } from '../../catalog/collection-queries.js';
import { collectionLabel, parseCollectionName } from '../../collections/collection-tree.js';
import { itemJson } from '../output/item-json.js';

/** A calendar or contact item version among search results, in the columns mail hits have. */
function asHit(item: CollectionItemRow): SearchHit & { kind: string } {
  return {
    key: item.key,
    source: item.source,
    account: item.account,
    folder: collectionLabel({ kind: item.kind, name: item.collection }),
    internalDate: item.start ?? '',
    from: item.people[0] ?? '',
    to: item.people.slice(1).join(', '),
    subject: item.title,
    size: item.size,
    present: item.present,
    lastSeen: item.lastSeen,
    kind: (item.component ?? 'item').replace(/^V/, '').toLowerCase(),
  };
}

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
  location?: string;
  attendee?: string;
  name?: string;
  email?: string;
  limit: string;
}

/**
 * Which kinds of items a search looks at: criteria that only mail has (sender, recipients,
 * delivery dates) leave calendars and contacts out, and criteria only they have leave mail out.
 */
function scope(options: SearchOptions): { mail: boolean; collections: boolean } {
  const davOnly = [options.location, options.attendee, options.name, options.email].some(
    (value) => value !== undefined,
  );
  const mailOnly = [options.from, options.to, options.after, options.before].some(
    (value) => value !== undefined,
  );
  if (davOnly && mailOnly)
    throw new UsageError(
      '--location, --attendee, --name and --email search calendars and contacts; --from, --to, --after and --before search mail: use one kind at a time',
    );
  return { mail: !davOnly, collections: !mailOnly };
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
    .option('--subject <words>', 'words of the subject (of an event or task: its summary)')
    .option(
      '--text <words>',
      'words anywhere: subject, addresses, body text; summary, location, notes of events and contacts',
    )
    .option('--after <date>', 'delivered at or after this date (or the time of this snapshot)')
    .option('--before <date>', 'delivered before this date (or the time of this snapshot)')
    .option('--location <words>', 'calendars: words of an event location')
    .option('--attendee <address>', 'calendars: an attendee or organizer (or part of one)')
    .option('--name <words>', "contacts: words of a contact's name")
    .option('--email <address>', 'contacts: an e-mail address (or part of one)')
    .option('--deleted', 'only items no longer on the server, with when they were last seen')
    .option('--limit <n>', 'at most this many results', '100')
    .action(async (options: SearchOptions) =>
      run(async (context) => {
        const limit = readLimit(options.limit);
        // A snapshot id stands for the moment it was taken.
        const afterAt =
          options.after === undefined ? undefined : parseAt(options.after, '--after', 'start');
        const beforeAt =
          options.before === undefined ? undefined : parseAt(options.before, '--before', 'start');
        const catalog = await context.catalog();
        const after = afterAt && (await momentOf(catalog, afterAt, '--after'));
        const before = beforeAt && (await momentOf(catalog, beforeAt, '--before'));
        const accountIds = options.account
          ? [(await resolveAccount(catalog, options.account, options.source)).id]
          : undefined;
        const folder = options.folder && /^inbox$/i.test(options.folder) ? 'INBOX' : options.folder;
        const kinds = scope(options);
        const collection = folder === undefined ? undefined : parseCollectionName(folder);
        const hits =
          kinds.mail && !collection
            ? await catalog.search({ ...options, folder, accountIds, after, before, limit })
            : [];
        if (kinds.collections && (folder === undefined || collection)) {
          const versions = await catalog.collections.search({
            accountIds,
            collection: collection?.name,
            text: options.text,
            title: options.subject ?? options.name,
            location: options.location,
            person: options.attendee ?? options.email,
            deleted: options.deleted,
            limit: Math.max(0, limit - hits.length),
          });
          hits.push(...versions.map(asHit));
        }
        context.output.result(
          hits.map((hit) => itemJson({ ...hit, lastSeen: hit.lastSeen.toISOString() })),
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
            hit.internalDate && !Number.isNaN(Date.parse(hit.internalDate))
              ? formatTime(new Date(hit.internalDate))
              : hit.internalDate,
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

/**
 * The catalog takes the limit as an SQLite integer: `1e99` passed Number.isInteger and reached
 * it as a float ("datatype mismatch"). Digits alone, up to a bound far above any listing.
 */
const MAX_LIMIT = 1_000_000_000;

function readLimit(text: string): number {
  const limit = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_LIMIT))
    throw new UsageError(
      `--limit: a whole number from 1 to ${MAX_LIMIT}, not ${JSON.stringify(text)}`,
    );
  return limit;
}
