// The DAV writer against a real Radicale and a real Xandikos: collections created with their
// properties (read back by the reader), items created once and never overwritten, what a
// collection holds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openDavAccountReader,
  type DavServerOptions,
} from '../../src/sources/dav/dav-account-reader.js';
import {
  openDavAccountWriter,
  type CollectionSpec,
  type DavAccountWriter,
} from '../../src/targets/dav/dav-account-writer.js';
import { haveRadicale, startRadicale, type RadicaleServer } from '../support/radicale.js';
import { haveXandikos, startXandikos, type XandikosServer } from '../support/xandikos.js';

function event(uid: string, summary: string): Buffer {
  return Buffer.from(
    'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n' +
      `UID:${uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260110T100000Z\r\nSUMMARY:${summary}\r\n` +
      'END:VEVENT\r\nEND:VCALENDAR\r\n',
  );
}

const TASKS: CollectionSpec = {
  kind: 'calendar',
  name: 'tasks',
  displayName: 'Tâches',
  color: '#00ff00ff',
  description: 'To do',
  components: ['VTODO'],
  timezone:
    'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTIMEZONE\r\nTZID:UTC\r\n' +
    'BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0000\r\n' +
    'END:STANDARD\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n',
};

describe.skipIf(!haveRadicale)('DAV writer against Radicale', () => {
  let server: RadicaleServer;
  const opened: { close(): Promise<void> }[] = [];

  const asUser = (user: string): DavServerOptions => ({
    url: server.url,
    credentials: { user, password: server.users.get(user) ?? '' },
  });
  const asAdmin = (): DavServerOptions => ({
    url: server.url,
    credentials: server.admin,
    principalPath: '{account}/',
  });
  async function writer(options: DavServerOptions, account: string): Promise<DavAccountWriter> {
    const opened_ = await openDavAccountWriter(options, account);
    opened.push(opened_);
    return opened_;
  }
  async function collectionsOf(options: DavServerOptions, account: string) {
    const reader = await openDavAccountReader(options, account);
    opened.push(reader);
    return reader.collections();
  }

  beforeAll(async () => {
    server = await startRadicale({ users: { alice: 'alicepw' } });
  });

  afterAll(async () => {
    for (const closable of opened) await closable.close();
    await server?.stop();
  });

  it('creates a calendar with its properties, once', async () => {
    const alice = await writer(asUser('alice'), 'alice');
    expect(await alice.ensureCollection(TASKS)).toEqual({
      href: '/alice/tasks/',
      name: 'tasks',
      created: true,
      propertiesNotSet: [],
    });
    expect(await alice.ensureCollection(TASKS)).toEqual({
      href: '/alice/tasks/',
      name: 'tasks',
      created: false,
      propertiesNotSet: [],
    });
    const [tasks] = await collectionsOf(asUser('alice'), 'alice');
    expect(tasks).toMatchObject({
      href: '/alice/tasks/',
      kind: 'calendar',
      displayName: 'Tâches',
      color: '#00ff00ff',
      description: 'To do',
      components: ['VTODO'],
      timezone: TASKS.timezone,
    });
  });

  it('creates an address book with its properties, and names with spaces and @', async () => {
    const alice = await writer(asUser('alice'), 'alice');
    const made = await alice.ensureCollection({
      kind: 'addressbook',
      name: 'work people@home',
      displayName: 'Colleagues',
      color: '#123456ff',
      description: 'From the office',
      components: [],
      timezone: null,
    });
    expect(made).toMatchObject({ href: '/alice/work%20people%40home/', created: true });
    const listed = (await collectionsOf(asUser('alice'), 'alice')).find(
      (c) => c.href === made.href,
    );
    expect(listed).toMatchObject({
      kind: 'addressbook',
      displayName: 'Colleagues',
      color: '#123456ff',
      description: 'From the office',
    });
  });

  it('puts an address book named like a calendar beside it, where a later restore finds it again', async () => {
    // SOGo names both an account's first calendar and its first address book "personal";
    // Radicale keeps both kinds in one home, so one name cannot hold both.
    const alice = await writer(asUser('alice'), 'alice');
    const calendar = await alice.ensureCollection({ ...TASKS, name: 'personal' });
    const book: CollectionSpec = {
      kind: 'addressbook',
      name: 'personal',
      displayName: 'Personal',
      color: null,
      description: null,
      components: [],
      timezone: null,
    };
    expect(await alice.ensureCollection(book)).toEqual({
      href: '/alice/personal-contacts/',
      name: 'personal-contacts',
      created: true,
      propertiesNotSet: [],
    });
    expect(await alice.ensureCollection(book)).toMatchObject({
      href: '/alice/personal-contacts/',
      created: false,
    });
    expect(await alice.ensureCollection({ ...TASKS, name: 'personal' })).toMatchObject({
      href: calendar.href,
      created: false,
    });
  });

  it('puts an item once: again at the same name, or under another name with the same UID, it exists', async () => {
    const alice = await writer(asUser('alice'), 'alice');
    const { href } = await alice.ensureCollection({ ...TASKS, name: 'events', components: [] });
    const first = await alice.put(href, 'meeting.ics', event('meeting-1', 'Meeting'), 'calendar');
    expect(first).toEqual({ outcome: 'created', etag: expect.stringMatching(/^".+"$/) });
    expect(await alice.put(href, 'meeting.ics', event('meeting-1', 'Changed'), 'calendar')).toEqual(
      {
        outcome: 'exists',
        by: 'href',
      },
    );
    expect(await alice.put(href, 'copy.ics', event('meeting-1', 'Copy'), 'calendar')).toEqual({
      outcome: 'exists',
      by: 'uid',
    });
    await alice.put(href, 'other.ics', event('other-2', 'Other'), 'calendar');
    const broken = await alice.put(
      href,
      'broken.ics',
      Buffer.from('BEGIN:VCALENDAR\r\n'),
      'calendar',
    );
    expect(broken).toEqual({
      outcome: 'failed',
      error: `DAV server ${server.url}: PUT /alice/events/broken.ics: 400 Bad Request`,
    });

    const items = await alice.items(href);
    expect([...items.keys()].sort()).toEqual([
      '/alice/events/meeting.ics',
      '/alice/events/other.ics',
    ]);
    expect(items.get('/alice/events/meeting.ics')).toBe(
      first.outcome === 'created' ? first.etag : '',
    );
    expect(await alice.uids(href)).toEqual(new Set(['meeting-1', 'other-2']));
  });

  it('learns which UIDs a calendar or an address book holds with one REPORT', async () => {
    const alice = await writer(asUser('alice'), 'alice');
    const calendar = await alice.ensureCollection({ ...TASKS, name: 'uids', components: [] });
    await alice.put(calendar.href, 'event.ics', event('event-1', 'Event'), 'calendar');
    const todoWithAlarm = Buffer.from(
      'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTODO\r\nUID:todo-1\r\n' +
        'DTSTAMP:20260101T000000Z\r\nSUMMARY:Todo\r\nBEGIN:VALARM\r\nUID:alarm-1\r\n' +
        'ACTION:DISPLAY\r\nDESCRIPTION:Todo\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\nEND:VTODO\r\n' +
        'END:VCALENDAR\r\n',
    );
    await alice.put(calendar.href, 'todo.ics', todoWithAlarm, 'calendar');
    const book = await alice.ensureCollection({
      kind: 'addressbook',
      name: 'uids-book',
      displayName: null,
      color: null,
      description: null,
      components: [],
      timezone: null,
    });
    const card = (uid: string, name: string) =>
      Buffer.from(
        `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:${name}\r\nN:${name};;;;\r\nEND:VCARD\r\n`,
      );
    await alice.put(book.href, 'a.vcf', card('card-a', 'A'), 'addressbook');
    await alice.put(book.href, 'b.vcf', card('card-b', 'B'), 'addressbook');

    await alice.collections();
    const start = alice.requests;
    expect(await alice.uids(calendar.href)).toEqual(new Set(['event-1', 'todo-1']));
    expect(await alice.uids(book.href)).toEqual(new Set(['card-a', 'card-b']));
    // Before: a PROPFIND of the members and a multiget per hundred items, for each collection.
    expect(alice.requests - start).toBe(2);
  });

  it('restores as the administrator into an account that never used DAV, creating its principal', async () => {
    const admin = await writer(asAdmin(), 'carol');
    expect(await admin.collections()).toEqual([]);
    const made = await admin.ensureCollection({ ...TASKS, name: 'restored' });
    expect(made).toMatchObject({ href: '/carol/restored/', created: true });
    const todo = Buffer.from(
      'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTODO\r\nUID:t1\r\n' +
        'DTSTAMP:20260101T000000Z\r\nSUMMARY:Todo\r\nEND:VTODO\r\nEND:VCALENDAR\r\n',
    );
    expect(await admin.put(made.href, 'todo.ics', todo, 'calendar')).toMatchObject({
      outcome: 'created',
    });
    const collections = await collectionsOf(asAdmin(), 'carol');
    expect(collections.map((c) => [c.href, c.components])).toEqual([
      ['/carol/restored/', ['VTODO']],
    ]);
  });
});

