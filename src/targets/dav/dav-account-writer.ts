// Writes into one account's calendars and address books over CalDAV/CardDAV, for restores:
// collections created with their properties when missing, items PUT only where nothing is
// (If-None-Match: *), so a restore never overwrites what the account holds now.
import {
  discoverAccount,
  homeFor,
  listCollections,
  type AccountHomes,
} from '../../dav/account-discovery.js';
import { kindOf, type CollectionInfo, type CollectionKind } from '../../dav/collection-info.js';
import { DavError } from '../../dav/dav-error.js';
import { propfind } from '../../dav/dav-requests.js';
import { canonicalHref, collectionPath, isInside, memberHref } from '../../dav/href.js';
import { DavHttp } from '../../dav/http-client.js';
import { contentTypeFor } from '../../dav/item-fetch.js';
import { parseErrorBody, propText } from '../../dav/multistatus.js';
import { clark, NS, PROP } from '../../dav/namespaces.js';
import type { DavServerOptions } from '../../dav/server-options.js';
import { createCollection, type CollectionSpec } from './collection-creation.js';
import { collectionUids, type UidLookupState } from './collection-uids.js';

export type { CollectionSpec } from './collection-creation.js';
export type { CollectionInfo, CollectionKind } from '../../dav/collection-info.js';

export type PutOutcome =
  | { outcome: 'created'; etag: string | null }
  /** `by`: an item at that href (412), or one with the same UID elsewhere in the collection (409 no-uid-conflict). */
  | { outcome: 'exists'; by?: 'href' | 'uid' }
  | { outcome: 'failed'; error: string };

export interface DavAccountWriter {
  collections(): Promise<CollectionInfo[]>;
  /**
   * The collection named spec.name under the account's calendar or addressbook home; created
   * (MKCALENDAR / extended MKCOL, with its properties; PROPPATCH fallback) when missing.
   * `propertiesNotSet` names (in Clark notation) what the server would not store.
   */
  ensureCollection(
    spec: CollectionSpec,
  ): Promise<{ href: string; created: boolean; propertiesNotSet: string[] }>;
  /** href → ETag of the collection's items. */
  items(collectionHref: string): Promise<Map<string, string>>;
  /**
   * The UIDs the collection's items hold: one query for them (read as it arrives, whatever
   * the server sends), or, where the server will not answer it, every item's body.
   */
  uids(collectionHref: string): Promise<Set<string>>;
  /** PUT with If-None-Match: * — never overwrites; 412 → 'exists'. */
  put(
    collectionHref: string,
    itemName: string,
    bytes: Buffer,
    kind: CollectionKind,
  ): Promise<PutOutcome>;
  readonly requests: number;
  close(): Promise<void>;
}

class Writer implements DavAccountWriter {
  private homes: AccountHomes | null = null;
  private listing: CollectionInfo[] | null = null;
  private readonly uidLookup: UidLookupState = {
    queryRefused: false,
    fetch: { multigetRefused: false },
  };

  constructor(
    private readonly http: DavHttp,
    private readonly account: string,
    private readonly principalPath: string | undefined,
  ) {}

  get requests(): number {
    return this.http.requests;
  }

  async collections(): Promise<CollectionInfo[]> {
    const homes = await this.discover();
    this.listing = homes.principalFound ? await listCollections(this.http, homes) : [];
    return this.listing;
  }

  async ensureCollection(
    spec: CollectionSpec,
  ): Promise<{ href: string; created: boolean; propertiesNotSet: string[] }> {
    const homes = await this.principal();
    const home = homeFor(homes, spec.kind);
    if (home === null) {
      throw new DavError(
        'protocol',
        `${this.http.where}: the principal ${homes.principal} of ${this.account} has no ${spec.kind === 'calendar' ? 'calendar-home-set' : 'addressbook-home-set'}`,
      );
    }
    const href = collectionPath(memberHref(home, spec.name));
    const existing = (this.listing ?? (await this.collections())).find((c) => c.href === href);
    if (existing !== undefined) {
      if (existing.kind !== spec.kind) {
        throw new DavError(
          'refused',
          `${this.http.where}: ${href} is an ${existing.kind}, not an ${spec.kind}`,
        );
      }
      return { href, created: false, propertiesNotSet: [] };
    }
    const outcome = await createCollection(this.http, href, spec);
    this.listing = null;
    return { href, ...outcome };
  }

