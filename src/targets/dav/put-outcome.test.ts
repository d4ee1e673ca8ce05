// What a PUT came to, from the ways servers answer it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DavHttp, type DavHttpResponse } from '../../dav/http-client.js';
import { putOutcome } from './put-outcome.js';

let http: DavHttp;
const request = { method: 'PUT', url: '/cal/b.ics' };

function answer(status: number, body = '', statusText = ''): DavHttpResponse {
  return {
    status,
    statusText,
    url: new URL('http://dav.example/cal/b.ics'),
    headers: new Headers(status < 300 ? { etag: '"e1"' } : {}),
    body: Buffer.from(body),
  };
}

beforeAll(async () => {
  http = await DavHttp.open({
    url: 'http://dav.example/',
    credentials: { user: 'u', password: 'p' },
  });
});
afterAll(async () => {
  await http.close();
});

describe('putOutcome', () => {
  it('takes a UID already in the collection as already there, however the server says it', () => {
    const precondition = (ns: string) =>
      `<D:error xmlns:D="DAV:" xmlns:X="${ns}"><X:no-uid-conflict><D:href>/cal/a.ics</D:href></X:no-uid-conflict></D:error>`;
    expect(
      putOutcome(http, request, answer(409, precondition('urn:ietf:params:xml:ns:caldav'))),
    ).toEqual({
      outcome: 'exists',
      by: 'uid',
    });
    expect(
      putOutcome(http, request, answer(403, precondition('urn:ietf:params:xml:ns:carddav'))),
    ).toEqual({
      outcome: 'exists',
      by: 'uid',
    });
    // Xandikos: a multistatus whose one response carries the 412 and the precondition.
    const xandikos =
      '<ns0:multistatus xmlns:ns0="DAV:" xmlns:ns1="urn:ietf:params:xml:ns:caldav"><ns0:response>' +
      '<ns0:href>http://127.0.0.1:8080/user/calendars/work/b.ics</ns0:href><ns0:status>HTTP/1.1 412 Precondition Failed</ns0:status>' +
      '<ns0:error><ns1:no-uid-conflict /></ns0:error><ns0:responsedescription>UID already in use.</ns0:responsedescription>' +
      '</ns0:response></ns0:multistatus>';
    expect(putOutcome(http, request, answer(207, xandikos))).toEqual({
      outcome: 'exists',
      by: 'uid',
    });
    expect(putOutcome(http, request, answer(412))).toEqual({ outcome: 'exists', by: 'href' });
  });

  it("names a refusal sent as a multistatus with the item's status, precondition and the server's words", () => {
    const refused =
      '<ns0:multistatus xmlns:ns0="DAV:" xmlns:ns1="urn:ietf:params:xml:ns:caldav"><ns0:response>' +
      '<ns0:href>/cal/b.ics</ns0:href><ns0:status>HTTP/1.1 412 Precondition Failed</ns0:status>' +
      '<ns0:error><ns1:valid-calendar-data /></ns0:error><ns0:responsedescription>Not a valid calendar file: no UID</ns0:responsedescription>' +
      '</ns0:response></ns0:multistatus>';
    expect(putOutcome(http, request, answer(207, refused))).toEqual({
      outcome: 'failed',
      error:
        'DAV server http://dav.example/: PUT /cal/b.ics: 412 Precondition Failed (valid-calendar-data; Not a valid calendar file: no UID)',
    });
    expect(putOutcome(http, request, answer(201))).toEqual({ outcome: 'created', etag: '"e1"' });
  });
});
