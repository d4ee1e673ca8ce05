// Calendar and address book properties through backup and restore, on two DAV servers that take
// them differently: Radicale stores every property given with MKCALENDAR/MKCOL; Xandikos answers
// 201 having stored none of them, takes a colour, an order and a name only by PROPPATCH, and
// refuses a calendar's description, time zone and component set. Each collection is set up the
// way a client would, backed up with the account, wiped, restored with `restore account --only
// calendars,contacts`, and read back from the server: every property the server can hold is
// back, and every one it cannot is named in the report (exit 3).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { haveRadicale, startRadicale, type RadicaleServer } from '../support/radicale.js';
import { createWorkspace, shown, type Workspace } from '../support/workspace.js';
import { haveXandikos, startXandikos, type XandikosServer } from '../support/xandikos.js';

const C = 'urn:ietf:params:xml:ns:caldav';
const CR = 'urn:ietf:params:xml:ns:carddav';
const NAMESPACES = `xmlns:D="DAV:" xmlns:C="${C}" xmlns:CR="${CR}" xmlns:A="http://apple.com/ns/ical/" xmlns:I="http://inf-it.com/ns/ab/"`;

/** The properties compared, as PROPFIND asks for them. */
const PROPS = [
  'D:displayname',
  'A:calendar-color',
  'A:calendar-order',
  'C:calendar-description',
  'C:calendar-timezone',
  'C:supported-calendar-component-set',
  'CR:addressbook-description',
  'I:addressbook-color',
];

const TIMEZONE =
  'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\n' +
  'BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n' +
  'END:STANDARD\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n';

function event(uid: string, summary: string): string {
  return (
    'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n' +
    `UID:${uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260110T100000Z\r\nSUMMARY:${summary}\r\n` +
    'END:VEVENT\r\nEND:VCALENDAR\r\n'
  );
}

function card(uid: string, name: string): string {
  return `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:${name}\r\nN:${name};;;;\r\nEND:VCARD\r\n`;
}

const EVENTS = {
  'meeting.ics': event('meeting-1', 'Meeting'),
  'lunch.ics': event('lunch-2', 'Lunch'),
};
const CARDS = { 'ann.vcf': card('ann-1', 'Ann'), 'bob.vcf': card('bob-2', 'Bob') };

/** An item as its content lines, unfolded and sorted, without what a server stamps itself. */
const semantic = (text: string | undefined): string[] =>
  (text ?? '')
    .replace(/\r\n[ \t]/g, '')
    .split(/\r\n|\n/)
    .filter((line) => line !== '' && !/^(DTSTAMP|PRODID)[:;]/i.test(line))
    .sort();

interface RestoreJson {
  folders: Array<{
    folder: string;
    created: boolean;
    restored: number;
    alreadyPresent: number;
    failed: number;
  }>;
  failures: Array<{ folder: string; item?: string; reason: string }>;
  totals: { restored: number; alreadyPresent: number; failed: number };
}

