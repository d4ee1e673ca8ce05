// Creating collections on servers that take the properties their own way: all at creation,
// some at creation (a 201 naming what it did not store), or none unless the creation leaves out
// the one it does not know (a refusal with a status per property).
import { afterEach, describe, expect, it } from 'vitest';
import { DavHttp } from '../../dav/http-client.js';
import {
  multistatus,
  startFakeDav,
  type FakeDavServer,
  type SeenRequest,
} from '../../dav/fake-dav-server.test-helper.js';
import { createCollection, type CollectionSpec } from './collection-creation.js';

const spec: CollectionSpec = {
  kind: 'calendar',
  name: 'work',
  displayName: 'Work',
  color: '#ff0000ff',
  description: null,
  components: ['VEVENT'],
  timezone: null,
};

let server: FakeDavServer | null = null;
let http: DavHttp | null = null;

afterEach(async () => {
  await http?.close();
  await server?.close();
});

async function start(answer: (request: SeenRequest) => { status: number; body?: string }) {
  server = await startFakeDav(answer);
  http = await DavHttp.open({
    url: server.url,
    credentials: { user: 'u', password: 'p' },
    retries: 0,
  });
  return http;
}

const C = 'urn:ietf:params:xml:ns:caldav';
const A = 'http://apple.com/ns/ical/';

/** A propstat naming `props` (prefixed elements, e.g. "ns2:calendar-color") under `status`. */
function propstat(status: string, props: string): string {
  return `<ns1:propstat><ns1:status>HTTP/1.1 ${status}</ns1:status><ns1:prop>${props}</ns1:prop></ns1:propstat>`;
}
const declarations = `xmlns:ns1="DAV:" xmlns:ns2="${C}" xmlns:ns3="${A}"`;

/** A PROPFIND answer holding `props` for the collection. */
function held(props: string): { status: number; body: string } {
  return {
    status: 207,
    body: multistatus(
      `<ns1:response ${declarations}><ns1:href>/work/</ns1:href>${propstat('200 OK', props)}</ns1:response>`,
    ),
  };
}

/** A PROPPATCH answer giving the one property in `body` the status `status`. */
function patched(body: string, status: string): { status: number; body: string } {
  const name =
    /<A:(calendar-[a-z]+)|<C:(calendar-[a-z-]+|supported-calendar-component-set)|<D:(displayname)/.exec(
      body,
    );
  const element =
    name?.[1] !== undefined
      ? `ns3:${name[1]}`
      : name?.[2] !== undefined
        ? `ns2:${name[2]}`
        : 'ns1:displayname';
  return {
    status: 207,
    body: multistatus(
      `<ns1:response ${declarations}><ns1:href>/work/</ns1:href>${propstat(status, `<${element}/>`)}</ns1:response>`,
    ),
  };
}

const full: CollectionSpec = {
  ...spec,
  description: 'Office hours',
  order: '3',
};

