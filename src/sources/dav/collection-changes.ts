// What changed in a collection since the last backup, at the least cost: nothing at all when
// the collection's sync token (or ctag) is the one stored; else an RFC 6578 sync-collection
// REPORT from the stored token; else, when the server lacks the report or refuses the token,
// one PROPFIND depth 1 of ETags compared with the stored ones. Never an item body.
import type { CollectionInfo, ItemRef } from '../../dav/collection-info.js';
import { DavError } from '../../dav/dav-error.js';
import { propfind, readMultistatus, xmlRequest } from '../../dav/dav-requests.js';
import { canonicalHref, canonicalPath, isInside } from '../../dav/href.js';
import type { DavHttp } from '../../dav/http-client.js';
import { parseErrorBody, propText } from '../../dav/multistatus.js';
import { clark, NS, PROP } from '../../dav/namespaces.js';
import { el } from '../../dav/xml-writer.js';

/** href → ETag of every item the last backup saw. */
export type PreviousItems = ReadonlyMap<string, string>;

export interface PreviousState {
  syncToken: string | null;
  /**
   * The items the last backup saw, or how to read them. Reading them costs the caller a
   * listing from its repository, so a function is called only when the server reports changes,
   * and at most once: an unchanged collection is settled without it.
   */
  items: PreviousItems | (() => Promise<PreviousItems>);
  /** The collection's ctag then, when the caller kept it: an equal ctag means nothing changed. */
  ctag?: string | null;
}

export interface CollectionChanges {
  /** initial = no previous state. */
  how: 'sync-collection' | 'etag-comparison' | 'initial';
  /** New or modified since `previous`. */
  changed: ItemRef[];
  /** Hrefs gone since `previous`. */
  removed: string[];
  syncToken: string | null;
  /** Why the cheaper way was not taken, or that no request was needed; null when there is nothing to say. */
  note: string | null;
}

/** Statuses that mean "no sync-collection here" rather than "this token". */
const SYNC_UNSUPPORTED = new Set([400, 403, 405, 409, 415, 501]);
const MAX_ROUNDS = 1_000;

export async function collectionChanges(
  http: DavHttp,
  collection: CollectionInfo,
  previous: PreviousState | null,
): Promise<CollectionChanges> {
  if (
    previous !== null &&
    previous.syncToken !== null &&
    collection.syncToken === previous.syncToken
  ) {
    return unchanged('sync-collection', previous.syncToken, 'sync token as stored: no request');
  }
  if (previous?.ctag != null && collection.ctag === previous.ctag) {
    return unchanged(
      'etag-comparison',
      collection.syncToken ?? previous.syncToken,
      'ctag as stored: no request',
    );
  }
  const token =
    previous === null ? (collection.syncToken === null ? null : '') : previous.syncToken;
  let note: string | null = null;
  if (token !== null) {
    const synced = await syncCollection(http, collection.href, token);
    if ('refused' in synced) note = synced.refused;
    else {
      // A new token that reports no item (say, only the collection's properties changed) needs
      // no comparison, so the previous items are not read.
      const reported = synced.members.size + synced.removed.size > 0;
      const before = reported ? await previousItems(previous) : NOTHING;
      return {
        how: previous === null ? 'initial' : 'sync-collection',
        ...compare(before, synced.members, synced.removed, false),
        syncToken: synced.syncToken,
        note: null,
      };
    }
  }
  const listing = await listEtags(http, collection.href);
  return {
    how: previous === null ? 'initial' : 'etag-comparison',
    ...compare(await previousItems(previous), listing.members, new Set(), true),
    syncToken: listing.syncToken,
    note,
  };
}

function unchanged(
  how: CollectionChanges['how'],
  syncToken: string | null,
  note: string,
): CollectionChanges {
  return { how, changed: [], removed: [], syncToken, note };
}

const NOTHING: PreviousItems = new Map();

async function previousItems(previous: PreviousState | null): Promise<PreviousItems> {
  if (previous === null) return NOTHING;
  return typeof previous.items === 'function' ? previous.items() : previous.items;
}

