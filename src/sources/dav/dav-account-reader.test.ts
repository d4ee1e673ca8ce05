// The reader against a scripted server: what Radicale never does (truncated sync results,
// refusing the report, failing multiget, transient errors, redirects to elsewhere).
import { afterEach, describe, expect, it } from 'vitest';
import type { CollectionInfo } from '../../dav/collection-info.js';
import {
  openDavAccountReader,
  type DavAccountReader,
  type PreviousState,
} from './dav-account-reader.js';
import {
  gone,
  member,
  multistatus,
  startFakeDav,
  type Answer,
  type FakeDavServer,
  type SeenRequest,
} from '../../dav/fake-dav-server.test-helper.js';

const calendar: CollectionInfo = {
  href: '/cal/',
  kind: 'calendar',
  displayName: null,
  color: null,
  description: null,
  components: [],
  timezone: null,
  syncToken: null,
  ctag: null,
};

let server: FakeDavServer | null = null;
let reader: DavAccountReader | null = null;

async function open(
  answer: (request: SeenRequest) => Answer | null,
  timeoutMs?: number,
): Promise<DavAccountReader> {
  server = await startFakeDav(answer);
  reader = await openDavAccountReader(
    { url: `${server.url}dav/`, credentials: { user: 'u', password: 'p' }, retries: 1, timeoutMs },
    'u',
  );
  return reader;
}

afterEach(async () => {
  await reader?.close();
  await server?.close();
  reader = null;
  server = null;
});

const known = {
  syncToken: 't0',
  items: new Map([
    ['/cal/a.ics', '"a1"'],
    ['/cal/c.ics', '"c1"'],
    ['/cal/same.ics', '"s1"'],
  ]),
};

describe('changes', () => {
  it('follows a truncated sync-collection answer (507 on the collection) to the end', async () => {
    const dav = await open(({ body }) => {
      if (body.includes('<D:sync-token>t0<')) {
        return {
          status: 207,
          body: multistatus(
            member('/cal/a.ics', '"a2"') + gone('/cal/', '507 Insufficient Storage'),
            't1',
          ),
        };
      }
      return {
        status: 207,
        body: multistatus(
          member('http://elsewhere.example/cal/b.ics', '"b1"') +
            gone('/cal/c.ics') +
            member('/cal/same.ics', '"s1"') +
            member('/cal/', '"collection"'),
          't2',
        ),
      };
    });
    const changes = await dav.changes(calendar, known);
    expect(changes).toEqual({
      how: 'sync-collection',
      changed: [
        { href: '/cal/a.ics', etag: '"a2"' },
        { href: '/cal/b.ics', etag: '"b1"' },
      ],
      removed: ['/cal/c.ics'],
      syncToken: 't2',
      note: null,
    });
    expect(dav.requests).toBe(2);
    expect(server?.seen.map((request) => [request.method, request.headers.depth])).toEqual([
      ['REPORT', '0'],
      ['REPORT', '0'],
    ]);
  });

  it('compares ETags when the token is refused with 409 valid-sync-token, or the report is not offered', async () => {
    for (const refusal of [
      {
        status: 409,
        body: '<error xmlns="DAV:"><valid-sync-token/></error>',
        note: /409 valid-sync-token/,
      },
      { status: 501, body: 'no', note: /does not offer sync-collection here \(501\)/ },
    ]) {
      const dav = await open(({ method }) =>
        method === 'REPORT'
          ? { status: refusal.status, body: refusal.body }
          : {
              status: 207,
              body: multistatus(
                `<ns1:response><ns1:href>/cal/</ns1:href><ns1:propstat><ns1:prop><ns1:sync-token>t9</ns1:sync-token></ns1:prop><ns1:status>HTTP/1.1 200 OK</ns1:status></ns1:propstat></ns1:response>` +
                  member('/cal/a.ics', '"a1"') +
                  member('/cal/same.ics', '"s2"'),
              ),
            },
      );
      const changes = await dav.changes(calendar, known);
      expect(changes).toMatchObject({
        how: 'etag-comparison',
        changed: [{ href: '/cal/same.ics', etag: '"s2"' }],
        removed: ['/cal/c.ics'],
        syncToken: 't9',
      });
      expect(changes.note).toMatch(refusal.note);
      expect(server?.seen.map((request) => request.method)).toEqual(['REPORT', 'PROPFIND']);
      await reader?.close();
      await server?.close();
    }
    server = null;
    reader = null;
  });

  it('retries a 503 and then succeeds', async () => {
    let calls = 0;
    const dav = await open(() =>
      ++calls === 1
        ? { status: 503, headers: { 'Retry-After': '0' } }
        : { status: 207, body: multistatus('', 't1') },
    );
    const changes = await dav.changes(calendar, known);
    expect(changes.removed).toEqual([]);
    expect(dav.requests).toBe(2);
  });

  it('gives up after the retries with a message that says where', async () => {
    const dav = await open(() => ({ status: 500, body: 'boom' }));
    await expect(dav.changes(calendar, known)).rejects.toThrow(
      `DAV server ${server?.url}dav/: REPORT /cal/: 500 Internal Server Error`,
    );
    expect(dav.requests).toBe(2);
  });
});

