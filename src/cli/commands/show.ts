import type { Command } from 'commander';
import type { CommandRunner } from '../main.js';
import { formatBytes, formatTime } from '../../text/format.js';
import { printable } from '../../text/printable.js';
import { showCollectionItem } from './collection-views.js';
import { itemJson } from '../output/item-json.js';
import type { TerminalStream } from '../terminal.js';

/**
 * Writes pieces as the reader takes them, waiting whenever the stream's buffer is full; resolves
 * once the last is handed to the system (or the reader's error is known).
 */
async function writeAll(out: TerminalStream, pieces: AsyncIterable<Buffer>): Promise<void> {
  for await (const piece of pieces) {
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
  await new Promise<void>((resolve, reject) =>
    out.write(Buffer.alloc(0), (error) => (error ? reject(error) : resolve())),
  );
}

export function registerShow(program: Command, run: CommandRunner): void {
  program
    .command('show')
    .description("one item's metadata, or its exact bytes with --raw")
    .argument('<item>', 'an item id, as ls and search print it')
    .option('--raw', 'write the exact bytes of the item to stdout')
    .action(async (key: string, options: { raw?: boolean }) =>
      run(async (context) => {
        const { findItem, itemBytes } = await import('../../app/browse/item-service.js');
        const found = await findItem(context, key, { history: !options.raw });
        if (options.raw) {
          await writeAll(context.terminal.stdout, await itemBytes(context, found));
          return;
        }
        if (found.kind === 'collection-item') {
          showCollectionItem(context.output, found.version);
          return;
        }
        const { item, history } = found;
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
