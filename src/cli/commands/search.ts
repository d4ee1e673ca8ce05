import type { Command } from 'commander';
import type { SearchRequest } from '../../app/browse/search-service.js';
import type { CommandRunner } from '../main.js';
import { clip, formatBytes, formatTime } from '../../text/format.js';
import { itemJson } from '../output/item-json.js';

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
    .action(async (options: SearchRequest) =>
      run(async (context) => {
        const { search } = await import('../../app/browse/search-service.js');
        const { hits, limit } = await search(context, options);
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
