import type { CollectionItemRow, CollectionRow } from '../../catalog/collection-queries.js';
import { collectionLabel } from '../../collections/collection-tree.js';
import type { Output } from '../output/output.js';
import { clip, formatBytes, formatCount, formatTime } from '../../text/format.js';
import { printable } from '../../text/printable.js';
import { itemJson } from '../output/item-json.js';

/** Calendars and address books in ls and show, beside folders and messages. */
export function printCollections(output: Output, collections: readonly CollectionRow[]): void {
  if (collections.length === 0) return;
  output.table(
    ['COLLECTION', 'ITEMS', 'SIZE', 'NAME', 'COMPONENTS'],
    collections.map((c) => [
      collectionLabel(c),
      formatCount(c.count),
      formatBytes(c.bytes),
      c.displayName ?? '',
      c.components.join(' '),
    ]),
    [1, 2],
  );
}

export function printCollectionItems(output: Output, items: readonly CollectionItemRow[]): void {
  output.table(
    ['ID', 'START', 'TITLE', 'WHERE / WHO', 'SIZE', ''],
    items.map((item) => [
      item.key,
      item.start ?? '',
      clip(item.title, 40),
      clip(item.location || item.people.join(', '), 40),
      formatBytes(item.size),
      item.broken ? `broken: ${item.broken}` : '',
    ]),
    [4],
  );
}

/** `show` of a calendar or contact item version. */
export function showCollectionItem(output: Output, item: CollectionItemRow): void {
  output.result(itemJson({ ...item, lastSeen: item.lastSeen.toISOString() }));
  const rows: Array<[string, string]> = [
    ['item', item.key],
    ['account', `${item.source}/${item.account}`],
    ['collection', collectionLabel({ kind: item.kind, name: item.collection })],
    ['name', item.name],
    ['type', item.component ?? ''],
    ['uid', item.uid ?? ''],
    ['title', item.title],
    ['start', item.start ?? ''],
    ['location', item.location],
    ['people', item.people.join(', ')],
    ['etag', item.etag],
    ['size', `${formatBytes(item.size)} (${item.size} bytes)`],
    ['sha256', item.content.sha256],
    ['broken', item.broken ?? ''],
    ['last seen', formatTime(item.lastSeen)],
    ['on server', item.present ? 'yes' : 'no'],
  ];
  for (const [label, value] of rows)
    if (value) output.line(`${`${label}:`.padEnd(12)}${printable(value)}`);
}
