// The UIDs a collection holds, for a restore's test of "already there", at the least cost: one
// calendar-query or addressbook-query REPORT asking for each item's UID alone (partial
// retrieval, RFC 4791 9.6 and RFC 6352 10.4). Radicale 3 ignores the narrowing and sends
// every item whole, so the answer is read one response at a time and only UIDs are kept.
// A server that refuses the query, truncates it (507) or answers it unreadably is asked the
// long way: its members listed, their bodies fetched in batches.
import type { CollectionKind } from '../../dav/collection-info.js';
import { DavError } from '../../dav/dav-error.js';
import { xmlRequest } from '../../dav/dav-requests.js';
import { canonicalHref, canonicalPath, isInside } from '../../dav/href.js';
import {
  discard,
  type DavHttp,
  type DavRequest,
  type DavStreamedResponse,
} from '../../dav/http-client.js';
import { fetchItems, type FetchOutcome, type FetchState } from '../../dav/item-fetch.js';
import { foundProp } from '../../dav/multistatus.js';
import { streamMultistatus } from '../../dav/multistatus-stream.js';
import { clark, NS, PROP } from '../../dav/namespaces.js';
import { XmlError } from '../../dav/xml-tree.js';
import { el, type XmlNode } from '../../dav/xml-writer.js';
import { CALENDAR_ITEM_COMPONENTS, itemUid } from './item-uid.js';

/** What a writer remembers of the server between collections. */
export interface UidLookupState {
  /**
   * The kinds of collection whose query the server does not do (it said so, or failed it with
   * a server error every time it was tried): the long way for every such collection. Xandikos
   * answers calendar queries but fails every addressbook-query with a 500.
   */
  queryRefused: Set<CollectionKind>;
  fetch: FetchState;
}

interface Collection {
  href: string;
  kind: CollectionKind;
}

/** Statuses that say the server does not do the query at all: stop asking. */
const UNSUPPORTED = new Set([400, 403, 405, 415, 501]);

/**
 * The UIDs of the collection's items. `listMembers` gives the items' hrefs, for the long way.
 * The state is shared by one writer's calls, so that a refusal is met once per server.
 */
export async function collectionUids(
  http: DavHttp,
  collection: Collection,
  state: UidLookupState,
  listMembers: () => Promise<string[]>,
): Promise<Set<string>> {
  const queried = state.queryRefused.has(collection.kind)
    ? null
    : await queryUids(http, collection, state);
  if (queried !== null) {
    // Items the answer listed without their data are fetched whole.
    await addUids(queried.uids, fetchItems(http, collection, queried.unread, state.fetch));
    return queried.uids;
  }
  const uids = new Set<string>();
  await addUids(uids, fetchItems(http, collection, await listMembers(), state.fetch));
  return uids;
}

/** An item that cannot be read adds no UID: the server's own no-uid-conflict check remains. */
async function addUids(uids: Set<string>, items: AsyncIterable<FetchOutcome>): Promise<void> {
  for await (const item of items) if ('bytes' in item) addUid(uids, item.bytes);
}

function addUid(uids: Set<string>, item: Buffer | string): void {
  const uid = itemUid(item);
  if (uid !== null) uids.add(uid);
}

interface QueryAnswer {
  uids: Set<string>;
  /** Members listed without their data. */
  unread: string[];
}

async function queryUids(
  http: DavHttp,
  collection: Collection,
  state: UidLookupState,
): Promise<QueryAnswer | null> {
  const request = uidQuery(collection);
  try {
    return await http.stream(request, async (response) => {
      if (response.status === 207) return await readAnswer(http, collection, response);
      // A 5xx here is one that outlasted the retries.
      if (UNSUPPORTED.has(response.status) || response.status >= 500)
        state.queryRefused.add(collection.kind);
      await discard(response.body);
      return null;
    });
  } catch (error) {
    if (error instanceof DavError && error.kind === 'protocol') return null;
    throw error;
  }
}

/** The UIDs in a 207 answer, or null when the server says it left items out. */
async function readAnswer(
  http: DavHttp,
  collection: Collection,
  response: DavStreamedResponse,
): Promise<QueryAnswer | null> {
  const own = canonicalPath(collection.href);
  const dataProp = collection.kind === 'calendar' ? PROP.calendarData : PROP.addressData;
  const answer: QueryAnswer = { uids: new Set(), unread: [] };
  try {
    for await (const entry of streamMultistatus(response.body)) {
      const href = canonicalHref(entry.href, response.url);
      // A 507 for the collection itself (number-of-matches-within-limits, RFC 5323 5.6) says
      // that more items matched than were sent.
      if (href === own && entry.status === 507) return null;
      if (!isInside(href, own) || href.endsWith('/')) continue;
      const data = foundProp(entry, dataProp)?.text ?? '';
      // An item without a UID adds none; one without data is fetched whole.
      if (data.trim() !== '') addUid(answer.uids, data);
      else if (entry.status !== 404) answer.unread.push(href);
    }
  } catch (error) {
    if (!(error instanceof XmlError)) throw error;
    throw new DavError(
      'protocol',
      `${http.where}: REPORT ${own}: unreadable answer: ${error.message}`,
      207,
      { cause: error },
    );
  }
  return answer;
}

function uidQuery(collection: Collection): DavRequest {
  if (collection.kind === 'calendar') {
    const C = (local: string): string => clark(NS.caldav, local);
    const only = (name: string): XmlNode =>
      el(C('comp'), [el(C('prop'), [], { name: 'UID' })], { name });
    return xmlRequest(
      'REPORT',
      collection.href,
      el(C('calendar-query'), [
        el(clark(NS.dav, 'prop'), [
          el(PROP.calendarData, [
            el(C('comp'), CALENDAR_ITEM_COMPONENTS.map(only), { name: 'VCALENDAR' }),
          ]),
        ]),
        el(C('filter'), [el(C('comp-filter'), [], { name: 'VCALENDAR' })]),
      ]),
      '1',
    );
  }
  const CR = (local: string): string => clark(NS.carddav, local);
  // Cards that have a UID: every card that can match one, and no reading of an empty filter
  // (RFC 6352 leaves open what a filter without prop-filter matches).
  return xmlRequest(
    'REPORT',
    collection.href,
    el(CR('addressbook-query'), [
      el(clark(NS.dav, 'prop'), [el(PROP.addressData, [el(CR('prop'), [], { name: 'UID' })])]),
      el(CR('filter'), [el(CR('prop-filter'), [], { name: 'UID' })]),
    ]),
    '1',
  );
}