describe.skipIf(!haveXandikos)('DAV writer against Xandikos', () => {
  let server: XandikosServer;
  let writer: DavAccountWriter;

  beforeAll(async () => {
    server = await startXandikos();
    writer = await openDavAccountWriter(
      { url: server.url, credentials: { user: 'alice', password: 'unused' } },
      'alice',
    );
  });

  afterAll(async () => {
    await writer?.close();
    await server?.stop();
  });

  it('creates a calendar under the home its principal names, with the properties it keeps', async () => {
    const made = await writer.ensureCollection({ ...TASKS, name: 'work', components: [] });
    expect(made).toEqual({
      href: '/user/calendars/work/',
      name: 'work',
      created: true,
      // Xandikos 0.2.8 stores neither a calendar's description nor its time zone.
      propertiesNotSet: [
        {
          property: '{urn:ietf:params:xml:ns:caldav}calendar-description',
          reason: 'refused at creation (404 Not Found), then PROPPATCH answered 409 Conflict',
        },
        {
          property: '{urn:ietf:params:xml:ns:caldav}calendar-timezone',
          reason: 'refused at creation (404 Not Found), then PROPPATCH answered 409 Conflict',
        },
      ],
    });
    const reader = await openDavAccountReader(
      { url: server.url, credentials: { user: 'alice', password: 'unused' } },
      'alice',
    );
    try {
      expect(await reader.collections()).toMatchObject([
        { href: '/user/calendars/work/', displayName: 'Tâches', color: '#00ff00ff' },
      ]);
    } finally {
      await reader.close();
    }
  });

  it('takes an item whose UID is already there under another name as already there, not failed', async () => {
    const href = '/user/calendars/work/';
    expect(
      await writer.put(href, 'meeting.ics', event('meeting-1', 'Meeting'), 'calendar'),
    ).toMatchObject({
      outcome: 'created',
    });
    expect(await writer.put(href, 'meeting.ics', event('meeting-1', 'Again'), 'calendar')).toEqual({
      outcome: 'exists',
      by: 'href',
    });
    expect(await writer.put(href, 'copy.ics', event('meeting-1', 'Copy'), 'calendar')).toEqual({
      outcome: 'exists',
      by: 'uid',
    });
    expect([...(await writer.items(href)).keys()]).toEqual(['/user/calendars/work/meeting.ics']);
  });
});
