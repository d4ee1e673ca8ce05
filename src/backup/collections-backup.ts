import type { Logger } from 'pino';
import {
  lastSegment,
  readListing,
  writeListing,
  type CollectionItem,
  type CollectionRecord,
} from '../collections/collection-tree.js';
import { summarizeItem } from '../collections/item-summary.js';
import type { ByteTally, ObjectWriter } from '../repository/object-writer.js';
import type { Repository } from '../repository/repository.js';
import { storeStream } from '../repository/stream-store.js';
import type { CollectionInfo, CollectionReader } from './collection-reader.js';
import type { ItemFailure } from './item-failure.js';

export interface CollectionsBackupContext {
  repository: Repository;
  writer: ObjectWriter;
  log: Logger;
  tally: ByteTally;
  source: string;
  account: string;
}

export interface CollectionsResult {
  records: CollectionRecord[];
  items: number;
  newItems: number;
  bytes: number;
  bytesRead: number;
  /** Items that could not be fetched (their last stored version is kept) or do not parse. */
  failures: ItemFailure[];
  /** Broken items kept as the server holds them: reported, never dropped. */
  broken: ItemFailure[];
  requests: number;
}

/**
 * Brings an account's calendars and address books up to date: per collection, asks the server
 * what changed since the stored sync token (or ETags), fetches only that, and writes a new
 * listing only when something changed. A collection that did not change keeps its listing object.
 */
export async function backupCollections(
  context: CollectionsBackupContext,
  reader: CollectionReader,
  previous: readonly CollectionRecord[],
): Promise<CollectionsResult> {
  const result: CollectionsResult = {
    records: [],
    items: 0,
    newItems: 0,
    bytes: 0,
    bytesRead: 0,
    failures: [],
    broken: [],
    requests: 0,
  };
  const before = new Map(previous.map((record) => [`${record.kind} ${record.href}`, record]));
  for (const info of await reader.collections()) {
    const record = await backupCollection(
      context,
      reader,
      info,
      before.get(`${info.kind} ${info.href}`),
      result,
    );
    result.records.push(record);
    result.items += record.count;
    result.bytes += record.bytes;
  }
  result.requests = reader.requests;
  return result;
}

async function backupCollection(
  context: CollectionsBackupContext,
  reader: CollectionReader,
  info: CollectionInfo,
  before: CollectionRecord | undefined,
  result: CollectionsResult,
): Promise<CollectionRecord> {
  // The last listing is read only when the server reports a change: an unchanged collection
  // keeps its listing object, count and size without a read from the repository.
  let old: Promise<CollectionItem[]> | null = null;
  const lastListing = (): Promise<CollectionItem[]> =>
    (old ??= before ? readListing(context.repository, before.listing) : Promise.resolve([]));
  const changes = await reader.changes(
    info,
    before
      ? {
          syncToken: before.syncToken,
          items: async () =>
            new Map((await lastListing()).map((item) => [info.href + item.name, item.etag])),
        }
      : null,
  );
  if (before && changes.changed.length === 0 && changes.removed.length === 0) {
    return {
      ...recordOf(info, changes.syncToken),
      count: before.count,
      bytes: before.bytes,
      listing: before.listing,
    };
  }
  const items = new Map((await lastListing()).map((item) => [item.name, item]));
  for (const href of changes.removed) items.delete(lastSegment(href));
  if (changes.changed.length > 0) {
    const where = (href: string) => ({
      source: context.source,
      account: context.account,
      folder: `${info.kind} ${info.href}`,
      item: lastSegment(href),
    });
    for await (const fetched of reader.fetch(
      info,
      changes.changed.map((change) => change.href),
    )) {
      if ('error' in fetched) {
        // The last stored version (if any) stays in the snapshot: nothing is dropped.
        result.failures.push({ ...where(fetched.href), reason: fetched.error });
        continue;
      }
      const item = await storeItem(context, info, fetched);
      items.set(item.name, item);
      result.newItems++;
      result.bytesRead += fetched.bytes.length;
      if (item.broken)
        result.broken.push({
          ...where(fetched.href),
          reason: `kept as the server holds it: ${item.broken}`,
        });
    }
  }
  const list = [...items.values()];
  return {
    ...recordOf(info, changes.syncToken),
    count: list.length,
    bytes: list.reduce((sum, item) => sum + item.content.size, 0),
    listing: await writeListing(context.writer, list),
  };
}

/** The record's description of the collection, as the server shows it now. */
function recordOf(
  info: CollectionInfo,
  syncToken: string | null,
): Omit<CollectionRecord, 'count' | 'bytes' | 'listing'> {
  return {
    kind: info.kind,
    href: info.href,
    name: decodeSegment(lastSegment(info.href)),
    displayName: info.displayName,
    color: info.color,
    description: info.description,
    components: info.components,
    timezone: info.timezone,
    ...(info.order !== undefined ? { order: info.order } : {}),
    syncToken,
  };
}

async function storeItem(
  context: CollectionsBackupContext,
  info: CollectionInfo,
  fetched: { href: string; etag: string; bytes: Buffer; contentType: string },
): Promise<CollectionItem> {
  const content = await storeStream(
    context.repository,
    context.writer,
    [fetched.bytes],
    context.tally,
  );
  const { summary, broken } = summarizeItem(fetched.bytes, info.kind);
  const item: CollectionItem = {
    name: lastSegment(fetched.href),
    etag: fetched.etag,
    content: { size: content.size, sha256: content.sha256, chunks: content.chunks },
    contentType: fetched.contentType,
    summary,
  };
  if (broken) item.broken = broken;
  return item;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