/**
 * The changes against the items seen before. `complete` says `members` is the whole
 * collection, so whatever else was there before is gone. A member whose ETag is the stored one
 * is not changed, whatever the server reported.
 */
export function compare(
  before: PreviousItems,
  members: ReadonlyMap<string, string>,
  removedMembers: ReadonlySet<string>,
  complete: boolean,
): { changed: ItemRef[]; removed: string[] } {
  const changed: ItemRef[] = [];
  for (const [href, etag] of members) {
    if (etag === '' || before.get(href) !== etag) changed.push({ href, etag });
  }
  const removed = complete
    ? [...before.keys()].filter((href) => !members.has(href))
    : [...removedMembers].filter((href) => before.has(href) && !members.has(href));
  return { changed, removed };
}

interface SyncResult {
  members: Map<string, string>;
  removed: Set<string>;
  syncToken: string;
}

async function syncCollection(
  http: DavHttp,
  collectionHref: string,
  startToken: string,
): Promise<SyncResult | { refused: string }> {
  const members = new Map<string, string>();
  const removed = new Set<string>();
  let token = startToken;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const request = xmlRequest(
      'REPORT',
      collectionHref,
      el(clark(NS.dav, 'sync-collection'), [
        el(clark(NS.dav, 'sync-token'), token),
        el(clark(NS.dav, 'sync-level'), '1'),
        el(clark(NS.dav, 'prop'), [el(PROP.getetag)]),
      ]),
      '0',
    );
    const response = await http.send(request);
    if (response.status !== 207) {
      const refusal = refusalOf(response.status, response.body.toString('utf8'));
      if (refusal === null) throw http.failure(request, response);
      return { refused: refusal };
    }
    const answer = readMultistatus(http, request, response);
    let truncated = false;
    for (const entry of answer.responses) {
      const href = canonicalHref(entry.href, answer.url);
      // RFC 6578 3.6: a 507 for the collection itself says there is more to ask for.
      if (!isInside(href, collectionHref)) {
        if (entry.status === 507) truncated = true;
        continue;
      }
      // Sub-collections are not items (iCloud even lists the collection among its changes).
      if (href.endsWith('/')) continue;
      if (entry.status === 404) {
        removed.add(href);
        members.delete(href);
      } else {
        members.set(href, propText(entry, PROP.getetag) ?? '');
        removed.delete(href);
      }
    }
    if (answer.syncToken === null) {
      throw new DavError(
        'protocol',
        `${http.describe(request)}: sync-collection answer without a sync-token`,
      );
    }
    const advanced = answer.syncToken !== token;
    token = answer.syncToken;
    if (!truncated) return { members, removed, syncToken: token };
    if (!advanced) {
      throw new DavError(
        'protocol',
        `${http.describe(request)}: truncated sync-collection answer with no new token`,
      );
    }
  }
  throw new DavError(
    'protocol',
    `${http.where}: sync-collection of ${collectionHref} still truncated after ${MAX_ROUNDS} rounds`,
  );
}

/** Why a sync-collection was refused in a way the ETag comparison can stand in for, or null. */
export function refusalOf(status: number, body: string): string | null {
  const preconditions = parseErrorBody(body);
  if (preconditions.includes(clark(NS.dav, 'valid-sync-token'))) {
    return `the server refused the stored sync token (${status} valid-sync-token): compared ETags instead`;
  }
  if (SYNC_UNSUPPORTED.has(status)) {
    return `the server does not offer sync-collection here (${status}): compared ETags instead`;
  }
  return null;
}

async function listEtags(
  http: DavHttp,
  collectionHref: string,
): Promise<{ members: Map<string, string>; syncToken: string | null }> {
  const answer = await propfind(http, collectionHref, '1', [PROP.getetag, PROP.syncToken]);
  const members = new Map<string, string>();
  let syncToken: string | null = null;
  const own = canonicalPath(collectionHref);
  for (const entry of answer.responses) {
    const href = canonicalHref(entry.href, answer.url);
    if (href === own) syncToken = propText(entry, PROP.syncToken);
    else if (isInside(href, own) && !href.endsWith('/')) {
      members.set(href, propText(entry, PROP.getetag) ?? '');
    }
  }
  return { members, syncToken };
}
