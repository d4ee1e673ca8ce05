// The UID lookup against a scripted server: the narrowed query Radicale never honours, and the
// ways a server can refuse or cut short the query.
import { afterEach, describe, expect, it } from 'vitest';
import { DavHttp } from '../../dav/http-client.js';
import {
  member,
  multistatus,
  startFakeDav,
  type Answer,
  type FakeDavServer,
  type SeenRequest,
} from '../../dav/fake-dav-server.test-helper.js';
import { collectionUids, type UidLookupState } from './collection-uids.js';

let server: FakeDavServer | null = null;
let http: DavHttp | null = null;

afterEach(async () => {
  await http?.close();
  await server?.close();
  http = null;
  server = null;
});

async function open(answer: (request: SeenRequest) => Answer | null): Promise<DavHttp> {
  server = await startFakeDav(answer);
  http = await DavHttp.open({ url: server.url, credentials: { user: 'u', password: 'p' } });
  return http;
}

const fresh = (): UidLookupState => ({
  queryRefused: new Set(),
  fetch: { multigetRefused: false },
});

function withData(href: string, data: string, prop = 'C:calendar-data'): string {
  return (
    `<ns1:response><ns1:href>${href}</ns1:href><ns1:propstat><ns1:prop>` +
    `<${prop} xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CR="urn:ietf:params:xml:ns:carddav">${data}</${prop}>` +
    '</ns1:prop><ns1:status>HTTP/1.1 200 OK</ns1:status></ns1:propstat></ns1:response>'
  );
}

const narrowed = (uid: string) =>
  `BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;

const noMembers = async (): Promise<string[]> => {
  throw new Error('the members are not to be listed');
};

describe('collectionUids', () => {
  it('asks one calendar-query for the UIDs alone, and fetches whole what comes without data', async () => {
    const dav = await open(({ method, body }) => {
      if (body.includes('calendar-query')) {
        return {
          status: 207,
          body: multistatus(
            withData('/cal/a.ics', narrowed('uid-a')) +
              withData('/cal/b.ics', narrowed('uid-b')) +
              member('/cal/no-data.ics', '"n"') +
              member('/cal/', '"collection"'),
          ),
        };
      }
      if (method === 'REPORT') {
        return { status: 207, body: multistatus(withData('/cal/no-data.ics', narrowed('uid-n'))) };
      }
      return { status: 500 };
    });
    const uids = await collectionUids(dav, { href: '/cal/', kind: 'calendar' }, fresh(), noMembers);
    expect(uids).toEqual(new Set(['uid-a', 'uid-b', 'uid-n']));
    const [query, multiget] = server?.seen ?? [];
    expect(query?.headers.depth).toBe('1');
    expect(query?.body).toContain(
      '<C:calendar-data><C:comp name="VCALENDAR"><C:comp name="VEVENT"><C:prop name="UID"/></C:comp>',
    );
    expect(query?.body).toContain('<C:filter><C:comp-filter name="VCALENDAR"/></C:filter>');
    expect(multiget?.body).toContain('calendar-multiget');
    expect(multiget?.body).toContain('/cal/no-data.ics');
    expect(server?.seen).toHaveLength(2);
  });

  it('asks an addressbook-query for cards that have a UID', async () => {
    const dav = await open(() => ({
      status: 207,
      body: multistatus(
        withData('/book/a.vcf', 'BEGIN:VCARD\r\nUID:card-a\r\nEND:VCARD\r\n', 'CR:address-data'),
      ),
    }));
    const uids = await collectionUids(
      dav,
      { href: '/book/', kind: 'addressbook' },
      fresh(),
      noMembers,
    );
    expect(uids).toEqual(new Set(['card-a']));
    expect(server?.seen[0]?.body).toContain(
      '<CR:address-data><CR:prop name="UID"/></CR:address-data></D:prop><CR:filter><CR:prop-filter name="UID"/></CR:filter>',
    );
  });

  it('lists and fetches the members when the query is refused, and stops asking for it', async () => {
    const dav = await open(({ body }) =>
      body.includes('calendar-query')
        ? { status: 501 }
        : { status: 207, body: multistatus(withData('/cal/a.ics', narrowed('uid-a'))) },
    );
    const state = fresh();
    const members = async () => ['/cal/a.ics'];
    const calendar = { href: '/cal/', kind: 'calendar' } as const;
    expect(await collectionUids(dav, calendar, state, members)).toEqual(new Set(['uid-a']));
    expect(state.queryRefused).toEqual(new Set(['calendar']));
    expect(await collectionUids(dav, calendar, state, members)).toEqual(new Set(['uid-a']));
    expect(server?.seen.map((request) => request.body.includes('calendar-query'))).toEqual([
      true,
      false,
      false,
    ]);
  });

  it('stops asking for the address book query alone when the server fails it every time (Xandikos: 500)', async () => {
    const dav = await open(({ body }) => {
      if (body.includes('addressbook-query')) return { status: 500 };
      if (body.includes('calendar-query'))
        return { status: 207, body: multistatus(withData('/cal/a.ics', narrowed('uid-a'))) };
      return {
        status: 207,
        body: multistatus(
          withData(
            '/book/b.vcf',
            'BEGIN:VCARD&#13;\nVERSION:3.0&#13;\nUID:uid-b&#13;\nEND:VCARD&#13;\n',
            'CR:address-data',
          ),
        ),
      };
    });
    const state = fresh();
    const book = { href: '/book/', kind: 'addressbook' } as const;
    const members = async () => ['/book/b.vcf'];
    expect(await collectionUids(dav, book, state, members)).toEqual(new Set(['uid-b']));
    expect(state.queryRefused).toEqual(new Set(['addressbook']));
    const queries = () =>
      server?.seen.filter((request) => request.body.includes('addressbook-query')).length;
    const asked = queries();
    expect(await collectionUids(dav, book, state, members)).toEqual(new Set(['uid-b']));
    expect(queries()).toBe(asked);
    // Calendars are still asked the short way.
    const calendar = { href: '/cal/', kind: 'calendar' } as const;
    expect(await collectionUids(dav, calendar, state, async () => [])).toEqual(new Set(['uid-a']));
  });

  it('takes the long way when the server cuts the answer short (507) or garbles it', async () => {
    for (const cut of [
      multistatus(
        withData('/cal/a.ics', narrowed('uid-a')) +
          '<ns1:response><ns1:href>/cal/</ns1:href><ns1:status>HTTP/1.1 507 Insufficient Storage</ns1:status></ns1:response>',
      ),
      `<ns1:multistatus xmlns:ns1="DAV:">${withData('/cal/a.ics', narrowed('uid-a'))}<ns1:response>`,
    ]) {
      const dav = await open(({ body }) =>
        body.includes('calendar-query')
          ? { status: 207, body: cut }
          : { status: 207, body: multistatus(withData('/cal/b.ics', narrowed('uid-b'))) },
      );
      const state = fresh();
      const uids = await collectionUids(
        dav,
        { href: '/cal/', kind: 'calendar' },
        state,
        async () => ['/cal/b.ics'],
      );
      expect(uids).toEqual(new Set(['uid-b']));
      expect(state.queryRefused).toEqual(new Set());
      await http?.close();
      await server?.close();
    }
    http = null;
    server = null;
  });
});
