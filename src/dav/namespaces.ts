// The XML namespaces DAV servers speak, and Clark notation ("{namespace}local") to name an
// element independently of whatever prefix a server chose for it.

export const NS = {
  dav: 'DAV:',
  caldav: 'urn:ietf:params:xml:ns:caldav',
  carddav: 'urn:ietf:params:xml:ns:carddav',
  /** getctag, from Apple's Calendar Server: older than sync-collection, still widely served. */
  calendarServer: 'http://calendarserver.org/ns/',
  /** calendar-color and calendar-order, Apple's extension that every client reads. */
  appleIcal: 'http://apple.com/ns/ical/',
  /** addressbook-color, the InfCloud extension Radicale stores. */
  infIt: 'http://inf-it.com/ns/ab/',
} as const;

/** Prefixes for the bodies we write; servers must not care which ones we use. */
export const PREFERRED_PREFIXES: ReadonlyMap<string, string> = new Map([
  [NS.dav, 'D'],
  [NS.caldav, 'C'],
  [NS.carddav, 'CR'],
  [NS.calendarServer, 'CS'],
  [NS.appleIcal, 'A'],
  [NS.infIt, 'I'],
]);

export function clark(namespace: string, local: string): string {
  return `{${namespace}}${local}`;
}

/** The properties this client reads and writes, by Clark name. */
export const PROP = {
  resourcetype: clark(NS.dav, 'resourcetype'),
  displayname: clark(NS.dav, 'displayname'),
  getetag: clark(NS.dav, 'getetag'),
  getcontenttype: clark(NS.dav, 'getcontenttype'),
  syncToken: clark(NS.dav, 'sync-token'),
  currentUserPrincipal: clark(NS.dav, 'current-user-principal'),
  calendarHomeSet: clark(NS.caldav, 'calendar-home-set'),
  addressbookHomeSet: clark(NS.carddav, 'addressbook-home-set'),
  calendarDescription: clark(NS.caldav, 'calendar-description'),
  calendarTimezone: clark(NS.caldav, 'calendar-timezone'),
  supportedComponents: clark(NS.caldav, 'supported-calendar-component-set'),
  calendarData: clark(NS.caldav, 'calendar-data'),
  addressbookDescription: clark(NS.carddav, 'addressbook-description'),
  addressData: clark(NS.carddav, 'address-data'),
  getctag: clark(NS.calendarServer, 'getctag'),
  calendarColor: clark(NS.appleIcal, 'calendar-color'),
  calendarOrder: clark(NS.appleIcal, 'calendar-order'),
  addressbookColor: clark(NS.infIt, 'addressbook-color'),
} as const;
