import type { Command } from 'commander';
import { ITEM_KEY_PATTERN } from '../../mailbox/item-key.js';
import { LARGE_MESSAGE_BYTES } from '../../mailbox/large-message.js';
import { UsageError } from '../exit-codes.js';
import type { CommandRunner } from '../main.js';
import { formatBytes, formatTime } from '../../text/format.js';
import { printable } from '../../text/printable.js';
import { showCollectionItem } from './collection-views.js';
import type { ItemRow } from '../../catalog/catalog.js';
import type { CollectionItemRow } from '../../catalog/collection-queries.js';
import type { Repository } from '../../repository/repository.js';
import { itemJson } from '../output/item-json.js';
import type { TerminalStream } from '../terminal.js';

/** A message's or a calendar/contact item's exact bytes, as backed up. */
async function rawBytes(
  repository: Repository,
  item: ItemRow | null,
  version: CollectionItemRow | null,
): Promise<Buffer> {
  if (item) {
    const { loadMessage } = await import('../../mailbox/message-store.js');
    return loadMessage(repository, item.manifest);
  }
  const { readStreamBytes } = await import('../../repository/stream-store.js');
  return readStreamBytes(repository, (version as CollectionItemRow).content);
}

function writeOut(out: TerminalStream, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) =>
    out.write(bytes, (error) => (error ? reject(error) : resolve())),
  );
}

/**
 * A large message's bytes, checked first in a pass that keeps nothing, then written as they are
 * read again, waiting whenever stdout's buffer is full: memory stays a few objects deep.
 */
async function writeLargeMessage(
  out: TerminalStream,
  repository: Repository,
  manifest: string,
): Promise<void> {
  const { verifyMessage } = await import('../../mailbox/message-stream.js');
  const verified = await verifyMessage(repository, manifest);
  for await (const piece of verified.pieces()) {
    if (out.write(piece)) continue;
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error): void => {
        out.off('drain', done);
        out.off('error', done);
        if (error) reject(error);
        else resolve();
      };
      out.on('drain', done);
      out.on('error', done);
    });
  }
  // The last write's callback: the bytes are handed to the system (or the pipe's error is known).
  await writeOut(out, Buffer.alloc(0));
}

export function registerShow(program: Command, run: CommandRunner): void {
  program
    .command('show')
    .description("one item's metadata, or its exact bytes with --raw")
    .argument('<item>', 'an item id, as ls and search print it')
    .option('--raw', 'write the exact bytes of the item to stdout')
    .action(async (key: string, options: { raw?: boolean }) =>
      run(async (context) => {
        if (!ITEM_KEY_PATTERN.test(key))
          throw new UsageError(
            `${key} is not an item id (16 hexadecimal characters, as ls prints them)`,
          );
        const catalog = await context.catalog();
        const item = await catalog.item(key);
        const version = item ? null : await catalog.collections.item(key);
        if (!item && !version) throw new UsageError(`unknown item ${key}: no backup holds it`);
        if (options.raw) {
          const repository = await context.repository();
          if (item && item.size >= LARGE_MESSAGE_BYTES)
            await writeLargeMessage(context.terminal.stdout, repository, item.manifest);
          else await writeOut(context.terminal.stdout, await rawBytes(repository, item, version));
          return;
        }
        if (!item) {
          if (version) showCollectionItem(context.output, version);
          return;
        }
        const history = await catalog.itemHistory(key);
        context.output.result({
          ...itemJson(item),
          history: history.map((h) => ({
            from: h.from.toISOString(),
            until: h.until?.toISOString() ?? null,
            flags: h.flags,
            uid: h.uid,
          })),
        });
        const rows: Array<[string, string]> = [
          ['item', item.key],
          ['account', `${item.source}/${item.account}`],
          ['folder', item.folder],
          ['date', item.internalDate],
          ['from', item.from],
          ['to', item.to],
          ['cc', item.cc],
          ['subject', item.subject],
          ['message-id', item.messageId],
          ['sent', item.sentDate ?? ''],
          ['size', `${formatBytes(item.size)} (${item.size} bytes)`],
          ['sha256', item.sha256],
        ];
        for (const [label, value] of rows)
          if (value) context.output.line(`${`${label}:`.padEnd(12)}${printable(value)}`);
        context.output.line('history:');
        for (const h of history) {
          context.output.line(
            `  ${formatTime(h.from)} - ${h.until ? formatTime(h.until) : 'now'}  uid ${h.uid}  ${h.flags.join(' ') || '(no flags)'}`,
          );
        }
      }),
    );
}
