import type { Command } from 'commander';
import type { ItemRow } from '../../../catalog/catalog.js';
import { ITEM_KEY_PATTERN } from '../../../mailbox/item-key.js';
import type { ItemToRestore } from '../../../restore/items-restore.js';
import { UsageError } from '../../exit-codes.js';
import type { CommandRunner } from '../../main.js';
import { notified } from '../../../app/notified.js';
import { progressView } from '../../output/progress-view.js';
import { addNotifyOption, cliRequester } from '../../notify.js';
import { restoreOutcome } from '../../../app/restore/restore-outcome.js';
import type { RestoreReport } from '../../../restore/restore-report.js';
import { buildReport, combined } from '../../../app/restore/reports.js';
import { exitCodeOf, printRestoreReport } from './restore-output.js';
import type { CollectionItemRow } from '../../../catalog/collection-queries.js';
import type { AccountRestoreOutcome } from '../../../restore/account-restore.js';
import { collectionLabel } from '../../../collections/collection-tree.js';
import {
  collectionsOfItems,
  restoreCollectionsInto,
  restoreMailInto,
} from '../../../app/restore/collection-target.js';

interface ItemOptions {
  toFolder?: string;
  toAccount?: string;
  toServer?: string;
  notify?: string;
}

/** A catalogued item as a message to put back: its bytes, flags and date as last backed up. */
export function entryOf(item: ItemRow, extraFlags: string[] = []): ItemToRestore['entry'] {
  return {
    uid: item.uid,
    flags: [...new Set([...item.flags, ...extraFlags])].sort(),
    date: item.internalDate,
    size: item.size,
    sha256: item.sha256,
    manifest: item.manifest,
  };
}

export function registerRestoreItem(restore: Command, run: CommandRunner): void {
  const command = restore
    .command('item')
    .description(
      'single items, into their folder (recreated if gone), another folder or another account',
    )
    .argument('<item...>', 'item ids, as ls and search print them')
    .option('--to-folder <folder>', 'into this folder instead (created if missing)')
    .option('--to-account <account>', 'into this account instead')
    .option(
      '--to-server <server>',
      'the server of the target account (default: the backed-up one)',
    );
  addNotifyOption(command).action(async (keys: string[], options: ItemOptions) =>
    run(async (context) => {
      for (const key of keys)
        if (!ITEM_KEY_PATTERN.test(key))
          throw new UsageError(
            `${key} is not an item id (16 hexadecimal characters, as ls and search print them)`,
          );
      await context.repository(); // the key and index first, as before any restore
      const catalog = await context.catalog();
      const items: ItemRow[] = [];
      const versions: CollectionItemRow[] = [];
      for (const key of new Set(keys)) {
        const item = await catalog.item(key);
        const version = item ? null : await catalog.collections.item(key);
        if (item) items.push(item);
        else if (version) versions.push(version);
        else throw new UsageError(`unknown item ${key}: no backup holds it`);
      }
      // Items of several accounts go back each to its own account, unless one target is named.
      const groups = new Map<string, { mail: ItemRow[]; dav: CollectionItemRow[] }>();
      const groupOf = (item: { source: string; account: string }) => {
        const target = `${options.toServer ?? item.source}\0${options.toAccount ?? item.account}`;
        const group = groups.get(target) ?? { mail: [], dav: [] };
        groups.set(target, group);
        return group;
      };
      for (const item of items) groupOf(item).mail.push(item);
      for (const version of versions) groupOf(version).dav.push(version);
      const started = Date.now();
      const progress = progressView(context.output, 'restore');
      const reports = await notified(context, {
        kind: 'restore',
        requestedBy: cliRequester(context.terminal.env),
        title: `restore of ${items.length + versions.length} item(s)`,
        initiator: options.notify,
        parameters: {
          Items: [
            ...items.map((item) => `${item.key} (${item.account}, ${item.folder})`),
            ...versions.map(
              (v) =>
                `${v.key} (${v.account}, ${collectionLabel({ kind: v.kind, name: v.collection })})`,
            ),
          ].join('; '),
          ...(options.toAccount ? { 'Target account': options.toAccount } : {}),
          ...(options.toFolder ? { 'Target folder': options.toFolder } : {}),
        },
        outcome: (done: RestoreReport[]) => ({
          outcome: restoreOutcome(combined(done)),
          report: done,
        }),
        work: async () => {
          const done: RestoreReport[] = [];
          for (const [target, group] of groups) {
            const [server, account] = target.split('\0') as [string, string];
            const outcome: AccountRestoreOutcome = { folders: [], failures: [], bytes: 0 };
            await restoreMailInto(
              context,
              { server, account },
              group.mail.map((item) => ({
                folder: item.folder,
                destination: options.toFolder ?? item.folder,
                entry: entryOf(item),
              })),
              outcome,
              progress.sink,
            );
            await restoreCollectionsInto(
              context,
              { server, account },
              await collectionsOfItems(catalog, group.dav, options.toFolder),
              outcome,
              progress.sink,
            );
            const first = group.mail[0] ?? group.dav[0];
            done.push(
              buildReport(
                {
                  account: first ? `${first.source}/${first.account}` : '',
                  target: `${server}/${account}`,
                  snapshot: '',
                  snapshotTime: '',
                },
                outcome,
              ),
            );
          }
          return done;
        },
      });
      let code = 0;
      progress.finish();
      for (const report of reports) {
        printRestoreReport(context.output, report, Date.now() - started);
        code = Math.max(code, exitCodeOf(report));
      }
      return code;
    }),
  );
}
