// Reads one account's calendars and address books over CalDAV/CardDAV: which collections there
// are, what changed in one since the last backup, and the bodies of the items that did.
// Knows nothing of storage: the caller keeps the sync tokens and ETags between runs.
import {
  discoverAccount,
  listCollections,
  type AccountHomes,
} from '../../dav/account-discovery.js';
import type { CollectionInfo } from '../../dav/collection-info.js';
import { DavHttp } from '../../dav/http-client.js';
import { fetchItems, type FetchOutcome, type FetchState } from '../../dav/item-fetch.js';
import type { DavServerOptions } from '../../dav/server-options.js';
import {
  collectionChanges,
  type CollectionChanges,
  type PreviousState,
} from './collection-changes.js';

export type { DavCredentials, DavServerOptions } from '../../dav/server-options.js';
export type {
  CollectionInfo,
  CollectionKind,
  FetchedItem,
  ItemRef,
} from '../../dav/collection-info.js';
export type { AccountHomes } from '../../dav/account-discovery.js';
export type { FetchOutcome } from '../../dav/item-fetch.js';
export { DavError, type DavErrorKind } from '../../dav/dav-error.js';
export type { CollectionChanges, PreviousItems, PreviousState } from './collection-changes.js';

export interface DavAccountReader {
  /** Principal, calendar-home-set, addressbook-home-set, then every calendar and address book (PROPFIND depth 1 on each home). */
  collections(): Promise<CollectionInfo[]>;
  /**
   * RFC 6578 sync-collection with the stored token; when the server lacks it or refuses the
   * token (403/409 valid-sync-token), PROPFIND depth 1 getetag comparison against
   * previous.items. Never downloads unchanged items. No request at all when the collection's
   * sync token (from collections()) is the stored one, and previous.items, when a function,
   * is called only when the server reports a change.
   */
  changes(collection: CollectionInfo, previous: PreviousState | null): Promise<CollectionChanges>;
  /** Bodies of the given items, in batches (multiget REPORT, falling back to GET); an item that cannot be fetched is yielded as { href, error }. */
  fetch(collection: CollectionInfo, hrefs: readonly string[]): AsyncIterable<FetchOutcome>;
  /** Where the account's principal and homes were found: set by collections(). */
  readonly homes: AccountHomes | null;
  /** HTTP requests sent so far, redirects and retries included. */
  readonly requests: number;
  close(): Promise<void>;
}

class Reader implements DavAccountReader {
  private found: AccountHomes | null = null;
  private readonly fetchState: FetchState = { multigetRefused: false };

  constructor(
    private readonly http: DavHttp,
    private readonly account: string,
    private readonly principalPath: string | undefined,
  ) {}

  get homes(): AccountHomes | null {
    return this.found;
  }

  get requests(): number {
    return this.http.requests;
  }

  async collections(): Promise<CollectionInfo[]> {
    this.found ??= await discoverAccount(this.http, this.account, this.principalPath);
    if (!this.found.principalFound) return [];
    return listCollections(this.http, this.found);
  }

  changes(collection: CollectionInfo, previous: PreviousState | null): Promise<CollectionChanges> {
    return collectionChanges(this.http, collection, previous);
  }

  fetch(collection: CollectionInfo, hrefs: readonly string[]): AsyncIterable<FetchOutcome> {
    return fetchItems(this.http, collection, hrefs, this.fetchState);
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

/**
 * A reader for `account`. Nothing is sent until the first call: the login is checked by the
 * first request, and a wrong password surfaces there as a DavError of kind 'auth'.
 */
export async function openDavAccountReader(
  server: DavServerOptions,
  account: string,
): Promise<DavAccountReader> {
  return new Reader(await DavHttp.open(server), account, server.principalPath);
}
