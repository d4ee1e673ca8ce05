// Discovery against a scripted server: an administrator reading many accounts through a
// configured principal path asks /.well-known once, not once per account.
import { afterEach, expect, it } from 'vitest';
import { discoverAccount } from './account-discovery.js';
import { multistatus, startFakeDav, type FakeDavServer } from './fake-dav-server.test-helper.js';
import { DavHttp } from './http-client.js';

let server: FakeDavServer | undefined;
let http: DavHttp | undefined;

afterEach(async () => {
  await http?.close();
  await server?.close();
});

const homes = (principal: string): string =>
  multistatus(
    `<ns1:response><ns1:href>${principal}</ns1:href><ns1:propstat><ns1:prop>` +
      `<C:calendar-home-set xmlns:C="urn:ietf:params:xml:ns:caldav"><ns1:href>${principal}</ns1:href></C:calendar-home-set>` +
      '</ns1:prop><ns1:status>HTTP/1.1 200 OK</ns1:status></ns1:propstat></ns1:response>',
  );

it('finds the context root once for every account an administrator reads', async () => {
  server = await startFakeDav(({ path }) => {
    if (path.startsWith('/.well-known/')) return { status: 301, headers: { location: '/dav/' } };
    if (path === '/dav/')
      return {
        status: 207,
        body: multistatus(
          '<ns1:response><ns1:href>/dav/</ns1:href><ns1:propstat><ns1:prop>' +
            '<ns1:current-user-principal><ns1:href>/dav/admin/</ns1:href></ns1:current-user-principal>' +
            '</ns1:prop><ns1:status>HTTP/1.1 200 OK</ns1:status></ns1:propstat></ns1:response>',
        ),
      };
    return { status: 207, body: homes(path) };
  });
  http = await DavHttp.open({ url: server.url, credentials: { user: 'admin', password: 'p' } });
  const found = [];
  for (const account of ['alice', 'bob', 'carol'])
    found.push(await discoverAccount(http, account, '{account}/'));
  expect(found.map((homes) => homes.calendarHome)).toEqual([
    '/dav/alice/',
    '/dav/bob/',
    '/dav/carol/',
  ]);
  expect(server.seen.filter((request) => request.path.startsWith('/.well-known/'))).toHaveLength(1);
  // Without a principal path each account's own login finds its own principal: asked each time.
  const before = server.seen.length;
  await discoverAccount(http, 'alice', undefined);
  expect(server.seen.slice(before).some((r) => r.path.startsWith('/.well-known/'))).toBe(true);
});

it('names the setting that fixes a server that gives no principal for the login', async () => {
  server = await startFakeDav(({ path }) => {
    if (path.startsWith('/.well-known/')) return { status: 301, headers: { location: '/dav/' } };
    return {
      status: 207,
      body: multistatus(
        '<ns1:response><ns1:href>/dav/</ns1:href><ns1:propstat><ns1:prop>' +
          '<ns1:current-user-principal/></ns1:prop>' +
          '<ns1:status>HTTP/1.1 404 Not Found</ns1:status></ns1:propstat></ns1:response>',
      ),
    };
  });
  http = await DavHttp.open({ url: server.url, credentials: { user: 'admin', password: 'p' } });
  await expect(discoverAccount(http, 'alice', undefined)).rejects.toThrow(/dav\.principalPath/);
});
