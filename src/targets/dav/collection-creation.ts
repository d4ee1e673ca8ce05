// Creating a calendar (MKCALENDAR, RFC 4791 5.3.1) or an address book (extended MKCOL,
// RFC 5689) with its properties, on servers that each take them their own way:
// - most store them all with the creation and answer 201 (Radicale);
// - some answer 201 having stored only some, naming each property with its own status (Xandikos);
// - some refuse the whole creation when one property is unknown, with a status per property
//   (403/409/507 and a propstat; 424 Failed Dependency for the ones that were fine).
// The collection is created with what the server accepts (the supported component set in
// particular: most servers let it be set only at creation), every other property is then set by
// PROPPATCH one at a time, and whatever the server still refuses is named with its answer.
import { DavError } from '../../dav/dav-error.js';
import { propfind, xmlRequest } from '../../dav/dav-requests.js';
import type { DavHttp, DavHttpResponse } from '../../dav/http-client.js';
import { propertyStatuses } from '../../dav/multistatus.js';
import { clark, NS, PROP } from '../../dav/namespaces.js';
import { el } from '../../dav/xml-writer.js';
import {
  heldProperties,
  setProperty,
  statusLine,
  wantedProperties,
  type CollectionSpec,
  type PropertyRefusal,
  type WantedProperty,
} from './collection-properties.js';

export type { CollectionSpec, PropertyRefusal } from './collection-properties.js';

export interface CreationOutcome {
  created: boolean;
  /** The spec's properties the server would not store, each with its answer. */
  propertiesNotSet: PropertyRefusal[];
}

const D = (local: string): string => clark(NS.dav, local);
const FAILED_DEPENDENCY = 424;

function creationRequest(spec: CollectionSpec, href: string, props: readonly WantedProperty[]) {
  const nodes = props.map((property) => property.node);
  if (spec.kind === 'calendar') {
    const set = nodes.length > 0 ? [el(D('set'), [el(D('prop'), nodes)])] : [];
    return xmlRequest('MKCALENDAR', href, el(clark(NS.caldav, 'mkcalendar'), set));
  }
  const resourcetype = el(PROP.resourcetype, [
    el(D('collection')),
    el(clark(NS.carddav, 'addressbook')),
  ]);
  return xmlRequest(
    'MKCOL',
    href,
    el(D('mkcol'), [el(D('set'), [el(D('prop'), [resourcetype, ...nodes])])]),
  );
}

/** Creates the collection at `href`; `created: false` when it was already there. */
export async function createCollection(
  http: DavHttp,
  href: string,
  spec: CollectionSpec,
): Promise<CreationOutcome> {
  const wanted = wantedProperties(spec);
  const full = creationRequest(spec, href, wanted);
  const first = await http.send(full);
  let statuses: Map<string, number>;
  if (isCreated(first)) statuses = statusesOf(first);
  else {
    if (await exists(http, href)) return { created: false, propertiesNotSet: [] };
    if (wanted.length === 0) throw http.failure(full, first);
    statuses = await createWithAccepted(http, href, spec, wanted, full, first);
  }
  return {
    created: true,
    propertiesNotSet: await completeProperties(http, href, wanted, statuses),
  };
}

/**
 * The creation again, after the server refused the first: with the properties it did not name
 * as the cause, else bare. The statuses say what the creation stored (2xx) or did not.
 */
async function createWithAccepted(
  http: DavHttp,
  href: string,
  spec: CollectionSpec,
  wanted: readonly WantedProperty[],
  full: ReturnType<typeof creationRequest>,
  first: DavHttpResponse,
): Promise<Map<string, number>> {
  const named = statusesOf(first);
  const refused = (property: WantedProperty) => {
    const status = named.get(property.name);
    return status !== undefined && status !== FAILED_DEPENDENCY && !(status >= 200 && status < 300);
  };
  const accepted = wanted.filter((property) => !refused(property));
  const attempts = accepted.length > 0 && accepted.length < wanted.length ? [accepted, []] : [[]];
  const answers: string[] = [];
  for (const props of attempts) {
    const response = await http.send(creationRequest(spec, href, props));
    if (isCreated(response)) {
      // What this creation carried is as its answer says (or as a look will tell); what it left
      // out is not stored: with the status that refused it, or 0 (a 424 only waited on another).
      const statuses = statusesOf(response);
      for (const property of wanted) {
        if (!props.includes(property))
          statuses.set(property.name, refused(property) ? (named.get(property.name) ?? 0) : 0);
      }
      return statuses;
    }
    answers.push(
      `then ${props.length > 0 ? 'with fewer properties' : 'without properties'}: ${response.status} ${response.statusText}`,
    );
  }
  throw http.failure(full, first, answers.join('; '));
}

/**
 * Sets what the creation did not store. A property the creation's answer did not mention is
 * looked up first, and so is one it refused (the server may already hold the same value: a
 * fixed component set), so that only what is missing or different is sent again.
 */
export async function completeProperties(
  http: DavHttp,
  href: string,
  wanted: readonly WantedProperty[],
  statuses: ReadonlyMap<string, number>,
): Promise<PropertyRefusal[]> {
  const stored = (property: WantedProperty) => {
    const status = statuses.get(property.name);
    return status !== undefined && status >= 200 && status < 300;
  };
  const unsure = wanted.filter((property) => !stored(property));
  if (unsure.length === 0) return [];
  const held = await heldProperties(http, href, unsure);
  const refusals: PropertyRefusal[] = [];
  const accepted: WantedProperty[] = [];
  for (const property of unsure) {
    const value = held?.get(property.name);
    if (value !== undefined && property.same(value)) continue;
    const refusal = await setProperty(http, href, property);
    if (refusal === null) {
      accepted.push(property);
      continue;
    }
    const atCreation = statuses.get(property.name);
    refusals.push({
      property: property.name,
      reason:
        atCreation !== undefined && atCreation !== 0
          ? `refused at creation (${statusLine(atCreation)}), then ${refusal}`
          : refusal,
    });
  }
  if (accepted.length === 0) return refusals;
  // A server may answer 200 and keep nothing (Xandikos 0.2.8 with calendar-order): one more
  // look. A value handed back changed was still kept; only one that is not there is lost.
  const kept = await heldProperties(http, href, accepted);
  if (kept === null) return refusals;
  for (const property of accepted) {
    if (!kept.has(property.name))
      refusals.push({
        property: property.name,
        reason: 'PROPPATCH answered that it was set, but the server does not keep it',
      });
  }
  return refusals;
}

function statusesOf(response: DavHttpResponse): Map<string, number> {
  return propertyStatuses(response.body.toString('utf8'));
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
