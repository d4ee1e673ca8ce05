// What a PUT with If-None-Match: * came to. Servers say "already there" in more than one way:
// 412 for an item at that href; for an item with the same UID under another name, 409 (or 403)
// with a no-uid-conflict precondition (RFC 4791 5.3.2.1, RFC 6352 6.3.2.1), or, from Xandikos,
// a 207 Multi-Status whose one response carries the 412 and the precondition.
import type { DavHttp, DavHttpResponse, DavRequest } from '../../dav/http-client.js';
import { parseErrorBody, parseMultistatus } from '../../dav/multistatus.js';
import { clark, NS } from '../../dav/namespaces.js';
import { statusLine } from './collection-properties.js';

export type PutOutcome =
  | { outcome: 'created'; etag: string | null }
  /** `by`: an item at that href (412), or one with the same UID elsewhere in the collection (no-uid-conflict). */
  | { outcome: 'exists'; by?: 'href' | 'uid' }
  | { outcome: 'failed'; error: string };

const UID_CONFLICTS = [clark(NS.caldav, 'no-uid-conflict'), clark(NS.carddav, 'no-uid-conflict')];

export function putOutcome(
  http: DavHttp,
  request: DavRequest,
  response: DavHttpResponse,
): PutOutcome {
  if (response.status === 201 || response.status === 204 || response.status === 200) {
    return { outcome: 'created', etag: response.headers.get('etag') };
  }
  if (response.status === 412) return { outcome: 'exists', by: 'href' };
  const body = response.body.toString('utf8');
  if (response.status === 207) return multistatusOutcome(http, request, body);
  if (parseErrorBody(body).some((name) => UID_CONFLICTS.includes(name))) {
    return { outcome: 'exists', by: 'uid' };
  }
  return { outcome: 'failed', error: http.failure(request, response).message };
}

/** A PUT answered with a multistatus: the status and preconditions of the item's response. */
function multistatusOutcome(http: DavHttp, request: DavRequest, body: string): PutOutcome {
  let responses;
  try {
    ({ responses } = parseMultistatus(body));
  } catch {
    return { outcome: 'failed', error: `${http.describe(request)}: 207 Multi-Status, unreadable` };
  }
  const preconditions = responses.flatMap((response) => response.errors);
  if (preconditions.some((name) => UID_CONFLICTS.includes(name))) {
    return { outcome: 'exists', by: 'uid' };
  }
  // Not taken as created whatever it says: a restore reports what it cannot be sure of.
  const status = responses.map((response) => response.status).find((value) => value !== null);
  const why = [
    ...preconditions.map((name) => name.replace(/^\{[^}]*\}/, '')),
    ...responses.flatMap((response) => (response.description ? [response.description] : [])),
  ].join('; ');
  return {
    outcome: 'failed',
    error: `${http.describe(request)}: ${status != null ? statusLine(status) : '207 Multi-Status'}${why ? ` (${why})` : ''}`,
  };
}