describe('reading the previous items', () => {
  /** The known items behind a loader that counts its calls, as a backup reading its listing would. */
  function lazily(): { state: PreviousState; loads: () => number } {
    let loads = 0;
    const items = async () => {
      loads++;
      return known.items;
    };
    return { state: { syncToken: 't0', items }, loads: () => loads };
  }

  it('does not read them when the collection shows the stored token', async () => {
    const dav = await open(() => ({ status: 500 }));
    const { state, loads } = lazily();
    const changes = await dav.changes({ ...calendar, syncToken: 't0' }, state);
    expect(changes).toMatchObject({ changed: [], removed: [], syncToken: 't0' });
    expect([loads(), dav.requests]).toEqual([0, 0]);
  });

  it('does not read them when sync-collection reports no item under a new token', async () => {
    const dav = await open(() => ({ status: 207, body: multistatus('', 't1') }));
    const { state, loads } = lazily();
    const changes = await dav.changes(calendar, state);
    expect(changes).toMatchObject({ changed: [], removed: [], syncToken: 't1' });
    expect([loads(), dav.requests]).toEqual([0, 1]);
  });

  it('reads them once when the server reports changes, by sync-collection or by ETags', async () => {
    const sync = await open(() => ({
      status: 207,
      body: multistatus(member('/cal/same.ics', '"s1"') + gone('/cal/c.ics'), 't1'),
    }));
    const synced = lazily();
    expect(await sync.changes(calendar, synced.state)).toMatchObject({
      changed: [],
      removed: ['/cal/c.ics'],
    });
    expect(synced.loads()).toBe(1);
    await reader?.close();
    await server?.close();

    const etags = await open(({ method }) =>
      method === 'REPORT'
        ? { status: 501 }
        : { status: 207, body: multistatus(member('/cal/a.ics', '"a1"')) },
    );
    const compared = lazily();
    expect(await etags.changes(calendar, compared.state)).toMatchObject({
      how: 'etag-comparison',
      changed: [],
      removed: ['/cal/c.ics', '/cal/same.ics'],
    });
    expect(compared.loads()).toBe(1);
  });
});

describe('time limits', () => {
  it('gives up on a silent server after the time limit, once per attempt', async () => {
    const dav = await open(() => null, 200);
    await expect(dav.collections()).rejects.toThrow(
      `DAV server ${server?.url}dav/: PROPFIND /dav/: no answer within 200 ms`,
    );
    expect(dav.requests).toBe(2);
  });
});

describe('fetch', () => {
  it('falls back to GET when multiget is refused, and stops asking for it', async () => {
    const dav = await open(({ method, path }) =>
      method === 'REPORT'
        ? { status: 501 }
        : path === '/cal/gone.ics'
          ? { status: 404 }
          : {
              status: 200,
              headers: { ETag: '"g"', 'Content-Type': 'text/calendar' },
              body: `BODY ${path}\r\n`,
            },
    );
    const first = [];
    for await (const item of dav.fetch(calendar, ['/cal/a.ics', '/cal/gone.ics'])) first.push(item);
    for await (const item of dav.fetch(calendar, ['/cal/b.ics'])) first.push(item);
    expect(first).toEqual([
      {
        href: '/cal/a.ics',
        etag: '"g"',
        bytes: Buffer.from('BODY /cal/a.ics\r\n'),
        contentType: 'text/calendar',
      },
      { href: '/cal/gone.ics', error: '404 Not Found: deleted since it was listed' },
      {
        href: '/cal/b.ics',
        etag: '"g"',
        bytes: Buffer.from('BODY /cal/b.ics\r\n'),
        contentType: 'text/calendar',
      },
    ]);
    expect(server?.seen.map((request) => request.method)).toEqual(['REPORT', 'GET', 'GET', 'GET']);
  });
});

describe('discovery', () => {
  it('keeps the password from a host it was not configured for', async () => {
    const dav = await open(({ path }) => {
      if (path === '/dav/') {
        const port = new URL(server?.url ?? '').port;
        return { status: 301, headers: { Location: `http://localhost:${port}/moved/` } };
      }
      return { status: 401 };
    });
    await expect(dav.collections()).rejects.toThrow(/401 Unauthorized for user u/);
    expect(
      server?.seen.map((request) => [request.path, request.headers.authorization !== undefined]),
    ).toEqual([
      ['/dav/', true],
      ['/moved/', false],
    ]);
  });
});
