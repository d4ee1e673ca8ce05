// Messages backed up before encoded words were decoded in every charset carry summaries with
// UTF-7 words as written; the catalog lists and finds them decoded all the same.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeAccountTree } from '../mailbox/account-tree.js';
import { writeListing } from '../mailbox/folder-listing.js';
import { readManifest, storeMessage } from '../mailbox/message-store.js';
import { temporaryRepository } from '../mailbox/test-repository.test-helper.js';
import type { Repository } from '../repository/repository.js';
import { Catalog } from './catalog.js';
import { searchItems } from './search.js';
import { storedSummary } from './text-summary.js';

let repository: Repository;
let catalog: Catalog;
let cleanUp: () => void;

beforeEach(async () => {
  const made = await temporaryRepository();
  repository = made.repository;
  await repository.loadIndex();
  const dir = mkdtempSync(join(tmpdir(), 'mailvault-catalog-'));
  catalog = await Catalog.open(join(dir, 'catalog.sqlite'));
  cleanUp = () => {
    made.remove();
    rmSync(dir, { recursive: true, force: true });
  };
});
afterEach(async () => {
  await catalog.close();
  cleanUp();
});

const raw = Buffer.from(
  'From: =?utf-7?Q?J+APw-rgen?= <j@example.de>\r\nSubject: =?utf-7?Q?Die_Fr+APY-sche?=\r\n\r\nQuak.\r\n',
);

/** A message stored as an older mailvault stored it: its summary as that one's decoder left it. */
async function storedByOlderVersion(): Promise<{ manifest: string; sha256: string }> {
  const writer = repository.writer({ workers: 0 });
  const stored = await storeMessage(writer, repository.chunker, raw);
  await writer.flush();
  const manifest = await readManifest(repository, stored.manifest);
  const old = {
    ...manifest,
    summary: {
      ...manifest.summary,
      from: '=?utf-7?Q?J+APw-rgen?= <j@example.de>',
      subject: '=?utf-7?Q?Die_Fr+APY-sche?=',
    },
  };
  const id = (await writer.save('tree', Buffer.from(JSON.stringify(old)))).id.toString('hex');
  const listing = await writeListing(writer, [
    {
      uid: 1,
      flags: [],
      date: '2026-03-03T08:00:00.000Z',
      size: raw.length,
      sha256: stored.sha256,
      manifest: id,
    },
  ]);
  const tree = await writeAccountTree(writer, {
    v: 1,
    folders: [
      {
        path: 'INBOX',
        delimiter: '/',
        specialUse: null,
        attributes: [],
        subscribed: true,
        uidValidity: '1',
        uidNext: 2,
        highestModseq: null,
        count: 1,
        bytes: raw.length,
        listing,
      },
    ],
    orphanSubscriptions: [],
  });
  await writer.flush();
  await writer.close();
  await repository.saveSnapshot({
    version: 1,
    kind: 'account',
    source: 'mail1',
    name: 'alice',
    time: '2026-03-04T01:00:00.000Z',
    run: 'r1',
    tree,
    parent: null,
    hostname: 'test',
    program: 'mailvault 0.1.0',
    summary: {},
  });
  return { manifest: id, sha256: stored.sha256 };
}

describe('summaries stored by an older mailvault', () => {
  it('are made again from the stored header when an encoded word was left in them', async () => {
    const { manifest } = await storedByOlderVersion();
    expect(await storedSummary(repository, manifest)).toMatchObject({
      from: 'Jürgen <j@example.de>',
      subject: 'Die Frösche',
    });
  });

  it('are listed and found decoded once the catalog records them', async () => {
    const { sha256 } = await storedByOlderVersion();
    await catalog.sync(repository);
    const hits = await searchItems(catalog.db, { subject: 'Frösche', limit: 10 });
    expect(hits.map((hit) => [hit.subject, hit.from])).toEqual([
      ['Die Frösche', 'Jürgen <j@example.de>'],
    ]);
    expect((await catalog.item(hits[0]?.key ?? ''))?.sha256).toBe(sha256);
  });
});
