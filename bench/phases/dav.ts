// 12. Calendars and contacts over CalDAV/CardDAV, against a real Radicale on loopback: a few
// accounts (their IMAP side on the benchmark's Dovecot, with empty mailboxes, as an account that
// only uses its calendar has) each with calendars, a task list and address books, filled with
// generated events, tasks and vCards of realistic sizes (PRNG-seeded). Measured with the real CLI:
//   - the first backup: DAV items/s (whole CLI run, and the run itself as --json reports it);
//   - a no-change run: HTTP requests per collection (`davRequests` of --json), split into the
//     account's discovery and the requests made for each collection;
//   - a run after 1 % of the items changed: requests and seconds.
// vdirsyncer (Debian's) pulls the same collections into a local vdir side by side, where it is
// installed: the tool an administrator would script instead.
//
// The timed runs talk to Radicale directly. The requests are counted on the wire, by a small
// HTTP proxy in this process, in runs of their own (one first backup, one no-change run, one
// more 1 % change, for each client): the breakdown by request, and a check of mailvault's own
// count. Radicale answers HTTP/1.0 and closes the connection after each answer; mailvault's DAV
// client (undici 6) can then die of an uncatchable assertion when a large answer (a multiget of
// 100 items) and the close arrive while its event loop is busy (nodejs/undici#5360, fixed only
// in undici 8, which needs Node 22). vdirsyncer (aiohttp) in turn may reuse a connection that
// Radicale has closed ("Server disconnected"). A run that dies so is reported and run again.
//
// Settings (bench/common.ts): BENCH_DAV_ITEMS (3000 items in all), BENCH_DAV_ACCOUNTS (3),
// BENCH_DAV_BASELINE=0 to leave vdirsyncer out, BENCH_SAMPLES, BENCH_SEED.
import { accessSync, constants } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { RADICALE, startRadicale, type RadicaleServer } from '../../test/support/radicale.js';
import { isExecutable } from '../../test/support/servers.js';
import { fmtSpread, median, progress, rate, settle, spread, type Bench } from '../common.js';
import { person, word } from '../mailgen.js';
import { MailvaultWorkspace, backupFigures, type MailvaultRun } from '../mailvault.js';
import { Prng } from '../prng.js';
import { run, timed, type Timed } from '../proc.js';
import { fmtBytes, fmtCount, fmtMiB, fmtRate, fmtSeconds } from '../report.js';

// The data --------------------------------------------------------------------------------

type Component = 'VEVENT' | 'VTODO' | 'VCARD';

interface CollectionSpec {
  /** The collection's path segment under the account. */
  name: string;
  component: Component;
  displayName: string;
  color: string | null;
  /** Relative share of an account's items. */
  share: number;
  /** Holidays are all-day events; collected addresses are bare vCards (name and address). */
  style: 'timed' | 'all-day' | 'full' | 'bare';
}

/**
 * One account's collections, shaped like a groupware user's: two busy calendars, a small one of
 * all-day events, a task list, an address book and one of addresses collected from mail.
 */
const COLLECTIONS: readonly CollectionSpec[] = [
  {
    name: 'personal',
    component: 'VEVENT',
    displayName: 'Personal',
    color: '#3A87ADFF',
    share: 30,
    style: 'timed',
  },
  {
    name: 'work',
    component: 'VEVENT',
    displayName: 'Work',
    color: '#D06B64FF',
    share: 25,
    style: 'timed',
  },
  {
    name: 'holidays',
    component: 'VEVENT',
    displayName: 'Holidays',
    color: '#7BD148FF',
    share: 3,
    style: 'all-day',
  },
  {
    name: 'tasks',
    component: 'VTODO',
    displayName: 'Tasks',
    color: '#FAD165FF',
    share: 10,
    style: 'timed',
  },
  {
    name: 'contacts',
    component: 'VCARD',
    displayName: 'Contacts',
    color: null,
    share: 27,
    style: 'full',
  },
  {
    name: 'collected',
    component: 'VCARD',
    displayName: 'Collected addresses',
    color: null,
    share: 5,
    style: 'bare',
  },
];

const PASSWORD = 'davpw';

interface PlannedCollection {
  account: string;
  spec: CollectionSpec;
  /** Absolute path on the server, e.g. /dav1/work/ */
  href: string;
}

interface PlannedItem {
  collection: PlannedCollection;
  uid: string;
  /** Absolute path on the server. */
  href: string;
  /** The item's own PRNG seed and stream: the same content every time it is rendered. */
  seed: number;
  stream: number;
  /** Bumped by each change: moves the event, edits the contact. */
  version: number;
}

interface DavPlan {
  accounts: string[];
  collections: PlannedCollection[];
  items: PlannedItem[];
}

/** Streams of the DAV data, apart from the mail generator's (one stream a message). */
const ITEM_STREAMS = 0x0da70000;
const PLAN_STREAM = 0x0da6ffff;
const CHANGE_STREAMS = 0x0da60000;

/** The accounts of the DAV phase: on Dovecot with empty mailboxes, and on Radicale. */
export function davUsers(accounts: number): string[] {
  return Array.from({ length: accounts }, (_, i) => `dav${i + 1}`);
}

