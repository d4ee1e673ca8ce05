import { describe, expect, it } from 'vitest';
import {
  foundProp,
  parseErrorBody,
  parseMultistatus,
  parseStatusLine,
  propertyStatuses,
  propHrefs,
  propText,
} from './multistatus.js';

function only<T>(items: T[]): T {
  expect(items).toHaveLength(1);
  return items[0] as T;
}

describe('parseMultistatus', () => {
  it('groups properties by status: found ones apart from 404 ones', () => {
    const body = `<?xml version="1.0"?>
<multistatus xmlns="DAV:" xmlns:CS="http://calendarserver.org/ns/">
  <response>
    <href>/alice/calendar/</href>
    <propstat>
      <prop><displayname>Work</displayname><CS:getctag>"7"</CS:getctag></prop>
      <status>HTTP/1.1 200 OK</status>
    </propstat>
    <propstat>
      <prop><getetag/><calendar-color xmlns="http://apple.com/ns/ical/"/></prop>
      <status>HTTP/1.1 404 Not Found</status>
    </propstat>
  </response>
</multistatus>`;
    const response = only(parseMultistatus(body).responses);
    expect(response.href).toBe('/alice/calendar/');
    expect(response.status).toBeNull();
    expect(propText(response, '{DAV:}displayname')).toBe('Work');
    expect(propText(response, '{http://calendarserver.org/ns/}getctag')).toBe('"7"');
    // Present in the answer, but under 404: not found.
    expect(foundProp(response, '{DAV:}getetag')).toBeUndefined();
    expect(foundProp(response, '{http://apple.com/ns/ical/}calendar-color')).toBeUndefined();
  });

  it('reads a sync-collection answer: changed members, removed members (404), the new token', () => {
    const body = `<d:multistatus xmlns:d="DAV:">
  <d:response><d:href>/alice/cal/new.ics</d:href>
    <d:propstat><d:prop><d:getetag>"e1"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>
  </d:response>
  <d:response><d:href>/alice/cal/gone.ics</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>
  <d:sync-token>http://radicale.org/ns/sync/abc</d:sync-token>
</d:multistatus>`;
    const { responses, syncToken } = parseMultistatus(body);
    expect(syncToken).toBe('http://radicale.org/ns/sync/abc');
    expect(responses.map((r) => [r.href, r.status, propText(r, '{DAV:}getetag')])).toEqual([
      ['/alice/cal/new.ics', null, '"e1"'],
      ['/alice/cal/gone.ics', 404, null],
    ]);
  });

  it('expands a status response naming several resources, and reads a truncation marker', () => {
    const body = `<multistatus xmlns="DAV:">
  <response><href>/c/a.ics</href><href>/c/b.ics</href><status>HTTP/1.1 404 Not Found</status></response>
  <response><href>/c/</href><status>HTTP/1.1 507 Insufficient Storage</status>
    <error><number-of-matches-within-limits/></error></response>
  <sync-token>t2</sync-token>
</multistatus>`;
    const { responses } = parseMultistatus(body);
    expect(responses.map((r) => [r.href, r.status])).toEqual([
      ['/c/a.ics', 404],
      ['/c/b.ics', 404],
      ['/c/', 507],
    ]);
    expect(responses[2]?.errors).toEqual(['{DAV:}number-of-matches-within-limits']);
  });

  it('reads hrefs inside a property (home sets)', () => {
    const body = `<D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:response>
<D:href>/p/alice/</D:href><D:propstat><D:prop>
<C:calendar-home-set><D:href> /cal/alice/ </D:href></C:calendar-home-set>
</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`;
    const response = only(parseMultistatus(body).responses);
    expect(propHrefs(response, '{urn:ietf:params:xml:ns:caldav}calendar-home-set')).toEqual([
      '/cal/alice/',
    ]);
  });

  it('refuses a document that is not a multistatus', () => {
    expect(() => parseMultistatus('<D:error xmlns:D="DAV:"/>')).toThrow(/multistatus/);
  });
});

describe('status lines and error bodies', () => {
  it('reads the code of a status line', () => {
    expect(parseStatusLine('HTTP/1.1 404 Not Found')).toBe(404);
    expect(parseStatusLine(' HTTP/2 200 ')).toBe(200);
    expect(parseStatusLine('garbage')).toBe(0);
  });

  it('names the preconditions of a DAV:error body, whatever its prefix', () => {
    expect(parseErrorBody('<error xmlns="DAV:"><valid-sync-token/></error>')).toEqual([
      '{DAV:}valid-sync-token',
    ]);
    expect(
      parseErrorBody(
        '<D:error xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><C:no-uid-conflict/></D:error>',
      ),
    ).toEqual(['{urn:ietf:params:xml:ns:caldav}no-uid-conflict']);
    expect(parseErrorBody('Bad Request')).toEqual([]);
  });
});

describe('propertyStatuses', () => {
  it('reads the status of each property from a PROPPATCH multistatus or a creation answer of any root', () => {
    const creation = `<ns0:mkcalendar-response xmlns:ns0="urn:ietf:params:xml:ns:carldav:" xmlns:ns1="DAV:"
      xmlns:ns3="http://apple.com/ns/ical/"><ns1:propstat><ns1:status>HTTP/1.1 200 OK</ns1:status>
      <ns1:prop><ns1:displayname/></ns1:prop></ns1:propstat><ns1:propstat>
      <ns1:status>HTTP/1.1 404 Not Found</ns1:status><ns1:prop><ns3:calendar-color/></ns1:prop>
      </ns1:propstat></ns0:mkcalendar-response>`;
    expect(propertyStatuses(creation)).toEqual(
      new Map([
        ['{DAV:}displayname', 200],
        ['{http://apple.com/ns/ical/}calendar-color', 404],
      ]),
    );
    const patch = `<D:multistatus xmlns:D="DAV:"><D:response><D:href>/c/</D:href><D:propstat>
      <D:prop><D:displayname/></D:prop><D:status>HTTP/1.1 409 Conflict</D:status></D:propstat>
      </D:response></D:multistatus>`;
    expect(propertyStatuses(patch)).toEqual(new Map([['{DAV:}displayname', 409]]));
    expect(propertyStatuses('')).toEqual(new Map());
    expect(propertyStatuses('Created')).toEqual(new Map());
    expect(propertyStatuses('<broken')).toEqual(new Map());
  });
});