describe('createCollection', () => {
  it('sets by PROPPATCH what a 201 says it did not store, and names what the server still refuses or drops', async () => {
    // Xandikos: 201 Created, each property with its own status in the body; later a colour is
    // kept, an order answered 200 and dropped, a description and a component set refused.
    let colorKept = false;
    const dav = await start(({ method, body }) => {
      if (method === 'MKCALENDAR')
        return {
          status: 201,
          body: `<ns0:mkcalendar-response xmlns:ns0="urn:ietf:params:xml:ns:carldav:" ${declarations}>${propstat(
            '200 OK',
            '<ns1:displayname/>',
          )}${propstat(
            '404 Not Found',
            '<ns2:calendar-description/><ns3:calendar-color/><ns3:calendar-order/><ns2:supported-calendar-component-set/>',
          )}</ns0:mkcalendar-response>`,
        };
      if (method === 'PROPFIND')
        return held(
          '<ns2:supported-calendar-component-set><ns2:comp name="VEVENT"/><ns2:comp name="VTODO"/></ns2:supported-calendar-component-set>' +
            (colorKept ? '<ns3:calendar-color>#FF0000FF</ns3:calendar-color>' : ''),
        );
      if (body.includes('calendar-color')) colorKept = true;
      return patched(
        body,
        /calendar-description|supported-calendar/.test(body) ? '409 Conflict' : '200 OK',
      );
    });
    expect(await createCollection(dav, '/work/', full)).toEqual({
      created: true,
      propertiesNotSet: [
        {
          property: `{${C}}calendar-description`,
          reason: 'refused at creation (404 Not Found), then PROPPATCH answered 409 Conflict',
        },
        {
          property: `{${C}}supported-calendar-component-set`,
          reason: 'refused at creation (404 Not Found), then PROPPATCH answered 409 Conflict',
        },
        {
          property: `{${A}}calendar-order`,
          reason: 'PROPPATCH answered that it was set, but the server does not keep it',
        },
      ],
    });
    const patches = server?.seen.filter((request) => request.method === 'PROPPATCH') ?? [];
    expect(patches.map((request) => /<(?:A|C):([a-z-]+)>/.exec(request.body)?.[1] ?? '')).toEqual([
      'calendar-description',
      'calendar-color',
      'calendar-order',
      'supported-calendar-component-set',
    ]);
    expect(patches[1]?.body).toContain('<A:calendar-color>#ff0000ff</A:calendar-color>');
  });

  it('recreates with the properties a refused creation did not blame, then sets the one it did', async () => {
    // A creation refused whole for one property it does not know: 403, that one 403, the rest 424.
    const dav = await start(({ method, body }) => {
      if (method === 'MKCALENDAR') {
        if (body.includes('calendar-order'))
          return {
            status: 403,
            body: multistatus(
              `<ns1:response ${declarations}><ns1:href>/work/</ns1:href>${propstat(
                '403 Forbidden',
                '<ns3:calendar-order/>',
              )}${propstat(
                '424 Failed Dependency',
                '<ns1:displayname/><ns2:calendar-description/><ns3:calendar-color/><ns2:supported-calendar-component-set/>',
              )}</ns1:response>`,
            ),
          };
        return { status: 201 };
      }
      if (
        method === 'PROPFIND' &&
        server?.seen.filter((r) => r.method === 'MKCALENDAR').length === 1
      )
        return { status: 404 };
      if (method === 'PROPFIND')
        return held(
          '<ns1:displayname>Work</ns1:displayname><ns2:calendar-description>Office hours</ns2:calendar-description>' +
            '<ns3:calendar-color>#FF0000</ns3:calendar-color>' +
            '<ns2:supported-calendar-component-set><ns2:comp name="VEVENT"/></ns2:supported-calendar-component-set>',
        );
      return patched(body, '403 Forbidden');
    });
    expect(await createCollection(dav, '/work/', full)).toEqual({
      created: true,
      propertiesNotSet: [
        {
          property: `{${A}}calendar-order`,
          reason: 'refused at creation (403 Forbidden), then PROPPATCH answered 403 Forbidden',
        },
      ],
    });
    const methods = server?.seen.map((request) => request.method);
    expect(methods).toEqual(['MKCALENDAR', 'PROPFIND', 'MKCALENDAR', 'PROPFIND', 'PROPPATCH']);
    // The component set, which most servers take only at creation, went with the second one.
    const second = server?.seen[2]?.body ?? '';
    expect(second).toContain('<C:comp name="VEVENT"/>');
    expect(second).toContain('<A:calendar-color>#ff0000ff</A:calendar-color>');
    expect(second).not.toContain('calendar-order');
  });

  it('asks what a plain 201 stored, and sends nothing more when the server holds it all', async () => {
    const dav = await start(({ method }) => {
      if (method === 'MKCALENDAR') return { status: 201 };
      return held(
        '<ns1:displayname>Work</ns1:displayname><ns3:calendar-color>#FF0000FF</ns3:calendar-color>' +
          '<ns2:supported-calendar-component-set><ns2:comp name="vevent"/></ns2:supported-calendar-component-set>',
      );
    });
    expect(await createCollection(dav, '/work/', spec)).toEqual({
      created: true,
      propertiesNotSet: [],
    });
    expect(server?.seen.map((request) => request.method)).toEqual(['MKCALENDAR', 'PROPFIND']);
  });

  it('creates bare and sets the properties one by one when the server refuses them at creation without saying which', async () => {
    const dav = await start(({ method, body }) => {
      if (method === 'MKCALENDAR') return { status: body.includes('displayname') ? 403 : 201 };
      if (method === 'PROPFIND') return { status: 404 };
      return patched(
        body,
        body.includes('supported-calendar-component-set') ? '403 Forbidden' : '200 OK',
      );
    });
    expect(await createCollection(dav, '/work/', spec)).toEqual({
      created: true,
      propertiesNotSet: [
        {
          property: '{urn:ietf:params:xml:ns:caldav}supported-calendar-component-set',
          reason: 'PROPPATCH answered 403 Forbidden',
        },
      ],
    });
    expect(server?.seen.map((request) => request.method)).toEqual([
      'MKCALENDAR',
      'PROPFIND',
      'MKCALENDAR',
      'PROPFIND',
      'PROPPATCH',
      'PROPPATCH',
      'PROPPATCH',
      // Whether what was answered 200 is kept: the server will not say, so nothing is concluded.
      'PROPFIND',
    ]);
  });

  it('reports a collection already there as not created', async () => {
    const dav = await start(({ method }) =>
      method === 'MKCALENDAR'
        ? { status: 405 }
        : {
            status: 207,
            body: '<multistatus xmlns="DAV:"><response><href>/work/</href><status>HTTP/1.1 200 OK</status></response></multistatus>',
          },
    );
    expect(await createCollection(dav, '/work/', spec)).toEqual({
      created: false,
      propertiesNotSet: [],
    });
  });

  it('says what the server answered when it cannot create at all', async () => {
    const dav = await start(({ method }) => ({ status: method === 'PROPFIND' ? 404 : 507 }));
    await expect(createCollection(dav, '/work/', spec)).rejects.toThrow(
      `DAV server ${server?.url}: MKCALENDAR /work/: 507 Insufficient Storage (then without properties: 507 Insufficient Storage)`,
    );
  });
});
