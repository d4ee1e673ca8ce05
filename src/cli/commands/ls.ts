import type { Command } from 'commander';
import type { CommandRunner } from '../main.js';
import { clip, formatBytes, formatCount, formatTime } from '../../text/format.js';
import { printCollectionItems, printCollections } from './collection-views.js';
import { itemJson } from '../output/item-json.js';

export function registerLs(program: Command, run: CommandRunner): void {
  program
    .command('ls')
    .description('folders of an account, or items of a folder, as they were at a date')
    .argument('<account>', 'the account')
    .argument('[folder]', 'a folder, or calendar:NAME or contacts:NAME: list its items')
    .option(
      '--at <date>',
      'as it was at this date, or in this snapshot (its id) (default: last)',
      'last',
    )
    .option('--source <server>', 'the server, when the account name exists on several')
    .option('--deleted', 'items that were in the folder before the date and no longer are')
    .action(
      async (
        name: string,
        folder: string | undefined,
        options: { at: string; source?: string; deleted?: boolean },
      ) =>
        run(async (context) => {
          const { listAt } = await import('../../app/browse/listing-service.js');
          const listing = await listAt(context, { account: name, folder, ...options });
          const { account, snapshot, kind } = listing;
          const where = `${account.source}/${account.name} as of ${formatTime(snapshot.time)} (snapshot ${snapshot.id.slice(0, 12)})`;
          const about = {
            account: account.name,
            source: account.source,
            ...(kind === 'collection' ? { collection: listing.collection } : {}),
            ...(kind === 'folder' ? { folder: listing.folder } : {}),
            snapshot: snapshot.id,
            time: snapshot.time.toISOString(),
          };
          if (kind === 'account') {
            const { folders, collections } = listing;
            context.output.result({ ...about, folders, collections });
            context.output.note(where);
            context.output.table(
              ['FOLDER', 'MESSAGES', 'SIZE', 'SPECIAL-USE', 'SUBSCRIBED'],
              folders.map((f) => [
                f.path,
                formatCount(f.count),
                formatBytes(f.bytes),
                f.specialUse ?? '',
                f.subscribed ? 'yes' : 'no',
              ]),
              [1, 2],
            );
            printCollections(context.output, collections);
            return;
          }
          if (kind === 'collection') {
            const { items } = listing;
            context.output.result({
              ...about,
              items: items.map((item) =>
                itemJson({ ...item, lastSeen: item.lastSeen.toISOString() }),
              ),
            });
            context.output.note(`${where}, ${listing.collection}`);
            printCollectionItems(context.output, items);
            return;
          }
          const { items } = listing;
          context.output.result({ ...about, items: items.map(itemJson) });
          context.output.note(`${where}, folder ${listing.folder}`);
          context.output.table(
            ['ID', 'DATE', 'FROM', 'SUBJECT', 'SIZE', 'FLAGS'],
            items.map((item) => [
              item.key,
              formatTime(new Date(item.internalDate)),
              clip(item.from, 30),
              clip(item.subject, 50),
              formatBytes(item.size),
              item.flags.join(' '),
            ]),
            [4],
          );
        }),
    );
}
