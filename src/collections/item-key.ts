import { createHash } from 'node:crypto';

/**
 * The stable id of one version of a calendar or contact item: the same bytes under the same name
 * in the same collection of the same account have the same id in every snapshot. A modified
 * event is a new version (a new id) of the same name.
 */
export function collectionItemKey(
  source: string,
  account: string,
  collection: string,
  name: string,
  sha256: string,
): string {
  return createHash('sha256')
    .update(['mailvault-dav-item', source, account, collection, name, sha256].join('\0'))
    .digest('hex')
    .slice(0, 16);
}
