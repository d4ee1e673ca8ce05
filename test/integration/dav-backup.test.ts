// Calendars and contacts end to end, against a real Radicale and a real Dovecot: every corpus
// .ics and .vcf the server accepts is backed up with the account's mail, browsed, searched,
// exported, restored into another account and undeleted, and compared with what the server
// holds. Radicale re-serializes what it stores, so items are compared as the server gives them
// back (the same server serializes the original and the restored copy the same way), and by UID.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDavCorpus, type CorpusLoad } from '../support/dav-corpus.js';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { haveRadicale, startRadicale, type RadicaleServer } from '../support/radicale.js';
import { createWorkspace, type Workspace } from '../support/workspace.js';

interface BackupJson {
  totals: { newItems: number; davRequests: number; bytesAdded: number };
  warnings: Array<{ folder?: string; item?: string; reason: string }>;
  failures: unknown[];
}
interface LsJson {
  collections: Array<{ kind: string; name: string; count: number; displayName: string | null }>;
}
interface ItemJson {
  key: string;
  name: string;
  uid: string | null;
  title: string;
  people: string[];
}
interface RestoreJson {
  totals: { restored: number; alreadyPresent: number; failed: number };
}

/** A tiny DAV client for the test's own checks, as the given user. */
function dav(server: RadicaleServer, user: string, password: string) {
  const auth = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const send = (
    method: string,
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ) =>
    fetch(new URL(path, server.url), {
      method,
      body,
      headers: { authorization: auth, ...headers },
    });
  return {
    send,
    /** href → body of every item in a collection. */
    async items(collection: string): Promise<Map<string, string>> {
      const response = await send(
        'PROPFIND',
        collection,
        '<?xml version="1.0"?><propfind xmlns="DAV:"><prop><getetag/></prop></propfind>',
        { depth: '1', 'content-type': 'application/xml' },
      );
      const text = await response.text();
      const hrefs = [...text.matchAll(/<(?:\w+:)?href>([^<]+)<\/(?:\w+:)?href>/g)]
        .map((m) => decodeURI(m[1] ?? ''))
        .filter((href) => href !== collection && !href.endsWith('/'));
      const items = new Map<string, string>();
      for (const href of hrefs) items.set(href, await (await send('GET', encodeURI(href))).text());
      return items;
    },
  };
}

const uidOf = (text: string): string =>
  /^UID:(.*)$/m.exec(text.replace(/\r\n[ \t]/g, ''))?.[1]?.trim() ?? '';
const byUid = (items: Map<string, string>): Map<string, string> =>
  new Map([...items.values()].map((text) => [uidOf(text), text]));
/**
 * An item as a set of content lines: unfolded and sorted, without the lines a server stamps
 * itself (DTSTAMP, PRODID), so two serializations of the same item compare equal.
 */
const semantic = (text: string | undefined): string[] =>
  (text ?? '')
    .replace(/\r\n[ \t]/g, '')
    // A server may add the definition of a time zone an event names without defining it.
    .replace(/BEGIN:VTIMEZONE[\s\S]*?END:VTIMEZONE\r?\n/g, '')
    .split(/\r\n|\n/)
    .filter((line) => line !== '' && !/^(DTSTAMP|PRODID)[:;]/i.test(line))
    .sort();
const json = <T>(stdout: string): T => JSON.parse(stdout) as T;
const pause = () => new Promise((resolve) => setTimeout(resolve, 50));

