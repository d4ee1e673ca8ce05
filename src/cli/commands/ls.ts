import type { Command } from 'commander';
import { parseAt } from '../../dates/at-spec.js';
import { resolveAccount } from '../../app/account-resolution.js';
import { accountSnapshotAt } from '../../app/snapshot-at.js';
import type { CommandRunner } from '../main.js';
import { clip, formatBytes, formatCount, formatTime } from '../../text/format.js';
import { parseCollectionName } from '../../collections/collection-tree.js';
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
          const at = parseAt(options.at);
          const catalog = await context.catalog();
          const account = await resolveAccount(catalog, name, options.source);
          const snapshot = await accountSnapshotAt(catalog, account, at);
          if (!snapshot)
            throw new Error(`no backup of ${name} at ${options.at}: its first backup is later`);
          const time = snapshot.time.getTime();
          const where = `${account.source}/${account.name} as of ${formatTime(snapshot.time)} (snapshot ${snapshot.id.slice(0, 12)})`;
          if (folder === undefined) {
            const folders = await catalog.foldersAt(account.id, time);
            const collections = await catalog.collections.collectionsAt(account.id, time);
            context.output.result({
              account: account.name,
              source: account.source,
              snapshot: snapshot.id,
              time: snapshot.time.toISOString(),
              folders,
              collections,
            });
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
          const collection = parseCollectionName(folder);
          if (collection) {
            const known = (await catalog.collections.collectionsAt(account.id, time)).some(
              (c) => c.kind === collection.kind && c.name === collection.name,
            );
            const items = await catalog.collections.itemsAt(account.id, collection, time);
            if (!known && items.length === 0)
              throw new Error(`${account.name} had no ${folder} at ${formatTime(snapshot.time)}`);
            context.output.result({
              account: account.name,
              source: account.source,
              collection: folder,
              snapshot: snapshot.id,
              time: snapshot.time.toISOString(),
              items: items.map((item) =>
                itemJson({ ...item, lastSeen: item.lastSeen.toISOString() }),
              ),
            });
            context.output.note(`${where}, ${folder}`);
            printCollectionItems(context.output, items);
            return;
          }
          const path = /^inbox$/i.test(folder) ? 'INBOX' : folder;
          const items = options.deleted
            ? await catalog.deletedItemsAt(account.id, path, time)
            : await catalog.itemsAt(account.id, path, time);
          if (
            !options.deleted &&
            items.length === 0 &&
            !(await catalog.foldersAt(account.id, time)).some((f) => f.path === path)
          ) {
            throw new Error(
              `${account.name} had no folder ${folder} at ${formatTime(snapshot.time)}`,
            );
          }
          context.output.result({
            account: account.name,
            source: account.source,
            folder: path,
            snapshot: snapshot.id,
            time: snapshot.time.toISOString(),
            items: items.map(itemJson),
          });
          context.output.note(`${where}, folder ${path}`);
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
