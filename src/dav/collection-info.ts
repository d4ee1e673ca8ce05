// Calendars and address books as the server describes them, read from a PROPFIND response.
import { canonicalHref, collectionPath } from './href.js';
import { foundProp, propText, type MultistatusResponse } from './multistatus.js';
import { clark, NS, PROP } from './namespaces.js';
import { childrenNamed } from './xml-tree.js';

export type CollectionKind = 'calendar' | 'addressbook';

export interface CollectionInfo {
  /** Absolute path on the server, e.g. /alice/calendar.ics/ (ends with /). */
  href: string;
  kind: CollectionKind;
  displayName: string | null;
  color: string | null;
  description: string | null;
  /**
   * VEVENT, VTODO, VJOURNAL for calendars, as supported-calendar-component-set says; [] for
   * address books, and for a calendar whose server does not say (any component, RFC 4791 5.2.3).
   */
  components: string[];
  /** calendar-timezone property text (a VCALENDAR with VTIMEZONE), if any. */
  timezone: string | null;
  /**
   * Apple's calendar-order (where a client lists the calendar among the others), present only
   * when the server has one: most collections have none, and a record without it stays as it was.
   */
  order?: string;
  syncToken: string | null;
  ctag: string | null;
}

/** An item of a collection: its href (absolute path) and ETag. */
export interface ItemRef {
  href: string;
  etag: string;
}

export interface FetchedItem {
  href: string;
  etag: string;
  bytes: Buffer;
  contentType: string;
}

/** Everything a collection listing asks for. */
export const COLLECTION_PROPS: readonly string[] = [
  PROP.resourcetype,
  PROP.displayname,
  PROP.calendarColor,
  PROP.addressbookColor,
  PROP.calendarDescription,
  PROP.addressbookDescription,
  PROP.supportedComponents,
  PROP.calendarTimezone,
  PROP.calendarOrder,
  PROP.syncToken,
  PROP.getctag,
];

export function kindOf(response: MultistatusResponse): CollectionKind | null {
  const types = foundProp(response, PROP.resourcetype)?.children.map((type) => type.name) ?? [];
  if (types.includes(clark(NS.caldav, 'calendar'))) return 'calendar';
  if (types.includes(clark(NS.carddav, 'addressbook'))) return 'addressbook';
  return null;
}

/** The collection a PROPFIND response describes, or null when it is not a calendar or address book. */
export function collectionFromResponse(
  response: MultistatusResponse,
  base: URL,
): CollectionInfo | null {
  const kind = kindOf(response);
  if (kind === null) return null;
  const calendar = kind === 'calendar';
  const components = calendar
    ? childrenNamed(foundProp(response, PROP.supportedComponents), clark(NS.caldav, 'comp'))
        .map((comp) => comp.attributes.get('name')?.toUpperCase() ?? '')
        .filter((name) => name !== '')
    : [];
  const href = collectionPath(canonicalHref(response.href, base));
  const order = calendar ? propText(response, PROP.calendarOrder) : null;
  return {
    href,
    kind,
    displayName: ownDisplayName(exactText(response, PROP.displayname), href),
    color: calendar
      ? propText(response, PROP.calendarColor)
      : (propText(response, PROP.addressbookColor) ?? propText(response, PROP.calendarColor)),
    description: exactText(
      response,
      calendar ? PROP.calendarDescription : PROP.addressbookDescription,
    ),
    components,
    timezone: calendar ? exactText(response, PROP.calendarTimezone) : null,
    ...(order !== null ? { order } : {}),
    syncToken: propText(response, PROP.syncToken),
    ctag: propText(response, PROP.getctag),
  };
}

/** A property's text as the server wrote it (names and descriptions keep their spaces); null when absent or blank. */
function exactText(response: MultistatusResponse, name: string): string | null {
  const text = foundProp(response, name)?.text;
  return text !== undefined && text.trim() !== '' ? text : null;
}

/**
 * Radicale answers a collection without a display name with its storage path ("alice/work"):
 * a name nobody gave it, which a restore into another account must not carry along.
 */
function ownDisplayName(name: string | null, href: string): string | null {
  if (name === null || !name.includes('/')) return name;
  let path: string;
  try {
    path = decodeURIComponent(href.replace(/\/$/, ''));
  } catch {
    return name;
  }
  return path.endsWith(`/${name.replace(/^\/+|\/+$/g, '')}`) ? null : name;
}
