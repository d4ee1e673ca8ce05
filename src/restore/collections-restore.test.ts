// What the restore report says of a collection: where it went, and each property the server would
// not keep, as a failure of that collection.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Repository } from '../repository/repository.js';
import type { CollectionWriter, PropertyRefusal } from './collection-writer.js';
import { restoreCollections } from './collections-restore.js';

function writerThat(name: string, refusals: PropertyRefusal[]): CollectionWriter {
  return {
    ensureCollection: async () => ({
      href: `/alice/${name}/`,
      name,
      created: true,
      propertiesNotSet: refusals,
    }),
    uids: async () => new Set(),
    put: async () => ({ outcome: 'created', etag: null }),
    requests: 0,
    close: async () => {},
  };
}

const options = (writer: CollectionWriter) => ({
  // No item is read: the collections below are empty.
  repository: {} as Repository,
  writer,
  log: pino({ level: 'silent' }),
});

const book = {
  kind: 'addressbook' as const,
  name: 'personal',
  displayName: 'Personal',
  color: '#ff0000ff',
  description: null,
  components: [],
  timezone: null,
};

describe('restoreCollections', () => {
  it('names each property the server would not keep as a failure of its collection', async () => {
    const outcome = await restoreCollections(
      options(
        writerThat('personal', [
          {
            property: '{http://inf-it.com/ns/ab/}addressbook-color',
            reason: 'PROPPATCH answered 403 Forbidden',
          },
        ]),
      ),
      [{ spec: book, items: [] }],
    );
    expect(outcome.failures).toEqual([
      {
        folder: 'contacts:personal',
        reason: 'property addressbook-color not restored: PROPPATCH answered 403 Forbidden',
      },
    ]);
    expect(outcome.folders).toMatchObject([{ folder: 'contacts:personal', failed: 1 }]);
  });

  it('reports where a collection went when its name was taken by the other kind', async () => {
    const outcome = await restoreCollections(options(writerThat('personal-contacts', [])), [
      { spec: book, items: [] },
    ]);
    expect(outcome.folders).toMatchObject([
      { folder: 'contacts:personal', target: 'contacts:personal-contacts', created: true },
    ]);
    expect(outcome.failures).toEqual([]);
  });
});