/** A DAV client for the test's own set-up and checks, independent of the code under test. */
function davClient(url: string, user: string, password: string) {
  const auth = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const send = async (
    method: string,
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ) => {
    const response = await fetch(new URL(path, url), {
      method,
      body,
      headers: {
        authorization: auth,
        // Xandikos reads a body it is told is XML, even an empty one.
        ...(body === undefined ? {} : { 'content-type': 'application/xml; charset=utf-8' }),
        ...headers,
      },
    });
    return { status: response.status, text: await response.text() };
  };
  const ok = async (
    method: string,
    path: string,
    body?: string,
    headers?: Record<string, string>,
  ) => {
    const answer = await send(method, path, body, headers);
    expect(answer.status, `${method} ${path}: ${answer.text}`).toBeLessThan(300);
    return answer.text;
  };
  return {
    send,
    ok,
    async proppatch(path: string, props: string): Promise<void> {
      const text = await ok(
        'PROPPATCH',
        path,
        `<D:propertyupdate ${NAMESPACES}><D:set><D:prop>${props}</D:prop></D:set></D:propertyupdate>`,
      );
      expect(text, path).not.toMatch(/HTTP\/1\.1 [45]\d\d/);
    },
    /** Local name → the value the server holds (the component set as its sorted names). */
    async properties(path: string): Promise<Record<string, string>> {
      const text = await ok(
        'PROPFIND',
        path,
        `<D:propfind ${NAMESPACES}><D:prop>${PROPS.map((p) => `<${p}/>`).join('')}</D:prop></D:propfind>`,
        { depth: '0' },
      );
      const found: Record<string, string> = {};
      for (const propstat of text.split(/<(?:\w+:)?propstat>/).slice(1)) {
        if (!/HTTP\/1\.1 2\d\d/.test(propstat)) continue;
        for (const local of PROPS.map((p) => p.split(':')[1] ?? '')) {
          const match = new RegExp(
            `<(?:\\w+:)?${local}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:\\w+:)?${local}>`,
          ).exec(propstat);
          if (!match) continue;
          const value =
            local === 'supported-calendar-component-set'
              ? [...(match[1] ?? '').matchAll(/name="([^"]+)"/g)]
                  .map((m) => m[1])
                  .sort()
                  .join(',')
              : (match[1] ?? '')
                  .replace(/&#13;|&#xD;/gi, '\r')
                  .replace(/&amp;/g, '&')
                  .replace(/&lt;/g, '<');
          if (value.trim() !== '') found[local] = value;
        }
      }
      return found;
    },
    /** Item name → body, for every item of a collection. */
    async items(path: string): Promise<Map<string, string>> {
      const text = await ok(
        'PROPFIND',
        path,
        `<D:propfind ${NAMESPACES}><D:prop><D:getetag/></D:prop></D:propfind>`,
        {
          depth: '1',
        },
      );
      const names = [...text.matchAll(/<(?:\w+:)?href>([^<]+)<\/(?:\w+:)?href>/g)]
        .map((m) => decodeURIComponent(m[1] ?? '').replace(/^https?:\/\/[^/]+/, ''))
        .filter((href) => href.startsWith(path) && href !== path)
        .map((href) => href.slice(path.length));
      const items = new Map<string, string>();
      for (const name of names)
        items.set(name, await ok('GET', `${path}${encodeURIComponent(name)}`));
      return items;
    },
  };
}
type DavClient = ReturnType<typeof davClient>;

/** Items by UID, as content lines. */
function byUid(items: Map<string, string>): Map<string, string[]> {
  return new Map(
    [...items.values()].map((text) => [
      /^UID:(.*)$/m.exec(text)?.[1]?.trim() ?? '',
      semantic(text),
    ]),
  );
}

describe.skipIf(!haveDovecot || !haveRadicale || !haveXandikos)(
  'calendar and address book properties, restored on Xandikos and Radicale',
  () => {
    let mail: DovecotServer;
    let radicale: RadicaleServer;
    let xandikos: XandikosServer;
    let ws: Workspace;
    let config: string;
    let onRadicale: DavClient;
    let onXandikos: DavClient;

    /** Points the configuration's DAV server at one of the two. */
    async function useDav(which: 'radicale' | 'xandikos'): Promise<void> {
      const line =
        which === 'radicale'
          ? `    dav: { url: "${radicale.url}", auth: { user: ${radicale.admin.user}, passwordFile: ${join(ws.dir, 'dav-admin.pass')} }, principalPath: "{account}/" }`
          : // One user whatever the login: the master-user login finds it (current-user-principal).
            `    dav: { url: "${xandikos.url}" }`;
      await writeFile(ws.config, config.replace(/( {4}imap: [^\n]*\n)/, `$1${line}\n`));
    }

    const restore = (...extra: string[]) =>
      ws.run(['restore', 'account', 'alice', '--only', 'calendars,contacts', ...extra]);

    async function wipe(client: DavClient, collections: string[]): Promise<void> {
      for (const path of collections) {
        const answer = await client.send('DELETE', path);
        expect([204, 200, 404], `DELETE ${path}`).toContain(answer.status);
      }
    }

    beforeAll(async () => {
      [mail, radicale, xandikos] = await Promise.all([
        startDovecot(),
        startRadicale(),
        startXandikos(),
      ]);
      ws = await createWorkspace(mail, { accounts: ['alice'], auth: 'master' });
      config = await readFile(ws.config, 'utf8');
      await writeFile(join(ws.dir, 'dav-admin.pass'), `${radicale.admin.password}\n`);
      onRadicale = davClient(radicale.url, 'alice', radicale.users.get('alice') ?? '');
      onXandikos = davClient(xandikos.url, 'alice', 'unused');
      expect((await ws.run(['init', '--scrypt-cost', '12'])).code).toBe(0);
    }, 120_000);

    afterAll(async () => {
      await ws?.remove();
      await Promise.all([radicale?.stop(), xandikos?.stop(), mail?.stop()]);
    });

    const xCalendar = () => `${xandikos.calendarHome}work/`;
    const xBook = () => `${xandikos.addressbookHome}friends/`;
    let xandikosBefore: { calendar: Record<string, string>; book: Record<string, string> };

    it('Xandikos: a wiped calendar and address book come back with their colour, order, names and description', async () => {
      // As a client sets them up there: created bare, properties by PROPPATCH.
      await onXandikos.ok('MKCALENDAR', xCalendar());
      // (Not calendar-order: Xandikos 0.2.8 answers 200 to it and keeps nothing.)
      await onXandikos.proppatch(
        xCalendar(),
        '<D:displayname>Work – Büro</D:displayname><A:calendar-color>#3a87adff</A:calendar-color>',
      );
      await onXandikos.ok(
        'MKCOL',
        xBook(),
        `<D:mkcol ${NAMESPACES}><D:set><D:prop><D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>`,
      );
      await onXandikos.proppatch(
        xBook(),
        '<D:displayname>Friends</D:displayname><CR:addressbook-description>People I know</CR:addressbook-description><I:addressbook-color>#ff8800ff</I:addressbook-color>',
      );
      for (const [name, text] of Object.entries(EVENTS))
        await onXandikos.ok('PUT', `${xCalendar()}${name}`, text, {
          'content-type': 'text/calendar',
        });
      for (const [name, text] of Object.entries(CARDS))
        await onXandikos.ok('PUT', `${xBook()}${name}`, text, { 'content-type': 'text/vcard' });
      xandikosBefore = {
        calendar: await onXandikos.properties(xCalendar()),
        book: await onXandikos.properties(xBook()),
      };
      expect(xandikosBefore.calendar).toEqual({
        displayname: 'Work – Büro',
        'calendar-color': '#3a87adff',
        'supported-calendar-component-set': 'VEVENT,VFREEBUSY,VJOURNAL,VTODO',
      });
      expect(xandikosBefore.book).toMatchObject({
        displayname: 'Friends',
        'addressbook-description': 'People I know',
        'addressbook-color': '#ff8800ff',
      });
      const items = {
        calendar: await onXandikos.items(xCalendar()),
        book: await onXandikos.items(xBook()),
      };

      await useDav('xandikos');
      const backup = await ws.run(['backup', 'alice']);
      expect(backup.code, shown(backup)).toBe(0);
      await wipe(onXandikos, [xCalendar(), xBook()]);

      const restored = await restore('--json');
      expect(restored.code, shown(restored)).toBe(0);
      const report = restored.json<RestoreJson>();
      expect(report.failures).toEqual([]);
      expect(report.folders.map((f) => [f.folder, f.created, f.restored])).toEqual([
        ['calendar:work', true, 2],
        ['contacts:friends', true, 2],
      ]);
      expect(await onXandikos.properties(xCalendar())).toEqual(xandikosBefore.calendar);
      expect(await onXandikos.properties(xBook())).toEqual(xandikosBefore.book);
      expect(byUid(await onXandikos.items(xCalendar()))).toEqual(byUid(items.calendar));
      expect(byUid(await onXandikos.items(xBook()))).toEqual(byUid(items.book));

      // The next backup starts from sync tokens of the collections that were deleted.
      const next = await ws.run(['backup', 'alice', '--json']);
      expect(next.code, shown(next)).toBe(0);
      const ls = (await ws.run(['ls', 'alice', '--json'])).json<{
        collections: Array<{ name: string; count: number; displayName: string | null }>;
      }>();
      expect(ls.collections.map((c) => [c.name, c.count, c.displayName]).sort()).toEqual([
        ['friends', 2, 'Friends'],
        ['work', 2, 'Work – Büro'],
      ]);
    });

    it('Xandikos: a calendar found already there gets the properties it lacks, and an item there under another name is not added again', async () => {
      await wipe(onXandikos, [xCalendar()]);
      await onXandikos.ok('MKCALENDAR', xCalendar());
      await onXandikos.proppatch(xCalendar(), '<D:displayname>Mine</D:displayname>');
      await onXandikos.ok('PUT', `${xCalendar()}moved.ics`, EVENTS['meeting.ics'], {
        'content-type': 'text/calendar',
      });
      const restored = await restore('--json');
      expect(restored.code, shown(restored)).toBe(0);
      const report = restored.json<RestoreJson>();
      expect(report.failures).toEqual([]);
      expect(report.folders.find((f) => f.folder === 'calendar:work')).toMatchObject({
        created: false,
        restored: 1,
        alreadyPresent: 1,
      });
      // The colour it lacked is back; the name it has stays.
      expect(await onXandikos.properties(xCalendar())).toEqual({
        ...xandikosBefore.calendar,
        displayname: 'Mine',
      });
      expect([...(await onXandikos.items(xCalendar())).keys()].sort()).toEqual([
        'lunch.ics',
        'moved.ics',
      ]);
    });

    const rCalendar = '/alice/work/';
    const rBook = '/alice/friends/';

    it('Radicale: every property, the description, time zone, order and component set included, comes back', async () => {
      await onRadicale.ok(
        'MKCALENDAR',
        rCalendar,
        `<C:mkcalendar ${NAMESPACES}><D:set><D:prop><D:displayname>Work</D:displayname>` +
          '<C:calendar-description>Office &amp; travel</C:calendar-description><A:calendar-color>#00aa00ff</A:calendar-color>' +
          `<A:calendar-order>5</A:calendar-order><C:calendar-timezone>${TIMEZONE.replace(/\r/g, '&#13;')}</C:calendar-timezone>` +
          '<C:supported-calendar-component-set><C:comp name="VEVENT"/><C:comp name="VTODO"/></C:supported-calendar-component-set>' +
          '</D:prop></D:set></C:mkcalendar>',
      );
      await onRadicale.ok(
        'MKCOL',
        rBook,
        `<D:mkcol ${NAMESPACES}><D:set><D:prop><D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>` +
          '<D:displayname>Friends</D:displayname><CR:addressbook-description>People I know</CR:addressbook-description>' +
          '<I:addressbook-color>#ff8800ff</I:addressbook-color></D:prop></D:set></D:mkcol>',
      );
      for (const [name, text] of Object.entries(EVENTS))
        await onRadicale.ok('PUT', `${rCalendar}${name}`, text, {
          'content-type': 'text/calendar',
        });
      for (const [name, text] of Object.entries(CARDS))
        await onRadicale.ok('PUT', `${rBook}${name}`, text, { 'content-type': 'text/vcard' });
      const before = {
        calendar: await onRadicale.properties(rCalendar),
        book: await onRadicale.properties(rBook),
      };
      expect(before.calendar).toEqual({
        displayname: 'Work',
        'calendar-description': 'Office & travel',
        'calendar-color': '#00aa00ff',
        'calendar-order': '5',
        'calendar-timezone': TIMEZONE,
        'supported-calendar-component-set': 'VEVENT,VTODO',
      });
      const items = {
        calendar: await onRadicale.items(rCalendar),
        book: await onRadicale.items(rBook),
      };

      await useDav('radicale');
      const backup = await ws.run(['backup', 'alice']);
      expect(backup.code, shown(backup)).toBe(0);
      await wipe(onRadicale, [rCalendar, rBook]);

      const restored = await restore('--json');
      expect(restored.code, shown(restored)).toBe(0);
      expect(restored.json<RestoreJson>().failures).toEqual([]);
      expect(await onRadicale.properties(rCalendar)).toEqual(before.calendar);
      expect(await onRadicale.properties(rBook)).toEqual(before.book);
      expect(byUid(await onRadicale.items(rCalendar))).toEqual(byUid(items.calendar));
      expect(byUid(await onRadicale.items(rBook))).toEqual(byUid(items.book));
    });

    it('Radicale to Xandikos: what Xandikos refuses is named in the report, exit 3, and everything else is restored', async () => {
      await useDav('xandikos');
      await wipe(onXandikos, [xCalendar(), xBook()]);
      const restored = await restore('--json');
      expect(restored.code, shown(restored)).toBe(3);
      const report = restored.json<RestoreJson>();
      const refused = (reason: string) =>
        expect.stringMatching(new RegExp(`^property ${reason} not restored: .*409 Conflict`));
      expect(report.failures).toEqual([
        { folder: 'calendar:work', reason: refused('calendar-description') },
        { folder: 'calendar:work', reason: refused('calendar-timezone') },
        { folder: 'calendar:work', reason: refused('supported-calendar-component-set') },
        {
          folder: 'calendar:work',
          reason:
            'property calendar-order not restored: PROPPATCH answered that it was set, but the server does not keep it',
        },
      ]);
      expect(report.totals.restored).toBe(4);
      expect(await onXandikos.properties(xCalendar())).toEqual({
        displayname: 'Work',
        'calendar-color': '#00aa00ff',
        'supported-calendar-component-set': 'VEVENT,VFREEBUSY,VJOURNAL,VTODO',
      });
      expect(await onXandikos.properties(xBook())).toEqual({
        displayname: 'Friends',
        'addressbook-description': 'People I know',
        'addressbook-color': '#ff8800ff',
      });

      // Run again, as text: the calendar is there now, what it still lacks is named again.
      const again = await restore();
      expect(again.code, shown(again)).toBe(3);
      expect(again.stdout).toMatch(
        /^FAILED {2}calendar:work: property calendar-description not restored: PROPPATCH answered 409 Conflict$/m,
      );
      expect(again.stdout).toMatch(
        /^FAILED {2}calendar:work: property calendar-timezone not restored: PROPPATCH answered 409 Conflict$/m,
      );
      expect(again.stdout).toMatch(
        /^FAILED {2}calendar:work: property calendar-order not restored: /m,
      );
      expect(again.stdout).not.toMatch(/supported-calendar-component-set|contacts:friends:/);
    });
  },
);
