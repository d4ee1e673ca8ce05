// Every .ics and .vcf of shared/corpora PUT as one item each into a real Radicale, then read
// back through the DAV reader as a backup would: what the server refuses is listed with its
// reason (printed for the notes), and every item it accepted comes back with exactly the bytes
// it serves, and the UID of the file it came from.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openDavAccountReader,
  type DavAccountReader,
  type FetchedItem,
} from '../../src/sources/dav/dav-account-reader.js';
import { itemUid } from '../../src/targets/dav/item-uid.js';
import { davCorpusFiles, loadDavCorpus, type CorpusLoad } from '../support/dav-corpus.js';
import { haveRadicale, startRadicale, type RadicaleServer } from '../support/radicale.js';

/** Fewer files than this means the corpora were not found where expected. */
const MIN_FILES = 450;
const files = davCorpusFiles();

/** Why Radicale refused a file, in a few words for the notes. */
function category(reason: string): string {
  if (
    /Multiple \w+ components (with different UIDs|without UID)|Item contains \d+ components/.test(
      reason,
    )
  )
    return 'several objects in one file (an export, not one calendar object or vCard)';
  if (/without UID/.test(reason)) return 'no UID';
  if (/Item type '[^']*' not supported/.test(reason))
    return 'no event, task, journal or card at the top';
  if (/never closed|wasn't closed|Failed to parse line/.test(reason))
    return 'not parseable as iCalendar/vCard';
  return 'a value Radicale (vobject) rejects';
}

describe.skipIf(!haveRadicale)('the DAV corpus on Radicale', () => {
  let server: RadicaleServer;
  let load: CorpusLoad;
  let reader: DavAccountReader;

  beforeAll(async () => {
    server = await startRadicale({ users: { alice: 'alicepw' } });
    load = await loadDavCorpus(server, 'alice', 'alicepw', files);
    reader = await openDavAccountReader(
      { url: server.url, credentials: { user: 'alice', password: 'alicepw' } },
      'alice',
    );
  }, 180_000);

  afterAll(async () => {
    await reader?.close();
    await server?.stop();
  });

  it(`finds at least ${MIN_FILES} iCalendar and vCard files`, () => {
    expect(files.length).toBeGreaterThanOrEqual(MIN_FILES);
  });

  it('accepts most files and says why it refuses the others', () => {
    const byKind = (kind: string) => ({
      accepted: load.accepted.filter((file) => file.kind === kind).length,
      refused: load.refused.filter((file) => file.kind === kind).length,
    });
    const summary = new Map<string, number>();
    for (const refusal of load.refused) {
      const key = `${refusal.kind}: ${category(refusal.reason)}`;
      summary.set(key, (summary.get(key) ?? 0) + 1);
    }
    console.log(
      `Radicale accepted ${load.accepted.length} of ${files.length} corpus files ` +
        `(calendars ${JSON.stringify(byKind('calendar'))}, contacts ${JSON.stringify(byKind('addressbook'))}) ` +
        `into ${load.collections.length} collections; refusals by cause:\n` +
        [...summary].map(([key, count]) => `  ${count}\t${key}`).join('\n') +
        '\nEvery refusal:\n' +
        load.refused.map((refusal) => `  ${refusal.file}: ${refusal.reason}`).join('\n'),
    );
    expect(load.accepted.length + load.refused.length).toBe(files.length);
    expect(byKind('calendar').accepted).toBeGreaterThanOrEqual(150);
    expect(byKind('addressbook').accepted).toBeGreaterThanOrEqual(15);
    // The corpora hold deliberately broken files: some must be refused, each with a reason.
    expect(byKind('calendar').refused).toBeGreaterThan(0);
    expect(byKind('addressbook').refused).toBeGreaterThan(0);
    for (const refusal of load.refused) {
      expect(refusal.status).toBeGreaterThanOrEqual(400);
      expect(refusal.status).toBeLessThan(500);
      expect(refusal.reason).toMatch(/^\d{3} [^:]+: \S/);
    }
  });

  it('reads back every accepted item: listed, fetched byte for byte as served, with its UID', async () => {
    const collections = await reader.collections();
    expect(collections.map((collection) => collection.href).sort()).toEqual(
      load.collections.map((collection) => collection.href).sort(),
    );
    const original = new Map(files.map((file) => [file.name, file.raw]));
    const expectedHrefs = new Map(load.accepted.map((file) => [file.href, file.file]));
    const fetched: FetchedItem[] = [];
    const started = performance.now();
    const requestsBefore = reader.requests;
    for (const collection of collections) {
      const changes = await reader.changes(collection, null);
      expect(changes.how).toBe('initial');
      const hrefs = changes.changed.map((item) => item.href);
      for (const href of hrefs) expect(expectedHrefs.has(href)).toBe(true);
      for await (const item of reader.fetch(collection, hrefs)) {
        if (!('bytes' in item)) throw new Error(`${item.href}: ${item.error}`);
        fetched.push(item);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `Listed and fetched ${fetched.length} items from ${collections.length} collections in ` +
        `${seconds.toFixed(2)} s (${Math.round(fetched.length / seconds)} items/s, ` +
        `${reader.requests - requestsBefore} requests)`,
    );
    expect(fetched.map((item) => item.href).sort()).toEqual([...expectedHrefs.keys()].sort());

    const auth = `Basic ${Buffer.from('alice:alicepw').toString('base64')}`;
    for (const item of fetched) {
      const served = await fetch(new URL(item.href, server.url), {
        headers: { Authorization: auth },
      });
      const bytes = Buffer.from(await served.arrayBuffer());
      expect(item.bytes.equals(bytes), `${item.href}: the multiget bytes are the GET bytes`).toBe(
        true,
      );
      expect(item.etag).toBe(served.headers.get('etag'));
      const file = expectedHrefs.get(item.href) ?? '';
      const uid = itemUid(original.get(file) ?? Buffer.alloc(0));
      if (uid !== null) expect(itemUid(item.bytes), file).toBe(uid);
    }
  });

  it('costs nothing per collection on a run where nothing changed, one REPORT when asked', async () => {
    const collections = await reader.collections();
    const states = new Map<string, { syncToken: string | null; items: Map<string, string> }>();
    for (const collection of collections) {
      const changes = await reader.changes(collection, null);
      states.set(collection.href, {
        syncToken: changes.syncToken,
        items: new Map(changes.changed.map((item) => [item.href, item.etag])),
      });
    }

    const fresh = await openDavAccountReader(
      { url: server.url, credentials: { user: 'alice', password: 'alicepw' } },
      'alice',
    );
    try {
      const listed = await fresh.collections();
      const discovery = fresh.requests;
      for (const collection of listed) {
        const changes = await fresh.changes(collection, states.get(collection.href) ?? null);
        expect(changes.changed).toEqual([]);
        expect(changes.removed).toEqual([]);
      }
      const perCollection = (fresh.requests - discovery) / listed.length;
      const before = fresh.requests;
      for (const collection of listed) {
        await fresh.changes(
          { ...collection, syncToken: null },
          states.get(collection.href) ?? null,
        );
      }
      const reportPerCollection = (fresh.requests - before) / listed.length;
      console.log(
        `No-change run over ${listed.length} collections: ${discovery} requests to list them, ` +
          `${perCollection} per collection after that; ${reportPerCollection} per collection when each is asked by sync-collection`,
      );
      expect(discovery).toBe(4);
      expect(perCollection).toBe(0);
      expect(reportPerCollection).toBe(1);
    } finally {
      await fresh.close();
    }
  });
});
