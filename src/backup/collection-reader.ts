import type { DavAccountReader } from '../sources/dav/dav-account-reader.js';

export type { CollectionInfo } from '../sources/dav/dav-account-reader.js';

/** What the backup needs of a DAV server for one account: collections, changes, item bodies. */
export type CollectionReader = Pick<
  DavAccountReader,
  'collections' | 'changes' | 'fetch' | 'requests' | 'close'
>;
