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
import { propText } from '../../dav/multistatus.js';
import { PROP } from '../../dav/namespaces.js';
import type { DavServerOptions } from '../../dav/server-options.js';
import {
  completeProperties,
  createCollection,
  type CollectionSpec,
  type PropertyRefusal,
} from './collection-creation.js';
import { wantedProperties } from './collection-properties.js';
import { collectionUids, type UidLookupState } from './collection-uids.js';
import { putOutcome, type PutOutcome } from './put-outcome.js';

export type { CollectionSpec, PropertyRefusal } from './collection-creation.js';
export type { PutOutcome } from './put-outcome.js';
export type { CollectionInfo, CollectionKind } from '../../dav/collection-info.js';

export interface DavAccountWriter {
  collections(): Promise<CollectionInfo[]>;
  /**
   * The collection named spec.name under the account's calendar or addressbook home; created
   * (MKCALENDAR / extended MKCOL, with its properties; PROPPATCH for those the server did not
   * take then) when missing. A collection already there keeps the properties it has, and is
   * given those it lacks. `propertiesNotSet` lists what the server would not store.
   */
  ensureCollection(spec: CollectionSpec): Promise<EnsuredCollection>;
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

export interface EnsuredCollection {
  href: string;
  /** The name it has on the server: spec.name, unless that is taken by the other kind. */
  name: string;
  created: boolean;
  propertiesNotSet: PropertyRefusal[];
}

class Writer implements DavAccountWriter {
  private homes: AccountHomes | null = null;
  private listing: CollectionInfo[] | null = null;
  private readonly uidLookup: UidLookupState = {
    queryRefused: new Set(),
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

  async ensureCollection(spec: CollectionSpec): Promise<EnsuredCollection> {
    const homes = await this.principal();
    const home = homeFor(homes, spec.kind);
    if (home === null) {
      throw new DavError(
        'protocol',
        `${this.http.where}: the principal ${homes.principal} of ${this.account} has no ${spec.kind === 'calendar' ? 'calendar-home-set' : 'addressbook-home-set'}`,
      );
    }
    const listing = this.listing ?? (await this.collections());
    const { name, existing } = placeIn(listing, home, spec);
    const href = collectionPath(memberHref(home, name));
    if (existing !== undefined)
      return {
        href,
        name,
        created: false,
        propertiesNotSet: await this.addMissing(existing, spec),
      };
    const outcome = await createCollection(this.http, href, { ...spec, name });
    this.listing = null;
    return { href, name, ...outcome };
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
      return putOutcome(this.http, request, await this.http.send(request));
    } catch (error) {
      if (error instanceof DavError && ['auth', 'unreachable', 'tls'].includes(error.kind))
        throw error;
      return { outcome: 'failed', error: (error as Error).message };
    }
  }

  close(): Promise<void> {
    return this.http.close();
  }

  /**
   * Gives a collection that is already there the properties of the spec it lacks (a restore cut
   * short between creating it and setting them, or properties since removed); what it has stays.
   */
  private async addMissing(
    existing: CollectionInfo,
    spec: CollectionSpec,
  ): Promise<PropertyRefusal[]> {
    const has: Record<string, boolean> = {
      [PROP.displayname]: existing.displayName !== null,
      [PROP.calendarColor]: existing.color !== null,
      [PROP.addressbookColor]: existing.color !== null,
      [PROP.calendarDescription]: existing.description !== null,
      [PROP.addressbookDescription]: existing.description !== null,
      [PROP.calendarTimezone]: existing.timezone !== null,
      [PROP.calendarOrder]: existing.order !== undefined,
    };
    // The component set is left alone: most servers fix it at creation.
    const missing = wantedProperties(spec).filter(
      (property) => property.name !== PROP.supportedComponents && has[property.name] === false,
    );
    if (missing.length === 0) return [];
    return completeProperties(this.http, existing.href, missing, new Map());
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

/**
 * Where a collection goes in its home. Servers that keep calendars and address books in one home
 * (Radicale) cannot hold both under one name, which others allow (SOGo names both "personal"):
 * the second then goes under NAME-calendar or NAME-contacts, found again by a later restore.
 */
function placeIn(
  listing: readonly CollectionInfo[],
  home: string,
  spec: CollectionSpec,
): { name: string; existing: CollectionInfo | undefined } {
  const names = [spec.name, `${spec.name}-${spec.kind === 'calendar' ? 'calendar' : 'contacts'}`];
  for (const name of names) {
    const href = collectionPath(memberHref(home, name));
    const existing = listing.find((collection) => collection.href === href);
    if (existing === undefined || existing.kind === spec.kind) return { name, existing };
  }
  throw new DavError(
    'refused',
    `${home}: ${names.join(' and ')} are both taken by ${spec.kind === 'calendar' ? 'address books' : 'calendars'}`,
  );
}

export async function openDavAccountWriter(
  server: DavServerOptions,
  account: string,
): Promise<DavAccountWriter> {
  return new Writer(await DavHttp.open(server), account, server.principalPath);
}
