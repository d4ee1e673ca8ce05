// The iCalendar and vCard files of shared/corpora (see its SOURCES.md), and a loader that PUTs
// each file, as it is, as one item into a Radicale account: one calendar for the .ics files
// and one address book for the .vcf files. A file is what a user had; splitting a calendar of
// several events into one item per UID would test our splitter, not the server. What Radicale
// refuses is reported with the HTTP status and the reason from its log, never dropped silently.
//
// Radicale refuses a second item with a UID already in the collection (409 no-uid-conflict);
// several corpus files share UIDs (copies of one sample in two projects), so such a file goes
// into the next collection of its kind (corpus-ics-2, ...) instead of being counted as refused.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { corporaDir } from './corpus.js';
import type { RadicaleServer } from './radicale.js';
import { sleep } from './servers.js';

export type DavCorpusKind = 'calendar' | 'addressbook';

export interface DavCorpusFile {
  /** Path relative to the corpora folder. */
  name: string;
  kind: DavCorpusKind;
  raw: Buffer;
}

function walk(dir: string, out: string[]): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry);
    const stat = statSync(path);
    if (stat.isDirectory()) walk(path, out);
    else if (stat.isFile() && /\.(ics|vcf)$/i.test(entry)) out.push(path);
  }
}

/** Every .ics and .vcf file of the corpora, sorted by name; empty if the corpora are absent. */
export function davCorpusFiles(): DavCorpusFile[] {
  const root = corporaDir();
  const paths: string[] = [];
  walk(root, paths);
  return paths
    .map((path) => ({
      name: relative(root, path),
      kind: (/\.ics$/i.test(path) ? 'calendar' : 'addressbook') as DavCorpusKind,
      raw: readFileSync(path),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export interface LoadedFile {
  file: string;
  kind: DavCorpusKind;
  /** Absolute path of the item on the server. */
  href: string;
  etag: string | null;
}

export interface RefusedFile {
  file: string;
  kind: DavCorpusKind;
  status: number;
  /** The status line, and Radicale's own words from its log when it gave any. */
  reason: string;
}

export interface CorpusLoad {
  /** The collections created, by kind, in the order they were filled. */
  collections: { kind: DavCorpusKind; href: string }[];
  accepted: LoadedFile[];
  refused: RefusedFile[];
}

/** An item name from a corpus path: safe characters only, unique within the load. */
function itemName(file: string, taken: Set<string>): string {
  const base = file.replace(/[^A-Za-z0-9._-]+/g, '_');
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${n}-${base}`;
  taken.add(name);
  return name;
}

class Loader {
  private readonly collections = new Map<DavCorpusKind, string[]>();
  private readonly created: CorpusLoad['collections'] = [];
  private logSeen = 0;

  constructor(
    private readonly server: RadicaleServer,
    private readonly account: string,
    private readonly password: string,
  ) {}

  get collectionList(): CorpusLoad['collections'] {
    return this.created;
  }

  private send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: string | Buffer,
  ) {
    const token = Buffer.from(`${this.account}:${this.password}`).toString('base64');
    return fetch(new URL(path, this.server.url), {
      method,
      headers: { Authorization: `Basic ${token}`, ...headers },
      body,
      signal: AbortSignal.timeout(30_000),
    });
  }

  /** The href of the kind's collection number `index`, created when new. */
  async collection(kind: DavCorpusKind, index: number): Promise<string> {
    const list = this.collections.get(kind) ?? [];
    this.collections.set(kind, list);
    const existing = list[index];
    if (existing !== undefined) return existing;
    const suffix = kind === 'calendar' ? 'ics' : 'vcf';
    const href = `/${encodeURIComponent(this.account)}/corpus-${suffix}${index === 0 ? '' : `-${index + 1}`}/`;
    const response =
      kind === 'calendar'
        ? await this.send('MKCALENDAR', href, {})
        : await this.send(
            'MKCOL',
            href,
            { 'Content-Type': 'application/xml; charset=utf-8' },
            '<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>',
          );
    await response.arrayBuffer();
    if (response.status !== 201) {
      throw new Error(
        `cannot create ${href} on Radicale: ${response.status} ${response.statusText}`,
      );
    }
    list.push(href);
    this.created.push({ kind, href });
    return href;
  }

  async put(file: DavCorpusFile, name: string): Promise<LoadedFile | RefusedFile> {
    for (let index = 0; ; index++) {
      const href = `${await this.collection(file.kind, index)}${name}`;
      const contentType = file.kind === 'calendar' ? 'text/calendar' : 'text/vcard';
      const response = await this.send(
        'PUT',
        href,
        { 'Content-Type': `${contentType}; charset=utf-8`, 'If-None-Match': '*' },
        file.raw,
      );
      const body = await response.text();
      if (response.status === 201) {
        return { file: file.name, kind: file.kind, href, etag: response.headers.get('etag') };
      }
      if (response.status === 409 && body.includes('no-uid-conflict')) continue;
      const logged = await this.loggedReason(href);
      const reason = `${response.status} ${response.statusText}${logged ? `: ${logged}` : ''}`;
      return { file: file.name, kind: file.kind, status: response.status, reason };
    }
  }

  /** Radicale logs "Bad PUT request on '<path>': <why>" before it answers; the pipe may lag. */
  private async loggedReason(href: string): Promise<string | null> {
    const marker = `Bad PUT request on '${decodeURIComponent(href)}': `;
    for (let waited = 0; waited <= 500; waited += 20) {
      const log = this.server.log();
      const at = log.indexOf(marker, this.logSeen);
      if (at !== -1) {
        const end = log.indexOf('\n', at);
        this.logSeen = end === -1 ? log.length : end;
        return log.slice(at + marker.length, end === -1 ? undefined : end).trim();
      }
      await sleep(20);
    }
    return null;
  }
}

/**
 * PUTs every file (default: all of davCorpusFiles()) into `account` on `server`, one item per
 * file, byte for byte; returns what was accepted and what was refused, with why.
 */
export async function loadDavCorpus(
  server: RadicaleServer,
  account: string,
  password: string,
  files: readonly DavCorpusFile[] = davCorpusFiles(),
): Promise<CorpusLoad> {
  const loader = new Loader(server, account, password);
  const taken = new Set<string>();
  const accepted: LoadedFile[] = [];
  const refused: RefusedFile[] = [];
  for (const file of files) {
    const outcome = await loader.put(file, itemName(file.name, taken));
    if ('href' in outcome) accepted.push(outcome);
    else refused.push(outcome);
  }
  return { collections: loader.collectionList, accepted, refused };
}
