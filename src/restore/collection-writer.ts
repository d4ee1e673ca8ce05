import type { CollectionKind } from '../collections/collection-tree.js';

/** A calendar or address book to recreate, with the properties it had. */
export interface CollectionSpec {
  kind: CollectionKind;
  /** Last path segment under the account's calendar or address-book home. */
  name: string;
  displayName: string | null;
  color: string | null;
  description: string | null;
  components: string[];
  timezone: string | null;
}

export type PutOutcome =
  | { outcome: 'created'; etag: string | null }
  | { outcome: 'exists' }
  | { outcome: 'failed'; error: string };

/** What a restore needs of a DAV server for one account (src/targets/dav implements it). */
export interface CollectionWriter {
  /** The collection of that name, created with its properties when missing. */
  ensureCollection(spec: CollectionSpec): Promise<{ href: string; created: boolean }>;
  /** UIDs of the items a collection holds, so an item saved under another name is not duplicated. */
  uids(collectionHref: string): Promise<Set<string>>;
  /** Creates an item; never overwrites one ('exists'). */
  put(
    collectionHref: string,
    itemName: string,
    bytes: Buffer,
    kind: CollectionKind,
  ): Promise<PutOutcome>;
  readonly requests: number;
  close(): Promise<void>;
}
