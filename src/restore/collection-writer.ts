import type { DavAccountWriter } from '../targets/dav/dav-account-writer.js';

export type { CollectionSpec, PropertyRefusal } from '../targets/dav/dav-account-writer.js';
export { propertyLabel } from '../targets/dav/collection-properties.js';

/** What a restore needs of a DAV server for one account: collections, UIDs, creating items. */
export type CollectionWriter = Pick<
  DavAccountWriter,
  'ensureCollection' | 'uids' | 'put' | 'requests' | 'close'
>;
