// Item bodies in batches: one calendar-multiget / addressbook-multiget REPORT (RFC 4791 7.9,
// RFC 6352 8.7) per batch, and a GET for whatever a batch did not bring back, so that one item
// the server chokes on costs only itself.
import type { CollectionKind, FetchedItem } from './collection-info.js';
import { DavError } from './dav-error.js';
import { readMultistatus, xmlRequest } from './dav-requests.js';
import { canonicalHref, canonicalPath } from './href.js';
import type { DavHttp } from './http-client.js';
import { foundProp, propText, type MultistatusResponse } from './multistatus.js';
import { clark, NS, PROP } from './namespaces.js';
import { el, type XmlNode } from './xml-writer.js';

export type FetchOutcome = FetchedItem | { href: string; error: string };

export const DEFAULT_BATCH = 100;

/** Statuses that say the server does not do multiget at all: stop asking. */
const UNSUPPORTED = new Set([400, 403, 405, 415, 501]);

const CONTENT_TYPES: Readonly<Record<CollectionKind, string>> = {
  calendar: 'text/calendar; charset=utf-8',
  addressbook: 'text/vcard; charset=utf-8',
};

export function contentTypeFor(kind: CollectionKind): string {
  return CONTENT_TYPES[kind];
}

/** Remembers, per reader or writer, that the server refused multiget. */
export interface FetchState {
  multigetRefused: boolean;
}

export async function* fetchItems(
  http: DavHttp,
  collection: { href: string; kind: CollectionKind },
  hrefs: readonly string[],
  state: FetchState,
  batchSize = DEFAULT_BATCH,
): AsyncGenerator<FetchOutcome> {
  for (let start = 0; start < hrefs.length; start += batchSize) {
    const batch = hrefs.slice(start, start + batchSize);
    const found = state.multigetRefused ? null : await multiget(http, collection, batch, state);
    for (const href of batch) {
      const entry = found?.get(canonicalPath(href));
      if (entry !== undefined && 'bytes' in entry) yield { ...entry, href };
      else if (entry !== undefined && entry.status === 404) {
        yield { href, error: '404 Not Found: deleted since it was listed' };
      } else yield await getItem(http, href, collection.kind);
    }
  }
}

type MultigetEntry = FetchedItem | { status: number | null };

async function multiget(
  http: DavHttp,
  collection: { href: string; kind: CollectionKind },
  hrefs: readonly string[],
  state: FetchState,
): Promise<Map<string, MultigetEntry> | null> {
  const calendar = collection.kind === 'calendar';
  const dataProp = calendar ? PROP.calendarData : PROP.addressData;
  const root = calendar
    ? clark(NS.caldav, 'calendar-multiget')
    : clark(NS.carddav, 'addressbook-multiget');
  const body: XmlNode = el(root, [
    el(clark(NS.dav, 'prop'), [el(PROP.getetag), el(PROP.getcontenttype), el(dataProp)]),
    ...hrefs.map((href) => el(clark(NS.dav, 'href'), href)),
  ]);
  // Depth 1, as RFC 6352's examples and its erratum 4610 have it; CalDAV servers ignore it.
  const request = xmlRequest('REPORT', collection.href, body, '1');
  const response = await http.send(request);
  if (response.status !== 207) {
    if (UNSUPPORTED.has(response.status)) state.multigetRefused = true;
    return null;
  }
  let responses: MultistatusResponse[];
  let base: URL;
  try {
    const answer = readMultistatus(http, request, response);
    responses = answer.responses;
    base = answer.url;
  } catch (error) {
    if (error instanceof DavError && error.kind === 'protocol') return null;
    throw error;
  }
  const found = new Map<string, MultigetEntry>();
  for (const entry of responses) {
    const href = canonicalHref(entry.href, base);
    const data = foundProp(entry, dataProp);
    if (data === undefined) {
      found.set(href, { status: entry.status });
      continue;
    }
    found.set(href, {
      href,
      etag: propText(entry, PROP.getetag) ?? '',
      bytes: Buffer.from(data.text, 'utf8'),
      contentType: propText(entry, PROP.getcontenttype) ?? contentTypeFor(collection.kind),
    });
  }
  return found;
}

async function getItem(http: DavHttp, href: string, kind: CollectionKind): Promise<FetchOutcome> {
  const request = { method: 'GET', url: href };
  try {
    const response = await http.send(request);
    if (response.status === 200) {
      return {
        href,
        etag: response.headers.get('etag') ?? '',
        bytes: response.body,
        contentType: response.headers.get('content-type') ?? contentTypeFor(kind),
      };
    }
    if (response.status === 404 || response.status === 410) {
      return {
        href,
        error: `${response.status} ${response.statusText}: deleted since it was listed`,
      };
    }
    return { href, error: http.failure(request, response).message };
  } catch (error) {
    // Failures of the connection or the login are the whole session's, not this item's.
    if (error instanceof DavError && ['auth', 'unreachable', 'tls'].includes(error.kind))
      throw error;
    return { href, error: (error as Error).message };
  }
}
