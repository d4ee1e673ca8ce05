// The properties a restore gives a calendar or an address book, how to set them one at a time,
// and how to tell whether the server holds them. Servers answer in more ways than the RFCs
// foresee (a 201 that stored nothing, a value handed back normalized), so what counts is the
// status the server gave each property, and failing that, what it holds when asked.
import type { CollectionKind } from '../../dav/collection-info.js';
import { DavError } from '../../dav/dav-error.js';
import { propfind, xmlRequest } from '../../dav/dav-requests.js';
import type { DavHttp } from '../../dav/http-client.js';
import { foundProp, propertyStatuses } from '../../dav/multistatus.js';
import { clark, NS, PROP } from '../../dav/namespaces.js';
import type { XmlElement } from '../../dav/xml-tree.js';
import { el, splitClark, type XmlNode } from '../../dav/xml-writer.js';

/** A collection as a restore recreates it: its name, and its properties as the snapshot kept them. */
export interface CollectionSpec {
  kind: CollectionKind;
  /** Last path segment, e.g. "calendar.ics". */
  name: string;
  displayName: string | null;
  color: string | null;
  description: string | null;
  components: string[];
  timezone: string | null;
  /** Apple's calendar-order, when the snapshot has one. */
  order?: string;
}

/** A property the server would not store, and what it answered. */
export interface PropertyRefusal {
  /** Clark name. */
  property: string;
  reason: string;
}

/** One property to set: its element, and whether a value the server holds is the same. */
export interface WantedProperty {
  name: string;
  node: XmlNode;
  /** Servers may hand a value back normalized (upper-case colours, re-folded time zones). */
  same(held: XmlElement): boolean;
}

const D = (local: string): string => clark(NS.dav, local);

/** The spec's properties, in the order they are sent. */
export function wantedProperties(spec: CollectionSpec): WantedProperty[] {
  const wanted: WantedProperty[] = [];
  const text = (name: string, value: string | null, same = sameText) => {
    if (value !== null)
      wanted.push({ name, node: el(name, value), same: (held) => same(held.text, value) });
  };
  text(PROP.displayname, spec.displayName);
  if (spec.kind === 'calendar') {
    text(PROP.calendarDescription, spec.description);
    text(PROP.calendarColor, spec.color, sameColor);
    text(PROP.calendarTimezone, spec.timezone, sameCalendarText);
    if (spec.order !== undefined) text(PROP.calendarOrder, spec.order);
    if (spec.components.length > 0) {
      const comp = clark(NS.caldav, 'comp');
      const wantedNames = new Set(spec.components.map((name) => name.toUpperCase()));
      wanted.push({
        name: PROP.supportedComponents,
        node: el(
          PROP.supportedComponents,
          spec.components.map((name) => el(comp, [], { name })),
        ),
        same: (held) => {
          const names = new Set(
            held.children
              .filter((child) => child.name === comp)
              .map((child) => child.attributes.get('name')?.toUpperCase() ?? ''),
          );
          return (
            names.size === wantedNames.size && [...names].every((name) => wantedNames.has(name))
          );
        },
      });
    }
  } else {
    text(PROP.addressbookDescription, spec.description);
    text(PROP.addressbookColor, spec.color, sameColor);
  }
  return wanted;
}

function sameText(held: string, wanted: string): boolean {
  return held.trim() === wanted.trim();
}

/** #RRGGBB and #RRGGBBFF are the same opaque colour; case does not matter. */
function sameColor(held: string, wanted: string): boolean {
  const normal = (color: string) =>
    color
      .trim()
      .toLowerCase()
      .replace(/^(#[0-9a-f]{6})ff$/, '$1');
  return normal(held) === normal(wanted);
}

/** iCalendar text compared unfolded, whatever its line endings. */
function sameCalendarText(held: string, wanted: string): boolean {
  const normal = (text: string) =>
    text
      .replace(/\r\n?/g, '\n')
      .replace(/\n[ \t]/g, '')
      .trim();
  return normal(held) === normal(wanted);
}

/** The property's name as an administrator would look it up: its local name. */
export function propertyLabel(name: string): string {
  return splitClark(name).local;
}

/**
 * The values the collection holds for the wanted properties (found ones only); null when the
 * server will not say, so that nothing is concluded from their absence.
 */
export async function heldProperties(
  http: DavHttp,
  href: string,
  wanted: readonly WantedProperty[],
): Promise<Map<string, XmlElement> | null> {
  let answer;
  try {
    answer = await propfind(
      http,
      href,
      '0',
      wanted.map((property) => property.name),
    );
  } catch (error) {
    if (error instanceof DavError && !['auth', 'unreachable', 'tls'].includes(error.kind))
      return null;
    throw error;
  }
  const held = new Map<string, XmlElement>();
  for (const response of answer.responses) {
    for (const { name } of wanted) {
      const found = foundProp(response, name);
      if (found && !held.has(name)) held.set(name, found);
    }
  }
  return held;
}

/**
 * PROPPATCH of one property: RFC 4918 makes a PROPPATCH all or nothing, so one refused
 * property (supported-calendar-component-set is protected after creation on most servers)
 * must not cost the others. Null when set, else what the server answered.
 */
export async function setProperty(
  http: DavHttp,
  href: string,
  property: WantedProperty,
): Promise<string | null> {
  const request = xmlRequest(
    'PROPPATCH',
    href,
    el(D('propertyupdate'), [el(D('set'), [el(D('prop'), [property.node])])]),
  );
  const response = await http.send(request);
  if (response.status === 200 || response.status === 204) return null;
  if (response.status !== 207)
    return `PROPPATCH answered ${response.status} ${response.statusText}`;
  const status = propertyStatuses(response.body.toString('utf8')).get(property.name);
  if (status === undefined) return 'PROPPATCH answered 207 without a status for it';
  return status >= 200 && status < 300 ? null : `PROPPATCH answered ${statusLine(status)}`;
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  412: 'Precondition Failed',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  423: 'Locked',
  424: 'Failed Dependency',
  507: 'Insufficient Storage',
};

/** "409 Conflict": a per-property status carries no reason phrase of its own here. */
export function statusLine(status: number): string {
  const reason = REASONS[status];
  return reason === undefined ? String(status) : `${status} ${reason}`;
}
