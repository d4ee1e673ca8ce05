// Creating collections on a server that will not take the properties with the creation.
import { afterEach, describe, expect, it } from 'vitest';
import { DavHttp } from '../../dav/http-client.js';
import {
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

describe('createCollection', () => {
  it('creates bare and sets the properties one by one when the server refuses them at creation, naming what it would not store', async () => {
    const dav = await start(({ method, body }) => {
      if (method === 'MKCALENDAR') return { status: body.includes('displayname') ? 403 : 201 };
      if (method === 'PROPFIND') return { status: 404 };
      const refused = body.includes('supported-calendar-component-set');
      return {
        status: 207,
        body: `<D:multistatus xmlns:D="DAV:"><D:response><D:href>/work/</D:href><D:propstat><D:prop/>
          <D:status>HTTP/1.1 ${refused ? '403 Forbidden' : '200 OK'}</D:status></D:propstat></D:response></D:multistatus>`,
      };
    });
    expect(await createCollection(dav, '/work/', spec)).toEqual({
      created: true,
      propertiesNotSet: ['{urn:ietf:params:xml:ns:caldav}supported-calendar-component-set'],
    });
    expect(server?.seen.map((request) => request.method)).toEqual([
      'MKCALENDAR',
      'PROPFIND',
      'MKCALENDAR',
      'PROPPATCH',
      'PROPPATCH',
      'PROPPATCH',
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
