// Creating a calendar (MKCALENDAR, RFC 4791 5.3.1) or an address book (extended MKCOL,
// RFC 5689) with its properties in the same request. A server that refuses the properties
// there gets the bare collection and then a PROPPATCH, and whatever it still refuses is named.
import type { CollectionKind } from '../../dav/collection-info.js';
import { DavError } from '../../dav/dav-error.js';
import { propfind, xmlRequest } from '../../dav/dav-requests.js';
import type { DavHttp, DavHttpResponse } from '../../dav/http-client.js';
import { parseMultistatus } from '../../dav/multistatus.js';
import { clark, NS, PROP } from '../../dav/namespaces.js';
import { el, type XmlNode } from '../../dav/xml-writer.js';

export interface CollectionSpec {
  kind: CollectionKind;
  /** Last path segment, e.g. "calendar.ics". */
  name: string;
  displayName: string | null;
  color: string | null;
  description: string | null;
  components: string[];
  timezone: string | null;
}

export interface CreationOutcome {
  created: boolean;
  /** Clark names of the spec's properties the server would not store. */
  propertiesNotSet: string[];
}

const D = (local: string): string => clark(NS.dav, local);

/** The spec's properties, as elements for a prop element. */
export function specProperties(spec: CollectionSpec): XmlNode[] {
  const props: XmlNode[] = [];
  if (spec.displayName !== null) props.push(el(PROP.displayname, spec.displayName));
  if (spec.kind === 'calendar') {
    if (spec.description !== null) props.push(el(PROP.calendarDescription, spec.description));
    if (spec.color !== null) props.push(el(PROP.calendarColor, spec.color));
    if (spec.timezone !== null) props.push(el(PROP.calendarTimezone, spec.timezone));
    if (spec.components.length > 0) {
      props.push(
        el(
          PROP.supportedComponents,
          spec.components.map((name) => el(clark(NS.caldav, 'comp'), [], { name })),
        ),
      );
    }
  } else {
    if (spec.description !== null) props.push(el(PROP.addressbookDescription, spec.description));
    if (spec.color !== null) props.push(el(PROP.addressbookColor, spec.color));
  }
  return props;
}

function creationRequest(spec: CollectionSpec, href: string, props: XmlNode[]) {
  if (spec.kind === 'calendar') {
    const set = props.length > 0 ? [el(D('set'), [el(D('prop'), props)])] : [];
    return xmlRequest('MKCALENDAR', href, el(clark(NS.caldav, 'mkcalendar'), set));
  }
  const resourcetype = el(PROP.resourcetype, [
    el(D('collection')),
    el(clark(NS.carddav, 'addressbook')),
  ]);
  return xmlRequest(
    'MKCOL',
    href,
    el(D('mkcol'), [el(D('set'), [el(D('prop'), [resourcetype, ...props])])]),
  );
}

/** Creates the collection at `href`; `created: false` when it was already there. */
export async function createCollection(
  http: DavHttp,
  href: string,
  spec: CollectionSpec,
): Promise<CreationOutcome> {
  const props = specProperties(spec);
  const full = creationRequest(spec, href, props);
  const first = await http.send(full);
  if (isCreated(first)) return { created: true, propertiesNotSet: [] };
  if (await exists(http, href)) return { created: false, propertiesNotSet: [] };
  if (props.length === 0) throw http.failure(full, first);
  // The properties may be what the server refused: create bare, then set them one by one.
  const bare = creationRequest(spec, href, []);
  const second = await http.send(bare);
  if (!isCreated(second))
    throw http.failure(
      full,
      first,
      `then without properties: ${second.status} ${second.statusText}`,
    );
  return { created: true, propertiesNotSet: await setProperties(http, href, props) };
}

function isCreated(response: DavHttpResponse): boolean {
  // 201 per the RFCs; some servers answer 200 or 204.
  return response.status === 201 || response.status === 200 || response.status === 204;
}

async function exists(http: DavHttp, href: string): Promise<boolean> {
  try {
    await propfind(http, href, '0', [PROP.resourcetype]);
    return true;
  } catch (error) {
    // Not there, or not visible: either way the creation's own error is the one to report.
    if (error instanceof DavError && (error.kind === 'not-found' || error.kind === 'refused')) {
      return false;
    }
    throw error;
  }
}

/**
 * PROPPATCH, one property per request: RFC 4918 makes a PROPPATCH all or nothing, so one
 * refused property (supported-calendar-component-set is protected after creation on most
 * servers) must not cost the others.
 */
async function setProperties(http: DavHttp, href: string, props: XmlNode[]): Promise<string[]> {
  const notSet: string[] = [];
  for (const prop of props) {
    const request = xmlRequest(
      'PROPPATCH',
      href,
      el(D('propertyupdate'), [el(D('set'), [el(D('prop'), [prop])])]),
    );
    const response = await http.send(request);
    if (!propertySet(response)) notSet.push(prop.name);
  }
  return notSet;
}

function propertySet(response: DavHttpResponse): boolean {
  if (response.status === 200 || response.status === 204) return true;
  if (response.status !== 207) return false;
  try {
    const { responses } = parseMultistatus(response.body.toString('utf8'));
    return responses.every((entry) =>
      entry.propstats.every((propstat) => propstat.status >= 200 && propstat.status < 300),
    );
  } catch {
    return false;
  }
}
