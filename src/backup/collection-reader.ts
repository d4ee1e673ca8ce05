import type { CollectionKind } from '../collections/collection-tree.js';

/**
 * What the backup needs of a DAV server for one account (src/sources/dav implements it): the
 * collections with their properties, what changed in one since the last run, and item bodies.
 */
export interface CollectionInfo {
  /** Absolute path on the server, ending with '/'. */
  href: string;
  kind: CollectionKind;
  displayName: string | null;
  color: string | null;
  description: string | null;
  components: string[];
  timezone: string | null;
  syncToken: string | null;
}

export interface CollectionChanges {
  how: string;
  /** New or modified items: absolute hrefs and their ETags. */
  changed: Array<{ href: string; etag: string }>;
  /** Hrefs of items gone since the previous state. */
  removed: string[];
  syncToken: string | null;
}

export interface CollectionReader {
  collections(): Promise<CollectionInfo[]>;
  changes(
    collection: CollectionInfo,
    previous: { syncToken: string | null; items: ReadonlyMap<string, string> } | null,
  ): Promise<CollectionChanges>;
  fetch(
    collection: CollectionInfo,
    hrefs: readonly string[],
  ): AsyncIterable<
    | { href: string; etag: string; bytes: Buffer; contentType: string }
    | { href: string; error: string }
  >;
  readonly requests: number;
  close(): Promise<void>;
}
