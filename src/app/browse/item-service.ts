import type { ItemHistoryRow, ItemRow } from '../../catalog/catalog.js';
import type { CollectionItemRow } from '../../catalog/collection-queries.js';
import { ITEM_KEY_PATTERN } from '../../mailbox/item-key.js';
import { LARGE_MESSAGE_BYTES } from '../../mailbox/large-message.js';
import { UsageError } from '../errors.js';
import type { Session } from '../session.js';

/** A catalogued item: a message with its history, or a calendar or contact item's version. */
export type FoundItem =
  | { kind: 'message'; item: ItemRow; history: ItemHistoryRow[] }
  | { kind: 'collection-item'; version: CollectionItemRow };

/**
 * The item an id names, as ls and search give ids (a message with its history when asked for);
 * an id no backup holds is a bad request.
 */
export async function findItem(
  session: Session,
  key: string,
  options: { history: boolean },
): Promise<FoundItem> {
  if (!ITEM_KEY_PATTERN.test(key))
    throw new UsageError(`${key} is not an item id (16 hexadecimal characters, as ls prints them)`);
  const catalog = await session.catalog();
  const item = await catalog.item(key);
  if (item)
    return {
      kind: 'message',
      item,
      history: options.history ? await catalog.itemHistory(key) : [],
    };
  const version = await catalog.collections.item(key);
  if (version) return { kind: 'collection-item', version };
  throw new UsageError(`unknown item ${key}: no backup holds it`);
}

/**
 * The item's exact bytes as backed up, checked before any is given: a large message is verified
 * in a pass that keeps nothing, then read again piece by piece, so memory stays a few objects deep.
 */
export async function itemBytes(
  session: Session,
  found: FoundItem,
): Promise<AsyncIterable<Buffer>> {
  const repository = await session.repository();
  if (found.kind === 'message' && found.item.size >= LARGE_MESSAGE_BYTES) {
    const { verifyMessage } = await import('../../mailbox/message-stream.js');
    return (await verifyMessage(repository, found.item.manifest)).pieces();
  }
  if (found.kind === 'message') {
    const { loadMessage } = await import('../../mailbox/message-store.js');
    return once(await loadMessage(repository, found.item.manifest));
  }
  const { readStreamBytes } = await import('../../repository/stream-store.js');
  return once(await readStreamBytes(repository, found.version.content));
}

async function* once(bytes: Buffer): AsyncIterable<Buffer> {
  yield bytes;
}
