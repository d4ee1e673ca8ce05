// The Xandikos harness: one principal whatever the login, empty homes, and the way it takes
// properties at creation that the DAV tests rely on (a 201 that names what it did not store).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveXandikos, startXandikos, type XandikosServer } from './xandikos.js';

describe.skipIf(!haveXandikos)('startXandikos', () => {
  let server: XandikosServer;

  const send = async (method: string, path: string, body?: string, depth = '0') => {
    const response = await fetch(new URL(path, server.url), {
      method,
      body,
      headers: {
        Authorization: `Basic ${Buffer.from('anyone:anything').toString('base64')}`,
        'Content-Type': 'application/xml',
        Depth: depth,
      },
    });
    return { status: response.status, text: await response.text() };
  };

  beforeAll(async () => {
    server = await startXandikos();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('serves one principal with empty homes, whatever the login', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const principal = await send(
      'PROPFIND',
      '/',
      '<propfind xmlns="DAV:"><prop><current-user-principal/></prop></propfind>',
    );
    expect(principal.status).toBe(207);
    expect(principal.text).toMatch(
      /<(\w+:)?href>\/user\/<\/(\w+:)?href><\/(\w+:)?current-user-principal>/,
    );
    for (const home of [server.calendarHome, server.addressbookHome]) {
      const listing = await send(
        'PROPFIND',
        home,
        '<propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>',
        '1',
      );
      expect(listing.status).toBe(207);
      expect([...listing.text.matchAll(/<(?:\w+:)?href>([^<]*)</g)].map((m) => m[1])).toEqual([
        home,
      ]);
    }
  });

  it('answers 201 to a MKCALENDAR whose properties it did not store, naming them', async () => {
    const created = await send(
      'MKCALENDAR',
      `${server.calendarHome}probe/`,
      '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="http://apple.com/ns/ical/">' +
        '<D:set><D:prop><D:displayname>Probe</D:displayname><A:calendar-color>#ff0000ff</A:calendar-color></D:prop></D:set></C:mkcalendar>',
    );
    expect(created.status).toBe(201);
    expect(created.text).toMatch(
      /404 Not Found<\/(\w+:)?status><(\w+:)?prop><(\w+:)?calendar-color/,
    );
    const patched = await send(
      'PROPPATCH',
      `${server.calendarHome}probe/`,
      '<D:propertyupdate xmlns:D="DAV:" xmlns:A="http://apple.com/ns/ical/"><D:set><D:prop>' +
        '<A:calendar-color>#ff0000ff</A:calendar-color></D:prop></D:set></D:propertyupdate>',
    );
    expect(patched.text).toContain('200 OK');
  });
});