describe.skipIf(!haveDovecot || !haveRadicale)('calendars and contacts over CalDAV/CardDAV', () => {
  let mail: DovecotServer;
  let radicale: RadicaleServer;
  let ws: Workspace;
  let load: CorpusLoad;
  let alice: ReturnType<typeof dav>;
  let before: Map<string, Map<string, string>>;
  /** A moment after the first backup, before anything was deleted. */
  let firstBackup: Date;

  beforeAll(async () => {
    mail = await startDovecot();
    radicale = await startRadicale();
    ws = await createWorkspace(mail, { accounts: ['alice', 'bob'] });
    await writeFile(join(ws.dir, 'dav-admin.pass'), `${radicale.admin.password}\n`);
    const config = await readFile(ws.config, 'utf8');
    const davLine = `    dav: { url: "${radicale.url}", auth: { user: ${radicale.admin.user}, passwordFile: ${join(ws.dir, 'dav-admin.pass')} }, principalPath: "{account}/" }`;
    await writeFile(ws.config, config.replace(/( {4}imap: [^\n]*\n)/, `$1${davLine}\n`));
    load = await loadDavCorpus(radicale, 'alice', radicale.users.get('alice') ?? '');
    alice = dav(radicale, 'alice', radicale.users.get('alice') ?? '');
    before = new Map();
    for (const { href } of load.collections) before.set(href, await alice.items(href));
    expect((await ws.run(['init', '--scrypt-cost', '12'])).code).toBe(0);
  }, 300_000);

  afterAll(async () => {
    await ws?.remove();
    await radicale?.stop();
    await mail?.stop();
  });

  it('loads most of the corpus into Radicale (what it refuses is reported, not hidden)', () => {
    const calendars = load.accepted.filter((file) => file.kind === 'calendar').length;
    const contacts = load.accepted.filter((file) => file.kind === 'addressbook').length;
    console.log(
      `Radicale accepted ${calendars} calendar and ${contacts} contact files; refused ${load.refused.length}`,
    );
    expect(calendars).toBeGreaterThan(100);
    expect(contacts).toBeGreaterThanOrEqual(20);
  });

  it('backs up every collection and item with the account, and an unchanged run fetches nothing', async () => {
    const first = await ws.run(['backup', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const report = json<BackupJson>(first.stdout);
    await pause();
    firstBackup = new Date();
    expect(report.totals.newItems).toBeGreaterThanOrEqual(load.accepted.length);

    const ls = json<LsJson>((await ws.run(['ls', 'alice', '--json'])).stdout);
    for (const { kind, href } of load.collections) {
      const name = href.split('/').filter(Boolean).at(-1);
      const collection = ls.collections.find((c) => c.kind === kind && c.name === name);
      expect(collection?.count, href).toBe(before.get(href)?.size);
    }

    await pause();
    const second = await ws.run(['backup', 'alice', '--json']);
    expect(second.code, second.stderr).toBe(0);
    const again = json<BackupJson>(second.stdout);
    expect(again.totals.newItems).toBe(0);
    // Discovery (principal, two homes) plus one sync-collection REPORT per collection, no GETs.
    expect(again.totals.davRequests).toBeLessThanOrEqual(3 + 2 * load.collections.length);
  });

  it('shows an item byte for byte and finds events and contacts by their fields', async () => {
    const [calendar] = load.collections.filter((c) => c.kind === 'calendar');
    const name = calendar?.href.split('/').filter(Boolean).at(-1) ?? '';
    const items = json<{ items: ItemJson[] }>(
      (await ws.run(['ls', 'alice', `calendar:${name}`, '--json'])).stdout,
    ).items;
    expect(items.length).toBe(before.get(calendar?.href ?? '')?.size);
    const sample = items.find((item) => item.title && item.uid) ?? items[0];
    const raw = await ws.run(['show', sample?.key ?? '', '--raw']);
    const server = before.get(calendar?.href ?? '')?.get(`${calendar?.href}${sample?.name}`);
    expect(raw.stdout).toBe(server);

    const word = (sample?.title ?? '').match(/[\p{L}\p{N}]{4,}/u)?.[0] ?? '';
    const hits = json<Array<{ key: string }>>(
      (await ws.run(['search', '--account', 'alice', '--subject', word, '--json'])).stdout,
    );
    expect(hits.map((hit) => hit.key)).toContain(sample?.key);

    const contact = json<Array<{ key: string; folder: string }>>(
      (await ws.run(['search', '--email', '@', '--json', '--limit', '1000'])).stdout,
    );
    expect(contact.length).toBeGreaterThan(0);
    expect(
      contact.every(
        (hit) => hit.folder.startsWith('contacts:') || hit.folder.startsWith('calendar:'),
      ),
    ).toBe(true);
  });

  it('restores calendars and contacts into another account, identical as the server serves them', async () => {
    const result = await ws.run([
      'restore',
      'account',
      'alice',
      '--to-account',
      'bob',
      '--only',
      'calendars,contacts',
      '--json',
    ]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const report = json<RestoreJson>(result.stdout);
    expect(report.totals.failed).toBe(0);
    expect(report.totals.restored).toBe(load.accepted.length);
    const bob = dav(radicale, 'bob', radicale.users.get('bob') ?? '');
    for (const { href } of load.collections) {
      const original = before.get(href) ?? new Map<string, string>();
      const copy = await bob.items(href.replace('/alice/', '/bob/'));
      expect(copy.size, href).toBe(original.size);
      for (const [itemHref, text] of original)
        expect(semantic(copy.get(itemHref.replace('/alice/', '/bob/'))), itemHref).toEqual(
          semantic(text),
        );
    }
    // Run again: everything is already there.
    const again = json<RestoreJson>(
      (
        await ws.run([
          'restore',
          'account',
          'alice',
          '--to-account',
          'bob',
          '--only',
          'calendars,contacts',
          '--json',
        ])
      ).stdout,
    );
    expect(again.totals.restored).toBe(0);
    expect(again.totals.alreadyPresent).toBe(load.accepted.length);
  });

  it('undeletes events and contacts deleted between two dates, and recreates a dropped collection', async () => {
    const [calendar] = load.collections.filter((c) => c.kind === 'calendar');
    const [book] = load.collections.filter((c) => c.kind === 'addressbook');
    const calendarItems = [...(before.get(calendar?.href ?? '')?.keys() ?? [])].slice(0, 3);
    const contactItems = [...(before.get(book?.href ?? '')?.keys() ?? [])].slice(0, 2);
    const from = new Date();
    await pause();
    for (const href of [...calendarItems, ...contactItems])
      expect((await alice.send('DELETE', encodeURI(href))).status).toBeLessThan(300);
    expect((await ws.run(['backup', 'alice'])).code).toBe(0);
    await pause();
    const to = new Date();
    const result = await ws.run([
      'restore',
      'undelete',
      'alice',
      '--from',
      from.toISOString(),
      '--to',
      to.toISOString(),
      '--json',
    ]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(json<RestoreJson>(result.stdout).totals.restored).toBe(5);
    for (const href of [...calendarItems, ...contactItems]) {
      const back = await alice.send('GET', encodeURI(href));
      expect(back.status, href).toBe(200);
    }

    // The whole calendar dropped: restore account brings it back with its items.
    expect((await alice.send('DELETE', calendar?.href ?? '')).status).toBeLessThan(300);
    const restored = await ws.run([
      'restore',
      'account',
      'alice',
      '--at',
      firstBackup.toISOString(),
      '--only',
      'calendars',
      '--json',
    ]);
    expect(restored.code, restored.stdout + restored.stderr).toBe(0);
    const now = await alice.items(calendar?.href ?? '');
    const expected = byUid(before.get(calendar?.href ?? '') ?? new Map<string, string>());
    const got = byUid(now);
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [uid, text] of expected) expect(semantic(got.get(uid)), uid).toEqual(semantic(text));
  });

  it('exports calendars as .ics and address books as .vcf, one file per collection', async () => {
    const out = join(ws.dir, 'ics');
    const at = firstBackup.toISOString();
    const result = await ws.run([
      'export',
      'alice',
      '--format',
      'ics',
      '--output',
      out,
      '--at',
      at,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const files = await readdir(out);
    for (const { kind, href } of load.collections.filter((c) => c.kind === 'calendar')) {
      const name = href.split('/').filter(Boolean).at(-1) ?? '';
      expect(files, kind).toContain(`${name}.ics`);
      // Items that do not parse are written apart, as they were, in NAME.broken/.
      const apart = files.includes(`${name}.broken`)
        ? await Promise.all(
            (await readdir(join(out, `${name}.broken`))).map((file) =>
              readFile(join(out, `${name}.broken`, file), 'utf8'),
            ),
          )
        : [];
      const text = [await readFile(join(out, `${name}.ics`), 'utf8'), ...apart]
        .join('\n')
        .replace(/\r\n[ \t]/g, '');
      const uids = new Set([...text.matchAll(/^UID:(.*)$/gm)].map((m) => m[1]?.trim()));
      for (const item of before.get(href)?.values() ?? []) {
        const uid = uidOf(item);
        if (uid) expect(uids.has(uid), uid).toBe(true);
      }
    }
    const vcf = join(ws.dir, 'vcf');
    expect(
      (await ws.run(['export', 'alice', '--format', 'vcf', '--output', vcf, '--at', at])).code,
    ).toBe(0);
    for (const { href } of load.collections.filter((c) => c.kind === 'addressbook')) {
      const name = href.split('/').filter(Boolean).at(-1) ?? '';
      const text = await readFile(join(vcf, `${name}.vcf`), 'utf8');
      const cards = (text.match(/^BEGIN:VCARD/gim) ?? []).length;
      const broken = (await readdir(vcf)).includes(`${name}.broken`)
        ? (await readdir(join(vcf, `${name}.broken`))).length
        : 0;
      expect(cards + broken).toBeGreaterThanOrEqual(before.get(href)?.size ?? 0);
    }
  });
});
