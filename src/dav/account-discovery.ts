// Finding an account's calendars and address books (RFC 6764, RFC 4791 6.2.1, RFC 6352 7.1.1):
// the context root (through /.well-known when the configured URL is a bare origin), the
// principal (current-user-principal, or a configured path when an administrator reads other
// accounts), its calendar-home-set and addressbook-home-set, then one PROPFIND depth 1 per home.
import {
  COLLECTION_PROPS,
  collectionFromResponse,
  type CollectionInfo,
  type CollectionKind,
} from './collection-info.js';
import { DavError } from './dav-error.js';
import { propfind, propfindRequest, readMultistatus } from './dav-requests.js';
import { canonicalHref, collectionPath, encodeSegment } from './href.js';
import type { DavHttp } from './http-client.js';
import { propHrefs, type MultistatusResponse } from './multistatus.js';
import { PROP } from './namespaces.js';

export interface AccountHomes {
  /** The DAV context root, after /.well-known redirects. */
  root: string;
  /** The account's principal (canonical path). */
  principal: string;
  /** False when the principal does not exist (yet): an administrator reading an account that never used DAV. */
  principalFound: boolean;
  calendarHome: string | null;
  addressbookHome: string | null;
}

export function homeFor(homes: AccountHomes, kind: CollectionKind): string | null {
  return kind === 'calendar' ? homes.calendarHome : homes.addressbookHome;
}

interface ContextRoot {
  root: URL;
  /** current-user-principal when the answer that found the root carried it. */
  principal: string | null;
}

/**
 * Context roots found through /.well-known, by server URL, for runs where an administrator reads
 * every account through a configured principal path: the answer is then the same for every
 * account (only the administrator's own principal comes with it, and it is not used), so a run
 * over a thousand accounts asks once, not a thousand times. Kept for a few minutes, so that a
 * long-running process notices a server that moved.
 */
const sharedRoots = new Map<string, { since: number; root: Promise<ContextRoot> }>();
const SHARED_ROOT_MS = 10 * 60_000;

function sharedContextRoot(http: DavHttp): Promise<ContextRoot> {
  const key = `${http.user}@${http.root.href}`;
  const known = sharedRoots.get(key);
  if (known && Date.now() - known.since < SHARED_ROOT_MS) return known.root;
  const root = contextRoot(http);
  sharedRoots.set(key, { since: Date.now(), root });
  root.catch(() => sharedRoots.delete(key)); // a failure is not remembered
  return root;
}

export async function discoverAccount(
  http: DavHttp,
  account: string,
  principalPath: string | undefined,
): Promise<AccountHomes> {
  const context =
    principalPath !== undefined ? await sharedContextRoot(http) : await contextRoot(http);
  let principal: string;
  if (principalPath !== undefined) {
    const relative = principalPath.replaceAll('{account}', encodeSegment(account));
    principal = collectionPath(canonicalHref(relative, context.root));
  } else {
    principal = context.principal ?? (await currentUserPrincipal(http, context.root));
  }
  const request = propfindRequest(principal, '0', [PROP.calendarHomeSet, PROP.addressbookHomeSet]);
  const response = await http.send(request);
  const base = { root: context.root.pathname, principal };
  if (response.status === 404 && principalPath !== undefined) {
    return { ...base, principalFound: false, calendarHome: null, addressbookHome: null };
  }
  const answer = readMultistatus(http, request, response);
  const own = answer.responses[0];
  const home = (name: string): string | null => {
    const href = own ? propHrefs(own, name)[0] : undefined;
    return href === undefined ? null : collectionPath(canonicalHref(href, answer.url));
  };
  return {
    ...base,
    principalFound: true,
    calendarHome: home(PROP.calendarHomeSet),
    addressbookHome: home(PROP.addressbookHomeSet),
  };
}

/**
 * RFC 6764 section 5: a client given only a host asks /.well-known/caldav (then carddav), which
 * redirects to the context path. A configured path is taken as the context root itself.
 */
async function contextRoot(http: DavHttp): Promise<ContextRoot> {
  if (http.root.pathname !== '/') return { root: http.root, principal: null };
  for (const service of ['caldav', 'carddav']) {
    const request = propfindRequest(`/.well-known/${service}`, '0', [PROP.currentUserPrincipal]);
    const response = await http.send(request);
    if (response.status !== 207) continue;
    const answer = readMultistatus(http, request, response);
    const own = answer.responses[0];
    const href = own ? propHrefs(own, PROP.currentUserPrincipal)[0] : undefined;
    const root = new URL(answer.url.href);
    if (!root.pathname.endsWith('/')) root.pathname += '/';
    return {
      root,
      principal: href === undefined ? null : collectionPath(canonicalHref(href, answer.url)),
    };
  }
  return { root: http.root, principal: null };
}

async function currentUserPrincipal(http: DavHttp, root: URL): Promise<string> {
  const answer = await propfind(http, root, '0', [PROP.currentUserPrincipal]);
  const own = answer.responses[0];
  const href = own ? propHrefs(own, PROP.currentUserPrincipal)[0] : undefined;
  if (href === undefined) {
    throw new DavError(
      'protocol',
      `${http.where}: no current-user-principal for user ${http.user} at ${root.pathname} (with an administrator's login, set the server's dav.principalPath in the configuration, such as /principals/{account}/)`,
    );
  }
  return collectionPath(canonicalHref(href, answer.url));
}

/** Every calendar and address book directly under the account's homes. */
export async function listCollections(
  http: DavHttp,
  homes: AccountHomes,
): Promise<CollectionInfo[]> {
  const collections = new Map<string, CollectionInfo>();
  const distinct = new Set(
    [homes.calendarHome, homes.addressbookHome].filter((home): home is string => home !== null),
  );
  for (const home of distinct) {
    const request = propfindRequest(home, '1', COLLECTION_PROPS);
    const response = await http.send(request);
    // A home that is announced but not there yet holds nothing.
    if (response.status === 404) continue;
    const answer = readMultistatus(http, request, response);
    for (const entry of answer.responses) {
      const collection = fromListing(entry, answer.url, home);
      if (collection && !collections.has(collection.href)) {
        collections.set(collection.href, collection);
      }
    }
  }
  return [...collections.values()].sort((a, b) => (a.href < b.href ? -1 : a.href > b.href ? 1 : 0));
}

function fromListing(entry: MultistatusResponse, base: URL, home: string): CollectionInfo | null {
  const collection = collectionFromResponse(entry, base);
  if (collection === null || collection.href === home) return null;
  return collection;
}