  async items(collectionHref: string): Promise<Map<string, string>> {
    const own = collectionPath(collectionHref);
    const answer = await propfind(this.http, own, '1', [PROP.getetag]);
    const items = new Map<string, string>();
    for (const entry of answer.responses) {
      const href = canonicalHref(entry.href, answer.url);
      if (isInside(href, own) && !href.endsWith('/'))
        items.set(href, propText(entry, PROP.getetag) ?? '');
    }
    return items;
  }

  async uids(collectionHref: string): Promise<Set<string>> {
    const href = collectionPath(collectionHref);
    const kind = await this.kindOf(href);
    return collectionUids(this.http, { href, kind }, this.uidLookup, async () => [
      ...(await this.items(href)).keys(),
    ]);
  }

  async put(
    collectionHref: string,
    itemName: string,
    bytes: Buffer,
    kind: CollectionKind,
  ): Promise<PutOutcome> {
    const request = {
      method: 'PUT',
      url: memberHref(collectionPath(collectionHref), itemName),
      headers: { 'If-None-Match': '*', 'Content-Type': contentTypeFor(kind) },
      body: bytes,
    };
    try {
      const response = await this.http.send(request);
      if (response.status === 201 || response.status === 204 || response.status === 200) {
        return { outcome: 'created', etag: response.headers.get('etag') };
      }
      if (response.status === 412) return { outcome: 'exists', by: 'href' };
      const preconditions = parseErrorBody(response.body.toString('utf8'));
      if (
        response.status === 409 &&
        (preconditions.includes(clark(NS.caldav, 'no-uid-conflict')) ||
          preconditions.includes(clark(NS.carddav, 'no-uid-conflict')))
      ) {
        return { outcome: 'exists', by: 'uid' };
      }
      return { outcome: 'failed', error: this.http.failure(request, response).message };
    } catch (error) {
      if (error instanceof DavError && ['auth', 'unreachable', 'tls'].includes(error.kind))
        throw error;
      return { outcome: 'failed', error: (error as Error).message };
    }
  }

  close(): Promise<void> {
    return this.http.close();
  }

  private async discover(): Promise<AccountHomes> {
    this.homes ??= await discoverAccount(this.http, this.account, this.principalPath);
    return this.homes;
  }

  /**
   * The account's homes, its principal created first when an administrator restores into an
   * account that never used DAV (Radicale creates a principal at a user's first login only).
   */
  private async principal(): Promise<AccountHomes> {
    const homes = await this.discover();
    if (homes.principalFound) return homes;
    const request = { method: 'MKCOL', url: homes.principal };
    const response = await this.http.send(request);
    if (response.status !== 201 && response.status !== 405) {
      throw this.http.failure(
        request,
        response,
        `no principal for ${this.account}, and it cannot be created`,
      );
    }
    this.homes = null;
    this.listing = null;
    const found = await this.discover();
    if (!found.principalFound) {
      throw new DavError(
        'not-found',
        `${this.http.where}: no principal for ${this.account} at ${found.principal}`,
      );
    }
    return found;
  }

  private async kindOf(href: string): Promise<CollectionKind> {
    const listed = this.listing?.find((collection) => collection.href === href);
    if (listed) return listed.kind;
    const answer = await propfind(this.http, href, '0', [PROP.resourcetype]);
    const own = answer.responses[0];
    const kind = own ? kindOf(own) : null;
    if (kind !== null) return kind;
    throw new DavError(
      'refused',
      `${this.http.where}: ${href} is neither a calendar nor an address book`,
    );
  }
}

export async function openDavAccountWriter(
  server: DavServerOptions,
  account: string,
): Promise<DavAccountWriter> {
  return new Writer(await DavHttp.open(server), account, server.principalPath);
}