/** Items spread over accounts (the first the busiest) and their collections, by share. */
function planDav(accounts: string[], items: number, seed: number): DavPlan {
  const collections = accounts.flatMap((account) =>
    COLLECTIONS.map((spec) => ({ account, spec, href: `/${account}/${spec.name}/` })),
  );
  const weights = collections.map((c) => c.spec.share / (accounts.indexOf(c.account) + 1));
  const rng = new Prng(seed, PLAN_STREAM);
  const planned: PlannedItem[] = [];
  for (let i = 0; i < items; i++) {
    const collection = collections[rng.weighted(weights)] as PlannedCollection;
    const uid = `${rng.hex(8)}-${rng.hex(4)}-${rng.hex(4)}-${rng.hex(4)}-${rng.hex(12)}`;
    const extension = collection.spec.component === 'VCARD' ? 'vcf' : 'ics';
    planned.push({
      collection,
      uid,
      href: `${collection.href}${uid}.${extension}`,
      seed,
      stream: ITEM_STREAMS + i,
      version: 0,
    });
  }
  return { accounts, collections, items: planned };
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const EPOCH = Date.UTC(2024, 0, 1);

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
const day = (d: Date): string =>
  `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
const local = (d: Date): string =>
  `${day(d)}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
const utc = (d: Date): string => `${local(d)}Z`;

/** TEXT value escaping (RFC 5545 3.3.11, RFC 2426 4). */
const escape = (text: string): string => text.replace(/[\\;,]/g, '\\$&').replace(/\n/g, '\\n');

/** Content lines longer than 75 octets folded, as clients write them (the text is ASCII). */
function fold(line: string): string {
  if (line.length <= 75) return line;
  const parts = [line.slice(0, 75)];
  for (let at = 75; at < line.length; at += 74) parts.push(` ${line.slice(at, at + 74)}`);
  return parts.join('\r\n');
}

const render = (lines: string[]): string => `${lines.map(fold).join('\r\n')}\r\n`;

function words(rng: Prng, min: number, max: number): string {
  const n = rng.int(min, max);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(word(rng));
  const text = out.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Sentences of about `size` characters: a description, a note. */
function prose(rng: Prng, size: number): string {
  let text = '';
  while (text.length < size) text += `${words(rng, 4, 16)}${rng.chance(0.3) ? '.\n' : '. '}`;
  return text.trim();
}

/** A base64 line of `size` random bytes: an attached file, a photo (already compressed). */
function binary(rng: Prng, size: number): string {
  return rng.fill(Buffer.alloc(size)).toString('base64');
}

const PARIS = [
  'BEGIN:VTIMEZONE',
  'TZID:Europe/Paris',
  'BEGIN:DAYLIGHT',
  'TZOFFSETFROM:+0100',
  'TZOFFSETTO:+0200',
  'TZNAME:CEST',
  'DTSTART:19700329T020000',
  'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
  'END:DAYLIGHT',
  'BEGIN:STANDARD',
  'TZOFFSETFROM:+0200',
  'TZOFFSETTO:+0100',
  'TZNAME:CET',
  'DTSTART:19701025T030000',
  'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU',
  'END:STANDARD',
  'END:VTIMEZONE',
];

const PARTSTATS = ['ACCEPTED', 'ACCEPTED', 'TENTATIVE', 'NEEDS-ACTION', 'DECLINED'];
const CITIES = ['Paris', 'Lyon', 'Berlin', 'Hamburg', 'Milano', 'Roma', 'Zurich', 'Bruxelles'];

/** A calendar item's component(s), and whether they name the time zone defined once above them. */
interface Components {
  lines: string[];
  zoned: boolean;
}

function calendar({ lines, zoned }: Components): string {
  return render([
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Example Corp//Groupware Calendar 5.2//EN',
    'CALSCALE:GREGORIAN',
    ...(zoned ? PARIS : []),
    ...lines,
    'END:VCALENDAR',
  ]);
}

/**
 * Every random draw is made whatever the version, so a change alters only what the version
 * alters (the time, SEQUENCE, LAST-MODIFIED, the summary), as an edit in a client does.
 */
function eventComponents(item: PlannedItem): Components {
  const rng = new Prng(item.seed, item.stream);
  const allDay = item.collection.spec.style === 'all-day';
  const v = item.version;
  const start = new Date(EPOCH + rng.int(0, 729) * DAY + rng.int(28, 76) * 15 * MINUTE + v * HOUR);
  const end = new Date(start.getTime() + rng.pick([30, 45, 60, 60, 90, 120, 180]) * MINUTE);
  const created = new Date(start.getTime() - rng.int(1, 90) * DAY);
  const modified = new Date(created.getTime() + v * DAY);
  const zoned = !allDay && rng.chance(0.8);
  const lines = [
    'BEGIN:VEVENT',
    `UID:${item.uid}`,
    `DTSTAMP:${utc(modified)}`,
    `CREATED:${utc(created)}`,
    `LAST-MODIFIED:${utc(modified)}`,
    ...eventTimes(start, end, allDay, zoned),
    `SUMMARY:${escape(words(rng, 2, 7) + (v > 0 ? ` (moved ${v})` : ''))}`,
    `SEQUENCE:${v}`,
    allDay ? 'TRANSP:TRANSPARENT' : 'STATUS:CONFIRMED',
  ];
  if (rng.chance(0.4))
    lines.push(`LOCATION:${escape(`Room ${rng.int(1, 40)}, ${rng.pick(CITIES)}`)}`);
  if (rng.chance(0.5)) lines.push(`DESCRIPTION:${escape(prose(rng, rng.logUniform(40, 2500)))}`);
  if (rng.chance(0.45)) lines.push(...attendees(rng));
  if (rng.chance(0.15)) lines.push(recurrence(rng, allDay));
  if (rng.chance(0.2)) lines.push(`CATEGORIES:${escape(word(rng))},${escape(word(rng))}`);
  if (rng.chance(0.01)) {
    const size = rng.logUniform(4_000, 60_000);
    lines.push(
      `ATTACH;FMTTYPE=application/pdf;ENCODING=BASE64;VALUE=BINARY;X-FILENAME=agenda.pdf:${binary(rng, size)}`,
    );
  }
  if (!allDay && rng.chance(0.6)) lines.push(...alarm(rng));
  lines.push('END:VEVENT');
  return { lines, zoned };
}

function eventTimes(start: Date, end: Date, allDay: boolean, zoned: boolean): string[] {
  if (allDay)
    return [
      `DTSTART;VALUE=DATE:${day(start)}`,
      `DTEND;VALUE=DATE:${day(new Date(start.getTime() + DAY))}`,
    ];
  if (zoned)
    return [`DTSTART;TZID=Europe/Paris:${local(start)}`, `DTEND;TZID=Europe/Paris:${local(end)}`];
  return [`DTSTART:${utc(start)}`, `DTEND:${utc(end)}`];
}

function attendees(rng: Prng): string[] {
  const organizer = person(rng);
  const lines = [`ORGANIZER;CN=${organizer.name}:mailto:${organizer.address}`];
  const count = rng.int(1, 10);
  for (let i = 0; i < count; i++) {
    const who = person(rng);
    lines.push(
      `ATTENDEE;CN=${who.name};CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=${rng.pick(PARTSTATS)};RSVP=TRUE:mailto:${who.address}`,
    );
  }
  return lines;
}

function recurrence(rng: Prng, allDay: boolean): string {
  if (allDay) return 'RRULE:FREQ=YEARLY';
  return rng.chance(0.7)
    ? `RRULE:FREQ=WEEKLY;COUNT=${rng.int(4, 52)}`
    : `RRULE:FREQ=MONTHLY;INTERVAL=${rng.int(1, 3)};COUNT=${rng.int(3, 24)}`;
}

function alarm(rng: Prng): string[] {
  return [
    'BEGIN:VALARM',
    'ACTION:DISPLAY',
    'DESCRIPTION:Reminder',
    `TRIGGER:-PT${rng.pick([5, 10, 15, 30, 60])}M`,
    'END:VALARM',
  ];
}

function todoComponents(item: PlannedItem): Components {
  const rng = new Prng(item.seed, item.stream);
  const v = item.version;
  const created = new Date(EPOCH + rng.int(0, 729) * DAY + rng.int(0, 86_399) * 1000);
  const modified = new Date(created.getTime() + v * HOUR);
  const due = new Date(created.getTime() + rng.int(1, 60) * DAY);
  const done = rng.chance(0.4);
  const lines = [
    'BEGIN:VTODO',
    `UID:${item.uid}`,
    `DTSTAMP:${utc(modified)}`,
    `CREATED:${utc(created)}`,
    `LAST-MODIFIED:${utc(modified)}`,
    `SUMMARY:${escape(words(rng, 2, 8) + (v > 0 ? ` (edited ${v})` : ''))}`,
    `PRIORITY:${rng.pick([0, 1, 5, 9])}`,
    `SEQUENCE:${v}`,
  ];
  if (rng.chance(0.7)) lines.push(`DUE;VALUE=DATE:${day(due)}`);
  lines.push(
    ...(done
      ? ['STATUS:COMPLETED', 'PERCENT-COMPLETE:100', `COMPLETED:${utc(due)}`]
      : ['STATUS:NEEDS-ACTION']),
  );
  if (rng.chance(0.3)) lines.push(`DESCRIPTION:${escape(prose(rng, rng.logUniform(30, 800)))}`);
  if (rng.chance(0.25)) lines.push(`CATEGORIES:${escape(word(rng))}`);
  lines.push('END:VTODO');
  return { lines, zoned: false };
}

function vcardText(item: PlannedItem): string {
  const rng = new Prng(item.seed, item.stream);
  const v = item.version;
  const who = person(rng);
  const [first, last] = who.name.split(' ') as [string, string];
  const revised = new Date(EPOCH + rng.int(0, 729) * DAY + v * DAY);
  const lines = [
    'BEGIN:VCARD',
    'VERSION:3.0',
    'PRODID:-//Example Corp//Groupware Contacts 5.2//EN',
    `UID:${item.uid}`,
    `FN:${escape(who.name)}`,
    `N:${escape(last)};${escape(first)};;;`,
    `EMAIL;TYPE=INTERNET${item.collection.spec.style === 'bare' ? '' : ',WORK'}:${who.address}`,
  ];
  let note = v > 0 ? `Updated (${v})` : '';
  if (item.collection.spec.style === 'full') {
    lines.push(...contactDetails(rng, v));
    if (rng.chance(0.2)) note = `${prose(rng, rng.logUniform(30, 600))} ${note}`.trim();
    if (rng.chance(0.12))
      lines.push(`PHOTO;ENCODING=b;TYPE=JPEG:${binary(rng, rng.logUniform(3_000, 25_000))}`);
  }
  if (note) lines.push(`NOTE:${escape(note)}`);
  lines.push(`REV:${utc(revised)}`, 'END:VCARD');
  return render(lines);
}

function contactDetails(rng: Prng, v: number): string[] {
  const lines: string[] = [];
  const phone = (): string =>
    `+33 ${rng.int(1, 7)} ${pad(rng.int(0, 99))} ${pad(rng.int(0, 99))} ${pad(rng.int(0, 99))} ${pad(rng.int(0, 99))}`;
  if (rng.chance(0.6)) lines.push(`ORG:${escape(words(rng, 1, 3))};${escape(word(rng))}`);
  if (rng.chance(0.4)) lines.push(`TITLE:${escape(words(rng, 1, 3))}`);
  if (rng.chance(0.3)) lines.push(`EMAIL;TYPE=INTERNET,HOME:${person(rng).address}`);
  const mobile = phone();
  lines.push(`TEL;TYPE=CELL:${v > 0 ? `${mobile.slice(0, -2)}${pad(v % 100)}` : mobile}`);
  if (rng.chance(0.4)) lines.push(`TEL;TYPE=WORK,VOICE:${phone()}`);
  if (rng.chance(0.35))
    lines.push(
      `ADR;TYPE=WORK:;;${rng.int(1, 200)} ${escape(words(rng, 1, 2))} Street;${rng.pick(CITIES)};;${rng.int(10_000, 99_999)};France`,
    );
  if (rng.chance(0.2))
    lines.push(`BDAY:${rng.int(1950, 2005)}-${pad(rng.int(1, 12))}-${pad(rng.int(1, 28))}`);
  if (rng.chance(0.15)) lines.push(`CATEGORIES:${escape(word(rng))}`);
  return lines;
}

function components(item: PlannedItem): Components {
  return item.collection.spec.component === 'VTODO' ? todoComponents(item) : eventComponents(item);
}

/** An item as a client PUTs it. */
function itemText(item: PlannedItem): string {
  if (item.collection.spec.component === 'VCARD') return vcardText(item);
  return calendar(components(item));
}

/**
 * A whole collection in one body, for one PUT: Radicale stores each UID as an item of its own,
 * named UID.ics or UID.vcf, as if each had been PUT alone.
 */
function collectionText(collection: PlannedCollection, items: readonly PlannedItem[]): string {
  const members = items.filter((item) => item.collection === collection);
  if (collection.spec.component === 'VCARD') return members.map(vcardText).join('');
  const all = members.map(components);
  return calendar({ lines: all.flatMap((c) => c.lines), zoned: all.some((c) => c.zoned) });
}

// Loading Radicale ------------------------------------------------------------------------

/**
 * Uploads run two at a time: Radicale parses a body before it takes its storage lock and writes
 * under it, so a second upload overlaps the first's writing and more would only queue.
 */
const UPLOAD_CONCURRENCY = 2;

/** Requests as one Radicale user (who may create their own collections). */
class DavUser {
  private readonly auth: string;

  constructor(
    private readonly radicale: RadicaleServer,
    readonly name: string,
  ) {
    this.auth = `Basic ${Buffer.from(`${name}:${PASSWORD}`).toString('base64')}`;
  }

  async send(
    method: string,
    path: string,
    body: string,
    contentType: string,
    expected: number[],
  ): Promise<void> {
    const response = await fetch(new URL(path, this.radicale.url), {
      method,
      body,
      headers: { Authorization: this.auth, 'Content-Type': contentType },
      // A whole collection takes Radicale a while: it writes and fsyncs each item.
      signal: AbortSignal.timeout(600_000),
    });
    const text = await response.text();
    if (!expected.includes(response.status))
      throw new Error(
        `${method} ${path} as ${this.name}: ${response.status} ${response.statusText}\n${text.slice(0, 500)}\n${this.radicale.log().slice(-2000)}`,
      );
  }
}

/** The collection's name, colour and components, as a client sets them at creation. */
function collectionProps(spec: CollectionSpec): string {
  const color = spec.color ? `<I:calendar-color>${spec.color}</I:calendar-color>` : '';
  const components =
    spec.component === 'VCARD'
      ? ''
      : `<C:supported-calendar-component-set><C:comp name="${spec.component}"/></C:supported-calendar-component-set>`;
  return `<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:I="http://apple.com/ns/ical/"><D:set><D:prop><D:displayname>${spec.displayName}</D:displayname>${color}${components}</D:prop></D:set></D:propertyupdate>`;
}

const contentType = (spec: CollectionSpec): string =>
  `${spec.component === 'VCARD' ? 'text/vcard' : 'text/calendar'}; charset=utf-8`;

async function inPool<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) await work(items[i] as T);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

function putItem(users: Map<string, DavUser>, item: PlannedItem): Promise<void> {
  const user = users.get(item.collection.account);
  if (!user) throw new Error(`no DAV user ${item.collection.account}`);
  return user.send('PUT', item.href, itemText(item), contentType(item.collection.spec), [201, 204]);
}

interface DavLoad {
  plan: DavPlan;
  users: Map<string, DavUser>;
  /** Bytes of the items as uploaded (Radicale re-serializes them). */
  bytes: number;
  seconds: number;
}

/**
 * Each collection in one PUT of the whole collection, then its properties: Radicale checks
 * every PUT of a single item against all the UIDs of its collection, so filling a collection
 * item by item costs it time in the square of the items (about 20 PUT/s at 3,000 items here).
 */
async function loadRadicale(radicale: RadicaleServer, plan: DavPlan): Promise<DavLoad> {
  const started = performance.now();
  const users = new Map(plan.accounts.map((name) => [name, new DavUser(radicale, name)]));
  // By their owner: a user's first request creates the user's principal.
  await inPool(plan.collections, UPLOAD_CONCURRENCY, async (collection) => {
    const user = users.get(collection.account);
    if (!user) throw new Error(`no DAV user ${collection.account}`);
    const { href, spec } = collection;
    await user.send('PUT', href, collectionText(collection, plan.items), contentType(spec), [201]);
    await user.send(
      'PROPPATCH',
      href,
      collectionProps(spec),
      'application/xml; charset=utf-8',
      [207],
    );
  });
  let bytes = 0;
  for (const item of plan.items) bytes += Buffer.byteLength(itemText(item));
  return { plan, users, bytes, seconds: (performance.now() - started) / 1000 };
}

/** Edits a fresh 1 % of the items (at least one), spread over every collection at random. */
async function changeItems(load: DavLoad, round: number, seed: number): Promise<number> {
  const { items } = load.plan;
  const rng = new Prng(seed, CHANGE_STREAMS + round);
  const count = Math.max(1, Math.round(items.length / 100));
  const chosen = new Set<PlannedItem>();
  while (chosen.size < count) chosen.add(rng.pick(items));
  for (const item of chosen) item.version++;
  await inPool([...chosen], UPLOAD_CONCURRENCY, (item) => putItem(load.users, item));
  return count;
}

// Counting requests -----------------------------------------------------------------------

interface SeenRequest {
  method: string;
  path: string;
  depth: string | null;
  /** The REPORT's kind (sync-collection, calendar-multiget, ...), from its body. */
  report: string | null;
}

/**
 * An HTTP proxy in front of Radicale that writes down each request: what a client asked,
 * counted on the wire rather than by the client itself. Radicale's redirects and hrefs are
 * paths, so a client given the proxy's URL stays on it.
 */
class CountingProxy {
  private seen: SeenRequest[] = [];

  private constructor(
    private readonly server: Server,
    private readonly target: URL,
  ) {}

  static async start(target: string): Promise<CountingProxy> {
    const server = createServer();
    const proxy = new CountingProxy(server, new URL(target));
    server.on('request', (request, response) => {
      proxy.forward(request, response).catch((error: unknown) => {
        response.writeHead(502).end(String(error));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  /** The requests seen since the last call. */
  take(): SeenRequest[] {
    const seen = this.seen;
    this.seen = [];
    return seen;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async forward(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const method = request.method ?? 'GET';
    this.seen.push({
      method,
      path: decodeURIComponent((request.url ?? '/').split('?')[0] ?? '/'),
      depth: (request.headers.depth as string | undefined) ?? null,
      report:
        /<(?:[\w-]+:)?([\w-]+)/.exec(body.toString('utf8').replace(/<\?xml[^>]*>/, ''))?.[1] ??
        null,
    });
    const headers = withoutHopHeaders(request.headers);
    headers['content-length'] = String(body.length);
    await new Promise<void>((resolve, reject) => {
      const upstream = httpRequest(
        {
          host: this.target.hostname,
          port: this.target.port,
          method,
          path: request.url,
          headers,
        },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, withoutHopHeaders(answer.headers));
          answer.pipe(response);
          answer.on('end', resolve);
          answer.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }
}

/** The headers of one connection's hop, which a proxy answers for itself, left out. */
function withoutHopHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const hop = new Set(['connection', 'keep-alive', 'transfer-encoding']);
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !hop.has(name)));
}

/** Requests split into the account's (discovery) and the collections' (and their items'). */
interface RequestBreakdown {
  total: number;
  discovery: number;
  collection: number;
  /** "PROPFIND depth 1 home" → count: what the requests were. */
  kinds: Record<string, number>;
}

function breakDown(seen: SeenRequest[], plan: DavPlan): RequestBreakdown {
  const collections = plan.collections.map((c) => c.href);
  const principals = plan.accounts.map((account) => `/${account}/`);
  const result: RequestBreakdown = { total: seen.length, discovery: 0, collection: 0, kinds: {} };
  for (const request of seen) {
    const inside = collections.find((href) => request.path.startsWith(href));
    const where = inside
      ? request.path === inside
        ? 'collection'
        : 'item'
      : principals.includes(request.path)
        ? 'principal/home'
        : request.path.startsWith('/.well-known/')
          ? '.well-known'
          : request.path === '/'
            ? 'root'
            : request.path;
    if (inside) result.collection++;
    else result.discovery++;
    const kind = [
      request.method,
      request.depth === null ? '' : `depth ${request.depth}`,
      request.method === 'REPORT' ? (request.report ?? '') : '',
      where,
    ]
      .filter(Boolean)
      .join(' ');
    result.kinds[kind] = (result.kinds[kind] ?? 0) + 1;
  }
  return result;
}

const fmtKinds = (kinds: Record<string, number>, per: number): string =>
  Object.entries(kinds)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, n]) => `${kind} ×${(n / per).toFixed(n % per === 0 ? 0 : 1)}`)
    .join(', ');

// mailvault -------------------------------------------------------------------------------

/** A mailvault installation backing up the DAV accounts' mail and collections. */
async function davWorkspace(context: DavContext, dir: string): Promise<MailvaultWorkspace> {
  const { bench, radicale, load } = context;
  const mv = await MailvaultWorkspace.create(bench.server, dir, load.plan.accounts, {
    profileDir: bench.profileDir,
  });
  const passwordFile = join(dir, 'dav-admin.pass');
  await writeFile(passwordFile, `${radicale.admin.password}\n`, { mode: 0o600 });
  const config = await readFile(mv.config, 'utf8');
  // An administrator reads every account's collections, as the README's Radicale example does.
  const dav = `    dav: { url: "${radicale.url}", auth: { user: ${radicale.admin.user}, passwordFile: ${passwordFile} }, principalPath: "{account}/" }`;
  await writeFile(mv.config, config.replace(/( {4}imap: [^\n]*\n)/, `$1${dav}\n`));
  return mv;
}

/** Points the installation at another DAV URL: the counting proxy, or Radicale again. */
async function setDavUrl(mv: MailvaultWorkspace, url: string): Promise<void> {
  const config = await readFile(mv.config, 'utf8');
  await writeFile(mv.config, config.replace(/dav: \{ url: "[^"]*"/, `dav: { url: "${url}"`));
}

interface DavBackupFigures {
  runSeconds: number;
  items: number;
  newItems: number;
  bytesRead: number;
  bytesAdded: number;
  davRequests: number;
}

function davFigures(run: MailvaultRun): DavBackupFigures {
  const figures = backupFigures(run);
  const json = run.json as { davRequests?: number };
  return { ...figures, davRequests: json.davRequests ?? NaN };
}

// vdirsyncer ------------------------------------------------------------------------------

export const VDIRSYNCER = '/usr/bin/vdirsyncer';

const pairName = (account: string, kind: 'caldav' | 'carddav'): string => `${account}_${kind}`;

/**
 * vdirsyncer pulling every calendar and address book of the accounts into a local vdir (one
 * .ics or .vcf file an item), read-only on the server's side: one pair per account and kind,
 * discovered as a user would (/.well-known, principal, homes) with the account's own login.
 */
class Vdirsyncer {
  private constructor(
    readonly dir: string,
    private readonly accounts: string[],
  ) {}

  static async create(dir: string, plan: DavPlan, url: string): Promise<Vdirsyncer> {
    const tool = new Vdirsyncer(dir, plan.accounts);
    // The local collections made beforehand: vdirsyncer 0.19 would otherwise ask on a terminal
    // whether to create each one (it has no setting for that yet).
    for (const { account, spec } of plan.collections)
      await mkdir(tool.localCollection(account, spec), { recursive: true });
    await tool.writeConfig(url);
    return tool;
  }

  private localCollection(account: string, spec: CollectionSpec): string {
    return join(
      this.dir,
      'vdir',
      pairName(account, spec.component === 'VCARD' ? 'carddav' : 'caldav'),
      spec.name,
    );
  }

  private get config(): string {
    return join(this.dir, 'config');
  }

  /** Points the pairs at `url`: the same collections and sync state, reached another way. */
  async writeConfig(url: string): Promise<void> {
    const lines = ['[general]', `status_path = "${join(this.dir, 'status')}/"`, ''];
    for (const account of this.accounts) {
      for (const [kind, extension] of [
        ['caldav', '.ics'],
        ['carddav', '.vcf'],
      ] as const) {
        const name = pairName(account, kind);
        lines.push(
          `[pair ${name}]`,
          `a = "${name}_server"`,
          `b = "${name}_local"`,
          'collections = ["from a"]',
          'conflict_resolution = "a wins"',
          '',
          `[storage ${name}_server]`,
          `type = "${kind}"`,
          `url = "${url}"`,
          `username = "${account}"`,
          `password = "${PASSWORD}"`,
          'read_only = true',
          '',
          `[storage ${name}_local]`,
          'type = "filesystem"',
          `path = "${join(this.dir, 'vdir', name)}/"`,
          `fileext = "${extension}"`,
          '',
        );
      }
    }
    await writeFile(this.config, lines.join('\n'));
  }

  discover(): Promise<Timed> {
    return this.run(['discover']);
  }

  sync(): Promise<Timed> {
    return this.run(['sync']);
  }

  private run(args: string[]): Promise<Timed> {
    return timed(VDIRSYNCER, ['--config', this.config, '--verbosity', 'WARNING', ...args]);
  }

  /** Items in the local vdir. */
  async items(): Promise<number> {
    let count = 0;
    const walk = async (path: string): Promise<void> => {
      for (const entry of await readdir(path, { withFileTypes: true })) {
        if (entry.isDirectory()) await walk(join(path, entry.name));
        else if (/\.(ics|vcf)$/.test(entry.name)) count++;
      }
    };
    await walk(join(this.dir, 'vdir'));
    return count;
  }
}

// The measurements ------------------------------------------------------------------------

/** What every step of the phase works with. */
interface DavContext {
  bench: Bench;
  radicale: RadicaleServer;
  proxy: CountingProxy;
  load: DavLoad;
  /** Runs that died of Radicale's closed connections and were run again, by name. */
  interrupted: string[];
}

/** A run through the proxy: the requests mailvault reported beside those on the wire. */
interface Counted {
  reported: number;
  wire: RequestBreakdown;
}

interface VdirsyncerFirst {
  discover: Timed;
  sync: Timed;
}

interface VdirsyncerRuns {
  first: VdirsyncerFirst[];
  noChange: Timed[];
  change: Timed[];
  counted: { noChange: RequestBreakdown; change: RequestBreakdown };
}

export interface DavRuns {
  accounts: number;
  collections: number;
  items: number;
  /** Bytes of the items as a client PUTs them one by one. */
  bytes: number;
  loadSeconds: number;
  first: MailvaultRun[];
  /** The first sample's repository after its first backup. */
  repositoryBytes: number;
  noChange: MailvaultRun[];
  /** Items changed before each change run, and the runs. */
  changed: number[];
  change: MailvaultRun[];
  counted: { first: Counted; noChange: Counted; change: Counted & { changed: number } };
  vdirsyncer: VdirsyncerRuns | null;
  /** Why vdirsyncer was left out, when it was. */
  vdirsyncerSkipped: string | null;
  /** Runs that died of Radicale's closed connections and were run again, by name. */
  interrupted: string[];
  versions: { radicale: string; vdirsyncer: string };
}

function vdirsyncerSkipReason(bench: Bench): string | null {
  if (!bench.settings.DAV_BASELINE) return 'BENCH_DAV_BASELINE=0';
  if (!isExecutable(VDIRSYNCER)) return `${VDIRSYNCER} not found (apt-get install vdirsyncer)`;
  return null;
}

/**
 * Radicale with its storage on tmpfs where there is one: it fsyncs every item it writes, which
 * on this machine's shared disk makes loading a few thousand items take minutes. The clients
 * under measurement only read, from the page cache either way.
 */
async function startRadicaleOnTmpfs(users: Record<string, string>): Promise<RadicaleServer> {
  const tmpfs = '/dev/shm';
  const before = process.env.TMPDIR;
  if (isWritableDir(tmpfs)) process.env.TMPDIR = tmpfs;
  try {
    return await startRadicale({ users });
  } finally {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
  }
}

function isWritableDir(path: string): boolean {
  try {
    accessSync(path, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function firstLine(command: string, args: string[]): Promise<string> {
  const result = await run(command, args).catch(() => ({ stdout: '', stderr: '' }));
  return `${result.stdout}${result.stderr}`.trim().split('\n')[0] ?? '';
}

export async function measureDav(bench: Bench): Promise<DavRuns> {
  const { DAV_ITEMS, DAV_ACCOUNTS, SEED } = bench.settings;
  const accounts = davUsers(DAV_ACCOUNTS);
  for (const account of accounts)
    if (!bench.server.users.has(account)) await bench.server.addUser(account, 'x');
  const radicale = await startRadicaleOnTmpfs(
    Object.fromEntries(accounts.map((account) => [account, PASSWORD])),
  );
  const proxy = await CountingProxy.start(radicale.url);
  try {
    const plan = planDav(accounts, DAV_ITEMS, SEED);
    progress(
      `DAV: loading ${fmtCount(DAV_ITEMS)} events, tasks and vCards into ${plan.collections.length} collections of ${accounts.length} accounts on Radicale`,
    );
    const load = await loadRadicale(radicale, plan);
    progress(`  ${fmtBytes(load.bytes)} in ${fmtSeconds(load.seconds)}`);
    return await measureRuns({ bench, radicale, proxy, load, interrupted: [] });
  } finally {
    await proxy.close();
    await radicale.stop();
  }
}

async function measureRuns(context: DavContext): Promise<DavRuns> {
  const { bench, load } = context;
  const { plan } = load;
  const skipped = vdirsyncerSkipReason(bench);
  const first = await firstRuns(context, skipped === null);
  const countedFirst = await countedFirstBackup(context);
  const { mv, syncer } = first;

  const noChange = await noChangeRuns(context, mv, syncer);
  const countedNoChange = await countedBackup(context, mv);
  const syncerNoChange = syncer ? await countedSync(context, syncer) : null;

  const change = await changeRuns(context, mv, syncer);
  // One more round, counted: both clients after the same changes.
  const changed = await changeItems(load, bench.settings.SAMPLES, bench.settings.SEED);
  const countedChange = await countedBackup(context, mv);
  const syncerChange = syncer ? await countedSync(context, syncer) : null;
  progress(
    `DAV: counted through the proxy: first backup ${countedFirst.wire.total} requests, no-change ${countedNoChange.wire.total}, ` +
      `after ${changed} changes ${countedChange.wire.total}` +
      (syncerNoChange && syncerChange
        ? `; vdirsyncer no-change ${syncerNoChange.total}, after the changes ${syncerChange.total}`
        : ''),
  );
  return {
    accounts: plan.accounts.length,
    collections: plan.collections.length,
    items: plan.items.length,
    bytes: load.bytes,
    loadSeconds: load.seconds,
    first: first.runs,
    repositoryBytes: first.repositoryBytes,
    noChange: noChange.runs,
    changed: change.changed,
    change: change.runs,
    counted: {
      first: countedFirst,
      noChange: countedNoChange,
      change: { ...countedChange, changed },
    },
    vdirsyncer:
      syncerNoChange && syncerChange
        ? {
            first: first.syncerRuns,
            noChange: noChange.syncer,
            change: change.syncer,
            counted: { noChange: syncerNoChange, change: syncerChange },
          }
        : null,
    vdirsyncerSkipped: skipped,
    interrupted: context.interrupted,
    versions: {
      radicale: await firstLine(RADICALE.path, ['--version']),
      vdirsyncer: skipped ? '' : await firstLine(VDIRSYNCER, ['--version']),
    },
  };
}

/**
 * How the clients die of Radicale closing each connection (see the top of this file):
 * mailvault's undici asserts, vdirsyncer's aiohttp reuses a connection the server has closed.
 */
const MAILVAULT_DIED = /assert\(!this\.paused\)/;
const VDIRSYNCER_DIED = /Server disconnected|Connection reset by peer/;
const ATTEMPTS = 3;

/**
 * A run that is run again when it died of Radicale's closed connections, each time written
 * down: such a death is a finding, but no figure of the run it interrupted.
 */
async function surviving<T>(
  context: DavContext,
  what: string,
  died: RegExp,
  attempt: () => Promise<T>,
): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (!died.test(String(error)) || tries >= ATTEMPTS) throw error;
      context.interrupted.push(what);
      progress(`  ${what} died of a closed connection; running it again`);
    }
  }
}

/** A vdirsyncer sync, run again when it died of a closed connection. */
function vdirsyncerSync(context: DavContext, syncer: Vdirsyncer, what: string): Promise<Timed> {
  return surviving(context, `vdirsyncer ${what}`, VDIRSYNCER_DIED, () => syncer.sync());
}

/** A backup, checked: the run reported no failure. */
function checkedBackup(
  context: DavContext,
  mv: MailvaultWorkspace,
  what: string,
  profile?: string,
): Promise<MailvaultRun> {
  return surviving(context, `mailvault ${what}`, MAILVAULT_DIED, async () => {
    const result = await mv.run(['backup'], profile);
    davFigures(result);
    return result;
  });
}

/** One more first backup, through the proxy: what it asks for, collection by collection. */
async function countedFirstBackup(context: DavContext): Promise<Counted> {
  const dir = phaseDir(context, 'mv-counted');
  const mv = await davWorkspace(context, dir);
  const counted = await countedBackup(context, mv);
  await rm(dir, { recursive: true, force: true });
  return counted;
}

/** A backup through the proxy; the installation talks to Radicale directly again after it. */
async function countedBackup(context: DavContext, mv: MailvaultWorkspace): Promise<Counted> {
  const { proxy, radicale, load } = context;
  await setDavUrl(mv, proxy.url);
  try {
    proxy.take();
    const result = await checkedBackup(context, mv, 'counted run');
    const counted = {
      reported: davFigures(result).davRequests,
      wire: breakDown(proxy.take(), load.plan),
    };
    if (counted.reported !== counted.wire.total)
      progress(
        `  NOTE: mailvault reported ${counted.reported} DAV requests, the wire saw ${counted.wire.total}`,
      );
    return counted;
  } finally {
    await setDavUrl(mv, radicale.url);
  }
}

/**
 * A vdirsyncer sync through the proxy. vdirsyncer refuses to sync after its configuration
 * changed until it has discovered again, so each change of URL is followed by a discover (not
 * counted: a sync on its own does not discover).
 */
async function countedSync(context: DavContext, syncer: Vdirsyncer): Promise<RequestBreakdown> {
  const { proxy, radicale, load } = context;
  await syncer.writeConfig(proxy.url);
  try {
    await syncer.discover();
    proxy.take();
    await vdirsyncerSync(context, syncer, 'counted sync');
    return breakDown(proxy.take(), load.plan);
  } finally {
    await syncer.writeConfig(radicale.url);
    await syncer.discover();
  }
}

interface FirstRuns {
  /** The first sample's installation and vdir: kept for the later runs. */
  mv: MailvaultWorkspace;
  syncer: Vdirsyncer | undefined;
  runs: MailvaultRun[];
  syncerRuns: VdirsyncerFirst[];
  repositoryBytes: number;
}

const phaseDir = (context: DavContext, name: string): string =>
  join(context.bench.work, 'dav', name);

/**
 * A first backup into a fresh repository: after a crash, into another fresh one, so that what
 * is measured is always a first backup.
 */
async function firstBackup(
  context: DavContext,
  sample: number,
): Promise<{ mv: MailvaultWorkspace; run: MailvaultRun }> {
  let mv: MailvaultWorkspace | undefined;
  const result = await surviving(
    context,
    `mailvault first backup ${sample}`,
    MAILVAULT_DIED,
    async () => {
      if (mv) await rm(mv.dir, { recursive: true, force: true });
      mv = await davWorkspace(context, phaseDir(context, `mv-${sample}`));
      await settle();
      const run = await mv.run(['backup'], sample === 1 ? 'dav-backup-first' : undefined);
      davFigures(run);
      return run;
    },
  );
  if (!mv) throw new Error('no workspace');
  return { mv, run: result };
}

/** vdirsyncer's first discover and sync into a fresh vdir: after a death, into another one. */
async function firstSync(
  context: DavContext,
  sample: number,
): Promise<{ syncer: Vdirsyncer; runs: VdirsyncerFirst }> {
  const { plan } = context.load;
  let syncer: Vdirsyncer | undefined;
  const runs = await surviving(
    context,
    `vdirsyncer first sync ${sample}`,
    VDIRSYNCER_DIED,
    async () => {
      if (syncer) await rm(syncer.dir, { recursive: true, force: true });
      const dir = phaseDir(context, `vdirsyncer-${sample}`);
      syncer = await Vdirsyncer.create(dir, plan, context.radicale.url);
      await settle();
      const discover = await syncer.discover();
      const sync = await syncer.sync();
      return { discover, sync };
    },
  );
  if (!syncer) throw new Error('no vdir');
  const items = await syncer.items();
  if (items !== plan.items.length)
    throw new Error(`vdirsyncer pulled ${items} items, not ${plan.items.length}`);
  return { syncer, runs };
}

/**
 * First backups, each into a fresh repository, back to back with vdirsyncer's first discover
 * and sync into a fresh vdir (the order alternating from one sample to the next).
 */
async function firstRuns(context: DavContext, withVdirsyncer: boolean): Promise<FirstRuns> {
  const { SAMPLES } = context.bench.settings;
  const { plan } = context.load;
  const runs: MailvaultRun[] = [];
  const syncerRuns: VdirsyncerFirst[] = [];
  let kept: Pick<FirstRuns, 'mv' | 'syncer'> | undefined;
  for (let i = 0; i < SAMPLES; i++) {
    const n = `${i + 1}/${SAMPLES}`;
    let mv: MailvaultWorkspace | undefined;
    let syncer: Vdirsyncer | undefined;
    const pull = async (): Promise<void> => {
      progress(`DAV: mailvault backup, first run (${n})`);
      const first = await firstBackup(context, i + 1);
      mv = first.mv;
      const figures = davFigures(first.run);
      if (figures.items !== plan.items.length)
        throw new Error(`the DAV backup saw ${figures.items} items, not ${plan.items.length}`);
      runs.push(first.run);
      progress(
        `  ${fmtSeconds(first.run.seconds)} (run ${fmtSeconds(figures.runSeconds)}), ${figures.davRequests} DAV requests, ${fmtMiB(first.run.maxRssKb)} peak RSS`,
      );
    };
    const sync = async (): Promise<void> => {
      if (!withVdirsyncer) return;
      progress(`DAV: vdirsyncer discover and sync, first run (${n})`);
      const first = await firstSync(context, i + 1);
      syncer = first.syncer;
      syncerRuns.push(first.runs);
      progress(
        `  discover ${fmtSeconds(first.runs.discover.seconds)}, sync ${fmtSeconds(first.runs.sync.seconds)}`,
      );
    };
    for (const step of i % 2 === 0 ? [pull, sync] : [sync, pull]) await step();
    if (!mv) throw new Error('no first DAV backup');
    if (i === 0) kept = { mv, syncer };
    else {
      await rm(mv.dir, { recursive: true, force: true });
      if (syncer) await rm(syncer.dir, { recursive: true, force: true });
    }
  }
  if (!kept) throw new Error('no first DAV backup');
  return { ...kept, runs, syncerRuns, repositoryBytes: await kept.mv.repositoryBytes() };
}

/** No-change runs, mailvault's and vdirsyncer's in turn. */
async function noChangeRuns(
  context: DavContext,
  mv: MailvaultWorkspace,
  syncer: Vdirsyncer | undefined,
): Promise<{ runs: MailvaultRun[]; syncer: Timed[] }> {
  const { SAMPLES } = context.bench.settings;
  const runs: MailvaultRun[] = [];
  const syncs: Timed[] = [];
  progress(`DAV: no-change runs (${SAMPLES} of each)`);
  for (let i = 0; i < SAMPLES; i++) {
    const profile = i === 0 ? 'dav-backup-nochange' : undefined;
    const result = await checkedBackup(context, mv, `no-change run ${i + 1}`, profile);
    const figures = davFigures(result);
    if (figures.newItems !== 0)
      throw new Error(`a no-change DAV run found ${figures.newItems} new items`);
    runs.push(result);
    const synced = syncer
      ? await vdirsyncerSync(context, syncer, `no-change sync ${i + 1}`)
      : undefined;
    if (synced) syncs.push(synced);
    progress(
      `  mailvault ${fmtSeconds(result.seconds)} (run ${fmtSeconds(figures.runSeconds)}), ${figures.davRequests} DAV requests` +
        (synced ? `; vdirsyncer ${fmtSeconds(synced.seconds)}` : ''),
    );
  }
  return { runs, syncer: syncs };
}

/** Rounds of: 1 % of the items edited on the server, then mailvault's run and vdirsyncer's. */
async function changeRuns(
  context: DavContext,
  mv: MailvaultWorkspace,
  syncer: Vdirsyncer | undefined,
): Promise<{ changed: number[]; runs: MailvaultRun[]; syncer: Timed[] }> {
  const { SAMPLES, SEED } = context.bench.settings;
  const changed: number[] = [];
  const runs: MailvaultRun[] = [];
  const syncs: Timed[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const count = await changeItems(context.load, i, SEED);
    changed.push(count);
    progress(`DAV: ${count} items changed (${i + 1}/${SAMPLES})`);
    const result = await checkedBackup(context, mv, `change run ${i + 1}`);
    const figures = davFigures(result);
    if (figures.newItems !== count)
      throw new Error(`the DAV backup found ${figures.newItems} new items after ${count} changes`);
    runs.push(result);
    const synced = syncer
      ? await vdirsyncerSync(context, syncer, `change sync ${i + 1}`)
      : undefined;
    if (synced) syncs.push(synced);
    progress(
      `  mailvault ${fmtSeconds(result.seconds)} (run ${fmtSeconds(figures.runSeconds)}), ${figures.davRequests} DAV requests` +
        (synced ? `; vdirsyncer ${fmtSeconds(synced.seconds)}` : ''),
    );
  }
  return { changed, runs, syncer: syncs };
}

// The report ------------------------------------------------------------------------------

const perItem = (n: number): string => fmtRate(n, 'items/s');

/** The kinds of the requests made for collections and their items (discovery left out). */
function collectionKinds(wire: RequestBreakdown): Record<string, number> {
  return Object.fromEntries(
    Object.entries(wire.kinds).filter(([kind]) => / (collection|item)$/.test(kind)),
  );
}

function discoveryKinds(wire: RequestBreakdown): Record<string, number> {
  return Object.fromEntries(
    Object.entries(wire.kinds).filter(([kind]) => !/ (collection|item)$/.test(kind)),
  );
}

export function reportDav(bench: Bench, runs: DavRuns): void {
  bench.details.dav = runs;
  const S = `12. Calendars and contacts (Radicale: ${fmtCount(runs.items)} items, ${fmtBytes(runs.bytes)}, ${runs.collections} collections of ${runs.accounts} accounts)`;
  reportDavFirst(bench, S, runs);
  reportDavNoChange(bench, S, runs);
  reportDavChange(bench, S, runs);
  reportDavChecks(bench, S, runs);
}

function reportDavFirst(bench: Bench, S: string, runs: DavRuns): void {
  const { report } = bench;
  const wall = spread(runs.first.map((run) => rate(runs.items, run.seconds)));
  const own = spread(runs.first.map((run) => rate(runs.items, davFigures(run).runSeconds)));
  const pulls = runs.vdirsyncer?.first.map((r) => r.discover.seconds + r.sync.seconds);
  const pull = pulls ? spread(pulls.map((seconds) => rate(runs.items, seconds))) : null;
  report.add({
    id: 'dav.first.itemsPerSec',
    section: S,
    label: 'first backup: DAV items/s (wall, whole CLI run)',
    value: wall.median,
    unit: 'items/s',
    display: fmtSpread(wall, perItem),
    target: pull ? `vdirsyncer discover + sync: ${fmtSpread(pull, perItem)} here` : '',
    samples: wall,
  });
  if (pull)
    report.add({
      id: 'dav.first.vsVdirsyncer',
      section: S,
      label: 'first backup: mailvault / vdirsyncer (ratio of medians)',
      value: wall.median / pull.median,
      unit: 'ratio',
      display: `${(wall.median / pull.median).toFixed(2)}×`,
      target: '',
    });
  report.add({
    id: 'dav.first.runItemsPerSec',
    section: S,
    label: 'first backup: DAV items/s (backup run only, from --json)',
    value: own.median,
    unit: 'items/s',
    display: fmtSpread(own, perItem),
    target: '',
    samples: own,
  });
  const { wire } = runs.counted.first;
  report.add({
    id: 'dav.first.requests',
    section: S,
    label: 'first backup: DAV requests',
    value: wire.total,
    unit: 'requests',
    display: `${wire.total}: ${(wire.discovery / runs.accounts).toFixed(1)} per account, ${(wire.collection / runs.collections).toFixed(1)} per collection (${fmtKinds(collectionKinds(wire), runs.collections)})`,
    target: '',
  });
  const read = davFigures(runs.first[0] as MailvaultRun).bytesRead;
  report.add({
    id: 'dav.first.repoRatio',
    section: S,
    label: 'repository size / bytes read',
    value: runs.repositoryBytes / read,
    unit: 'ratio',
    display: `${(runs.repositoryBytes / read).toFixed(3)}× (${fmtBytes(runs.repositoryBytes)} for ${fmtBytes(read)})`,
    target: '',
  });
}

function reportDavNoChange(bench: Bench, S: string, runs: DavRuns): void {
  const { report } = bench;
  const wall = spread(runs.noChange.map((run) => run.seconds));
  const own = spread(runs.noChange.map((run) => davFigures(run).runSeconds));
  const syncs = runs.vdirsyncer ? spread(runs.vdirsyncer.noChange.map((run) => run.seconds)) : null;
  const theirs = runs.vdirsyncer?.counted.noChange;
  report.add({
    id: 'dav.nochange.seconds',
    section: S,
    label: 'no-change run: wall time (whole CLI run); the run itself',
    value: wall.median,
    unit: 's',
    display: `${fmtSpread(wall, fmtSeconds)}; ${fmtSeconds(own.median)}`,
    target: syncs ? `vdirsyncer sync ${fmtSpread(syncs, fmtSeconds)} here` : '',
    samples: wall,
  });
  const requests = median(runs.noChange.map((run) => davFigures(run).davRequests));
  report.add({
    id: 'dav.nochange.requestsPerCollection',
    section: S,
    label: 'no-change run: DAV requests per collection (--json `davRequests` / collections)',
    value: requests / runs.collections,
    unit: 'requests',
    display: `${(requests / runs.collections).toFixed(2)} (${requests} for ${runs.collections} collections)`,
    target: theirs
      ? `vdirsyncer ${(theirs.total / runs.collections).toFixed(2)} (${theirs.total})`
      : '',
  });
  const { wire } = runs.counted.noChange;
  report.add({
    id: 'dav.nochange.discoveryPerAccount',
    section: S,
    label: "no-change run: of which each account's discovery",
    value: wire.discovery / runs.accounts,
    unit: 'requests',
    display: `${(wire.discovery / runs.accounts).toFixed(1)} (${fmtKinds(discoveryKinds(wire), runs.accounts)})`,
    target: theirs ? `vdirsyncer ${(theirs.discovery / runs.accounts).toFixed(1)}` : '',
  });
  report.add({
    id: 'dav.nochange.perCollection',
    section: S,
    label: 'no-change run: of which for each collection',
    value: wire.collection / runs.collections,
    unit: 'requests',
    display: `${(wire.collection / runs.collections).toFixed(2)}${wire.collection ? ` (${fmtKinds(collectionKinds(wire), runs.collections)})` : ''}`,
    target: theirs
      ? `vdirsyncer ${(theirs.collection / runs.collections).toFixed(2)} (${fmtKinds(collectionKinds(theirs), runs.collections)})`
      : '',
  });
}

function reportDavChange(bench: Bench, S: string, runs: DavRuns): void {
  const { report } = bench;
  const changed = median(runs.changed);
  const wall = spread(runs.change.map((run) => run.seconds));
  const own = spread(runs.change.map((run) => davFigures(run).runSeconds));
  const syncs = runs.vdirsyncer ? spread(runs.vdirsyncer.change.map((run) => run.seconds)) : null;
  report.add({
    id: 'dav.change.seconds',
    section: S,
    label: `after ${fmtCount(changed)} items (1 %) changed: wall time; the run itself`,
    value: wall.median,
    unit: 's',
    display: `${fmtSpread(wall, fmtSeconds)}; ${fmtSeconds(own.median)}`,
    target: syncs ? `vdirsyncer sync ${fmtSpread(syncs, fmtSeconds)} here` : '',
    samples: wall,
  });
  const counts = runs.change.map((run) => davFigures(run).davRequests);
  const requests = median(counts);
  const rounds = counts.length > 1 ? ` (rounds: ${counts.join(', ')})` : '';
  // The counted round: both clients after the same changes.
  const { wire } = runs.counted.change;
  const theirs = runs.vdirsyncer?.counted.change;
  report.add({
    id: 'dav.change.requests',
    section: S,
    label: 'after 1 % changed: DAV requests (--json), per collection',
    value: requests,
    unit: 'requests',
    display:
      `${requests}${rounds}, ${(requests / runs.collections).toFixed(2)} per collection; ` +
      `counted round: ${wire.total} = ${wire.discovery} discovery + ${fmtKinds(collectionKinds(wire), 1)}`,
    target: theirs
      ? `vdirsyncer ${theirs.total} = ${theirs.discovery} discovery + ${fmtKinds(collectionKinds(theirs), 1)}`
      : '',
  });
}

/** Whether mailvault counts its requests right, runs that died, and a missing baseline. */
function reportDavChecks(bench: Bench, S: string, runs: DavRuns): void {
  const { report } = bench;
  const counted = [runs.counted.first, runs.counted.noChange, runs.counted.change];
  const miscounted = counted.filter((c) => c.reported !== c.wire.total);
  report.add({
    id: 'dav.requestsCountedRight',
    section: S,
    label: "mailvault's own count of DAV requests (--json) against the wire's",
    value: miscounted.length,
    unit: 'runs',
    display:
      miscounted.length === 0
        ? `equal in the ${counted.length} counted runs`
        : `different in ${miscounted.length} of ${counted.length} counted runs`,
    target: '',
  });
  // Each sample's first, no-change and change run, and the three counted runs.
  const runsMade = 3 * runs.first.length + 3;
  for (const tool of ['mailvault', 'vdirsyncer'] as const) {
    if (tool === 'vdirsyncer' && !runs.vdirsyncer) continue;
    const died = runs.interrupted.filter((what) => what.startsWith(`${tool} `));
    report.add({
      id: `dav.${tool}.interrupted`,
      section: S,
      label: `${tool} runs that died of Radicale's closed connections (run again)`,
      value: died.length,
      unit: 'runs',
      display:
        died.length === 0
          ? `none of ${runsMade}`
          : `${died.length} (${died.map((what) => what.slice(tool.length + 1)).join(', ')}), beside ${runsMade} that finished`,
      target: '',
    });
  }
  if (runs.vdirsyncerSkipped)
    report.add({
      id: 'dav.vdirsyncer',
      section: S,
      label: 'vdirsyncer (baseline)',
      value: NaN,
      unit: '',
      display: `left out: ${runs.vdirsyncerSkipped}`,
      target: '',
    });
}
