import { describe, expect, it } from 'vitest';
import { collectionFromResponse } from './collection-info.js';
import { parseMultistatus } from './multistatus.js';

function listing(
  props: string,
  href = '/dav/alice/work/',
): ReturnType<typeof collectionFromResponse> {
  const body = `<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"
    xmlns:cr="urn:ietf:params:xml:ns:carddav" xmlns:a="http://apple.com/ns/ical/">
    <d:response><d:href>${href}</d:href>
      <d:propstat><d:prop>${props}</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>
    </d:response></d:multistatus>`;
  const [response] = parseMultistatus(body).responses;
  if (!response) throw new Error('no response');
  return collectionFromResponse(response, new URL('http://dav.example/dav/'));
}

describe('collectionFromResponse', () => {
  it('reads a calendar: kind, names, color, components, time zone', () => {
    expect(
      listing(`<d:resourcetype><d:collection/><c:calendar/></d:resourcetype>
        <d:displayname> Work </d:displayname><a:calendar-color>#112233</a:calendar-color>
        <c:supported-calendar-component-set><c:comp name="VEVENT"/><c:comp name="vtodo"/></c:supported-calendar-component-set>
        <c:calendar-timezone>BEGIN:VCALENDAR&#13;\nEND:VCALENDAR&#13;\n</c:calendar-timezone>`),
    ).toEqual({
      href: '/dav/alice/work/',
      kind: 'calendar',
      displayName: ' Work ',
      color: '#112233',
      description: null,
      components: ['VEVENT', 'VTODO'],
      timezone: 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n',
      syncToken: null,
      ctag: null,
    });
  });

  it("keeps Apple's calendar-order only when the server has one", () => {
    const calendar = '<d:resourcetype><d:collection/><c:calendar/></d:resourcetype>';
    expect(listing(`${calendar}<a:calendar-order> 4 </a:calendar-order>`)?.order).toBe('4');
    expect(listing(calendar)).not.toHaveProperty('order');
  });

  it('reads an address book, and nothing that is neither', () => {
    expect(listing('<d:resourcetype><d:collection/><cr:addressbook/></d:resourcetype>')?.kind).toBe(
      'addressbook',
    );
    expect(listing('<d:resourcetype><d:collection/></d:resourcetype>')).toBeNull();
  });

  it("drops the display name Radicale makes up from the collection's path", () => {
    const calendar = '<d:resourcetype><d:collection/><c:calendar/></d:resourcetype>';
    expect(
      listing(`${calendar}<d:displayname>alice/my cal</d:displayname>`, '/alice/my%20cal/')
        ?.displayName,
    ).toBeNull();
    expect(listing(`${calendar}<d:displayname>Home/Work</d:displayname>`)?.displayName).toBe(
      'Home/Work',
    );
    expect(listing(`${calendar}<d:displayname>work</d:displayname>`)?.displayName).toBe('work');
  });
});
