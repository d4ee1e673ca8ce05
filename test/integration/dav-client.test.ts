// The DAV reader and writer against a real Radicale: discovery as a user and as an
// administrator, collection properties, incremental changes, item bodies, and writing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DavError,
  openDavAccountReader,
  type CollectionInfo,
  type DavAccountReader,
  type DavServerOptions,
} from '../../src/sources/dav/dav-account-reader.js';
import { openDavAccountWriter } from '../../src/targets/dav/dav-account-writer.js';
import { haveRadicale, startRadicale, type RadicaleServer } from '../support/radicale.js';
import { freePort } from '../support/servers.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

const TIMEZONE =
  'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\n' +
  'BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n' +
  'END:STANDARD\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n';

function event(uid: string, summary: string): Buffer {
  return Buffer.from(
    'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n' +
      `UID:${uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260110T100000Z\r\nSUMMARY:${summary}\r\n` +
      'END:VEVENT\r\nEND:VCALENDAR\r\n',
  );
}

function card(uid: string, name: string): Buffer {
  return Buffer.from(
    `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:${name}\r\nN:${name};;;;\r\nEND:VCARD\r\n`,
  );
}

describe.skipIf(!haveRadicale)('DAV client against Radicale', () => {
  let server: RadicaleServer;
  const opened: { close(): Promise<void> }[] = [];

  const asUser = (user: string, extra: Partial<DavServerOptions> = {}): DavServerOptions => ({
    url: server.url,
    credentials: { user, password: server.users.get(user) ?? '' },
    ...extra,
  });
  const asAdmin = (): DavServerOptions => ({
    url: server.url,
    credentials: server.admin,
    principalPath: '{account}/',
  });
  async function reader(options: DavServerOptions, account: string): Promise<DavAccountReader> {
    const opened_ = await openDavAccountReader(options, account);
    opened.push(opened_);
    return opened_;
  }
  async function writer(options: DavServerOptions, account: string) {
    const opened_ = await openDavAccountWriter(options, account);
    opened.push(opened_);
    return opened_;
  }
  /** What another client would do: overwrite or delete without asking. */
  async function raw(method: string, path: string, body?: Buffer): Promise<Response> {
    const token = Buffer.from(`alice:${server.users.get('alice')}`).toString('base64');
    const response = await fetch(new URL(path, server.url), {
      method,
      body,
      headers: { Authorization: `Basic ${token}`, 'Content-Type': 'text/calendar' },
    });
    await response.arrayBuffer();
    return response;
  }
  async function collection(read: DavAccountReader, href: string): Promise<CollectionInfo> {
    const found = (await read.collections()).find((candidate) => candidate.href === href);
    if (!found) throw new Error(`${href} not listed`);
    return found;
  }

  beforeAll(async () => {
    server = await startRadicale({ users: { alice: 'alicepw', bob: 'bobpw' } });
    const alice = await writer(asUser('alice'), 'alice');
    const work = await alice.ensureCollection({
      kind: 'calendar',
      name: 'work.ics',
      displayName: 'Work & play',
      color: '#3366ffff',
      description: 'Meetings <and> deadlines',
      components: ['VEVENT', 'VTODO'],
      timezone: TIMEZONE,
    });
    await alice.put(work.href, 'one.ics', event('one', 'First'), 'calendar');
    const contacts = await alice.ensureCollection({
      kind: 'addressbook',
      name: 'contacts.vcf',
      displayName: 'Friends',
      color: '#ff0000ff',
      description: 'People I know',
      components: [],
      timezone: null,
    });
    await alice.put(contacts.href, 'ann.vcf', card('ann', 'Ann'), 'addressbook');
  });

  afterAll(async () => {
    for (const closable of opened) await closable.close();
    await server?.stop();
  });

  describe('discovery', () => {
    it('finds the calendars and address books of a user through /.well-known, with their properties', async () => {
      const alice = await reader(asUser('alice'), 'alice');
      const collections = await alice.collections();
      expect(alice.homes).toMatchObject({ root: '/', principal: '/alice/', principalFound: true });
      expect(collections).toEqual([
        {
          href: '/alice/contacts.vcf/',
          kind: 'addressbook',
          displayName: 'Friends',
          color: '#ff0000ff',
          description: 'People I know',
          components: [],
          timezone: null,
          syncToken: expect.stringMatching(/^http:\/\/radicale\.org\/ns\/sync\//),
          ctag: expect.any(String),
        },
        {
          href: '/alice/work.ics/',
          kind: 'calendar',
          displayName: 'Work & play',
          color: '#3366ffff',
          description: 'Meetings <and> deadlines',
          components: ['VEVENT', 'VTODO'],
          timezone: TIMEZONE,
          syncToken: expect.any(String),
          ctag: expect.any(String),
        },
      ]);
      // The well-known PROPFIND and its redirect, the principal, the one home they share.
      expect(alice.requests).toBe(4);
    });

    it('follows a configured /.well-known URL too', async () => {
      const alice = await reader(
        asUser('alice', { url: `${server.url}.well-known/caldav` }),
        'alice',
      );
      expect((await alice.collections()).map((c) => c.href)).toEqual([
        '/alice/contacts.vcf/',
        '/alice/work.ics/',
      ]);
    });

    it('finds any account as the administrator through the principal path', async () => {
      const admin = await reader(asAdmin(), 'alice');
      const collections = await admin.collections();
      expect(collections.map((c) => [c.href, c.displayName])).toEqual([
        ['/alice/contacts.vcf/', 'Friends'],
        ['/alice/work.ics/', 'Work & play'],
      ]);
      expect(admin.homes?.principal).toBe('/alice/');
    });

    it('lists nothing for an account that never used DAV, and says so', async () => {
      const admin = await reader(asAdmin(), 'bob');
      expect(await admin.collections()).toEqual([]);
      expect(admin.homes).toMatchObject({ principal: '/bob/', principalFound: false });
    });

    it('names the server and the user when the password is wrong', async () => {
      const wrong = await reader(
        { ...asUser('alice'), credentials: { user: 'alice', password: 'nope' } },
        'alice',
      );
      const error = await wrong.collections().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DavError);
      expect((error as DavError).kind).toBe('auth');
      expect((error as DavError).message).toBe(
        `DAV server ${server.url}: 401 Unauthorized for user alice`,
      );
    });

    it('says where when nothing listens', async () => {
      const port = await freePort();
      const nowhere = await reader(
        {
          url: `http://127.0.0.1:${port}/dav/`,
          credentials: { user: 'a', password: 'b' },
          retries: 0,
        },
        'a',
      );
      await expect(nowhere.collections()).rejects.toThrow(
        `DAV server http://127.0.0.1:${port}/dav/: PROPFIND /dav/: cannot connect: connection refused`,
      );
    });
  });

  describe('changes', () => {
    let alice: DavAccountReader;
    let sync: CollectionInfo;
    let state: { syncToken: string | null; items: Map<string, string> };

    beforeAll(async () => {
      const write = await writer(asUser('alice'), 'alice');
      const made = await write.ensureCollection({
        kind: 'calendar',
        name: 'sync.ics',
        displayName: null,
        color: null,
        description: null,
        components: [],
        timezone: null,
      });
      await write.put(made.href, 'a.ics', event('a', 'A'), 'calendar');
      await write.put(made.href, 'b.ics', event('b', 'B'), 'calendar');
      alice = await reader(asUser('alice'), 'alice');
      sync = await collection(alice, '/alice/sync.ics/');
    });

    it('lists every item on the first run, with a sync token for the next', async () => {
      // Radicale names a collection without a display name by its path; that is no name.
      expect(sync.displayName).toBeNull();
      const changes = await alice.changes(sync, null);
      expect(changes.how).toBe('initial');
      expect(changes.changed.map((item) => item.href).sort()).toEqual([
        '/alice/sync.ics/a.ics',
        '/alice/sync.ics/b.ics',
      ]);
      expect(changes.removed).toEqual([]);
      expect(changes.syncToken).toBe(sync.syncToken);
      state = {
        syncToken: changes.syncToken,
        items: new Map(changes.changed.map((item) => [item.href, item.etag])),
      };
    });

    it('costs no request when the collection listing shows the stored token, one REPORT otherwise, and never a read of the previous items', async () => {
      let loads = 0;
      const lazy = {
        syncToken: state.syncToken,
        items: async () => {
          loads++;
          return state.items;
        },
      };
      const before = alice.requests;
      const unchanged = await alice.changes(await collection(alice, sync.href), lazy);
      const listed = alice.requests - before;
      expect(unchanged).toMatchObject({
        how: 'sync-collection',
        changed: [],
        removed: [],
        syncToken: state.syncToken,
      });
      // collections(): one PROPFIND of the home (discovery is done once per reader); changes(): none.
      expect(listed).toBe(1);

      const start = alice.requests;
      const asked = await alice.changes({ ...sync, syncToken: null }, lazy);
      expect(asked).toMatchObject({ how: 'sync-collection', changed: [], removed: [] });
      expect(alice.requests - start).toBe(1);
      expect(loads).toBe(0);
    });

    it('reports what was added, modified and deleted since the token (sync-collection)', async () => {
      expect((await raw('PUT', '/alice/sync.ics/a.ics', event('a', 'A moved'))).status).toBe(201);
      expect((await raw('PUT', '/alice/sync.ics/c.ics', event('c', 'C'))).status).toBe(201);
      expect((await raw('DELETE', '/alice/sync.ics/b.ics')).status).toBe(200);
      const current = await collection(alice, sync.href);
      const start = alice.requests;
      const changes = await alice.changes(current, state);
      expect(alice.requests - start).toBe(1);
      expect(changes.how).toBe('sync-collection');
      expect(changes.changed.map((item) => item.href).sort()).toEqual([
        '/alice/sync.ics/a.ics',
        '/alice/sync.ics/c.ics',
      ]);
      expect(changes.changed.find((item) => item.href.endsWith('a.ics'))?.etag).not.toBe(
        state.items.get('/alice/sync.ics/a.ics'),
      );
      expect(changes.removed).toEqual(['/alice/sync.ics/b.ics']);
      expect(changes.syncToken).toBe(current.syncToken);
      expect(changes.syncToken).not.toBe(state.syncToken);
    });

    it('falls back to comparing ETags when the server refuses the token, and says so', async () => {
      const current = await collection(alice, sync.href);
      const start = alice.requests;
      const changes = await alice.changes(current, {
        ...state,
        syncToken: 'http://radicale.org/ns/sync/bogus',
      });
      expect(alice.requests - start).toBe(2);
      expect(changes.how).toBe('etag-comparison');
      expect(changes.note).toMatch(/refused the stored sync token \(403 valid-sync-token\)/);
      expect(changes.changed.map((item) => item.href).sort()).toEqual([
        '/alice/sync.ics/a.ics',
        '/alice/sync.ics/c.ics',
      ]);
      expect(changes.removed).toEqual(['/alice/sync.ics/b.ics']);
      expect(changes.syncToken).toBe(current.syncToken);
    });

    it('compares ETags in one PROPFIND when there is no token at all', async () => {
      const current = await collection(alice, sync.href);
      const start = alice.requests;
      const changes = await alice.changes(current, { syncToken: null, items: state.items });
      expect(alice.requests - start).toBe(1);
      expect(changes.how).toBe('etag-comparison');
      expect(changes.removed).toEqual(['/alice/sync.ics/b.ics']);
    });
  });

  describe('fetch', () => {
    it('returns the bytes the server serves for each item, and an error for one that is gone', async () => {
      const alice = await reader(asUser('alice'), 'alice');
      const work = await collection(alice, '/alice/work.ics/');
      const { changed } = await alice.changes(work, null);
      const wanted = [...changed.map((item) => item.href), '/alice/work.ics/missing.ics'];
      const start = alice.requests;
      const fetched = [];
      for await (const item of alice.fetch(work, wanted)) fetched.push(item);
      // One multiget, which also says which item is not there.
      expect(alice.requests - start).toBe(1);
      const one = fetched[0];
      if (!one || !('bytes' in one)) throw new Error('one.ics was not fetched');
      const served = await raw('GET', one.href);
      expect(served.status).toBe(200);
      const get = await fetch(new URL(one.href, server.url), {
        headers: { Authorization: `Basic ${Buffer.from('alice:alicepw').toString('base64')}` },
      });
      expect(one.bytes.equals(Buffer.from(await get.arrayBuffer()))).toBe(true);
      expect(one.bytes.toString()).toContain('\r\nSUMMARY:First\r\n');
      expect(one.etag).toBe(changed[0]?.etag);
      expect(one.contentType).toMatch(/^text\/calendar/);
      expect(fetched[1]).toEqual({
        href: '/alice/work.ics/missing.ics',
        error: expect.stringMatching(/^404 Not Found/),
      });
    });

    it('survives a connection cut in the middle of an answer (retried)', async () => {
      const port = Number(new URL(server.url).port);
      const proxy = await startTcpProxy(
        { host: '127.0.0.1', port },
        { trigger: /REPORT/, afterBytes: 200, times: 1 },
      );
      try {
        const alice = await reader(
          asUser('alice', { url: `http://127.0.0.1:${proxy.port}/` }),
          'alice',
        );
        const contacts = await collection(alice, '/alice/contacts.vcf/');
        const items = [];
        for await (const item of alice.fetch(contacts, ['/alice/contacts.vcf/ann.vcf']))
          items.push(item);
        expect(items).toHaveLength(1);
        expect(items[0]).toMatchObject({ href: '/alice/contacts.vcf/ann.vcf' });
        expect(items[0] && 'bytes' in items[0] ? items[0].bytes.toString() : '').toContain(
          'FN:Ann',
        );
        expect(proxy.cuts).toBe(1);
      } finally {
        await proxy.close();
      }
    });
  });
});
