// An unchanged collection is settled without reading its last listing from the repository.
import { describe, expect, it } from 'vitest';
import type { CollectionItem, CollectionRecord } from '../collections/collection-tree.js';
import type { ObjectWriter } from '../repository/object-writer.js';
import type { Repository } from '../repository/repository.js';
import type { CollectionInfo, CollectionReader } from './collection-reader.js';
import { backupCollections, type CollectionsBackupContext } from './collections-backup.js';

const info: CollectionInfo = {
  href: '/alice/cal/',
  kind: 'calendar',
  displayName: 'Cal',
  color: null,
  description: null,
  components: ['VEVENT'],
  timezone: null,
  syncToken: 't1',
  ctag: null,
};

const record: CollectionRecord = {
  kind: 'calendar',
  href: '/alice/cal/',
  name: 'cal',
  displayName: 'Cal',
  color: null,
  description: null,
  components: ['VEVENT'],
  timezone: null,
  syncToken: 't1',
  count: 2,
  bytes: 30,
  listing: 'aa',
};

function item(name: string, size: number): CollectionItem {
  return {
    name,
    etag: `"${name}"`,
    content: { size, sha256: '', chunks: [] },
    contentType: 'text/calendar',
    summary: {} as CollectionItem['summary'],
  };
}

/** A repository whose only listing is `record`'s, counting how often it is read. */
function setUp(removed: string[]) {
  let listingReads = 0;
  let saves = 0;
  const repository = {
    readTree: async () => {
      listingReads++;
      return { v: 1, items: [item('a.ics', 10), item('b.ics', 20)] };
    },
  } as unknown as Repository;
  const writer = {
    save: async () => {
      saves++;
      return { id: Buffer.from('bb', 'hex') };
    },
  } as unknown as ObjectWriter;
  const reader: CollectionReader = {
    collections: async () => [info],
    changes: async (_collection, previous) => {
      const items = previous?.items;
      // What the DAV reader does: the previous items are asked for only when there are changes.
      if (removed.length > 0 && typeof items === 'function') await items();
      return { how: 'sync-collection', changed: [], removed, syncToken: 't2', note: null };
    },
    fetch: async function* () {},
    requests: 0,
    close: async () => {},
  };
  const context = { repository, writer } as unknown as CollectionsBackupContext;
  return {
    run: () => backupCollections(context, reader, [record]),
    counts: () => ({ listingReads, saves }),
  };
}

describe('backupCollections', () => {
  it('keeps an unchanged collection’s listing, count and size without reading the listing', async () => {
    const { run, counts } = setUp([]);
    const result = await run();
    expect(result.records).toEqual([{ ...record, syncToken: 't2' }]);
    expect(counts()).toEqual({ listingReads: 0, saves: 0 });
  });

  it('reads the last listing once when an item is gone, and writes the new one', async () => {
    const { run, counts } = setUp(['/alice/cal/b.ics']);
    const result = await run();
    expect(result.records).toEqual([
      { ...record, syncToken: 't2', count: 1, bytes: 10, listing: 'bb' },
    ]);
    expect(counts()).toEqual({ listingReads: 1, saves: 1 });
  });
});
