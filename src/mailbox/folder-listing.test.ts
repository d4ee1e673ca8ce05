import { afterEach, describe, expect, it } from 'vitest';
import {
  readAllEntries,
  readListingPage,
  readListingRoot,
  writeListing,
  type MessageEntry,
} from './folder-listing.js';
import { temporaryRepository } from './test-repository.test-helper.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

const entry = (uid: number, flags: string[] = []): MessageEntry => ({
  uid,
  flags,
  date: new Date(Date.UTC(2026, 0, 1, 0, 0, uid)).toISOString(),
  size: 1000 + uid,
  sha256: uid.toString(16).padStart(64, '0'),
  manifest: (uid + 1).toString(16).padStart(64, '0'),
});

describe('folder listings', () => {
  it('reads back what was written, in UID order', async () => {
    const { repository, remove } = await temporaryRepository();
    cleanup = remove;
    const entries = Array.from({ length: 3000 }, (_, i) =>
      entry(i * 3 + 1, i % 5 ? [] : ['\\Seen']),
    );
    const writer = repository.writer();
    const id = await writeListing(writer, entries);
    await writer.flush();
    expect(await readAllEntries(repository, id)).toEqual(entries);
    const root = await readListingRoot(repository, id);
    expect(root.count).toBe(3000);
    expect(root.pages.length).toBeGreaterThan(10);
  });

  it('costs one page and the root for a new message or a changed flag in a large folder', async () => {
    const { repository, remove } = await temporaryRepository();
    cleanup = remove;
    const entries = Array.from({ length: 20_000 }, (_, i) => entry(i + 1));
    const writer = repository.writer();
    await writeListing(writer, entries);
    const before = writer.stats.objectsAdded;
    await writeListing(writer, [...entries, entry(20_001)]);
    expect(writer.stats.objectsAdded - before).toBeLessThanOrEqual(2);
    const flagged = entries.map((e) => (e.uid === 12_345 ? { ...e, flags: ['\\Flagged'] } : e));
    const beforeFlag = writer.stats.objectsAdded;
    await writeListing(writer, flagged);
    expect(writer.stats.objectsAdded - beforeFlag).toBe(2);
  });

  it('refuses a root or page of another version instead of misreading it', async () => {
    const { repository, remove } = await temporaryRepository();
    cleanup = remove;
    const writer = repository.writer();
    const id = await writeListing(writer, [entry(1), entry(2)]);
    await writer.flush();
    const root = await readListingRoot(repository, id);
    const page = root.pages[0]?.id ?? '';
    const pageTree = await repository.readTree<object>(Buffer.from(page, 'hex'));
    const save = async (tree: object): Promise<string> =>
      (await writer.save('tree', Buffer.from(JSON.stringify(tree)))).id.toString('hex');
    const newerRoot = await save({ ...root, v: 2 });
    const newerPage = await save({ ...pageTree, v: 2 });
    const rootOfNewerPage = await save({ ...root, pages: [{ ...root.pages[0], id: newerPage }] });
    await writer.flush();
    await expect(readListingRoot(repository, newerRoot)).rejects.toThrow(
      `folder listing ${newerRoot}: unsupported version 2 (upgrade mailvault)`,
    );
    await expect(readListingPage(repository, newerPage)).rejects.toThrow(
      `listing page ${newerPage}: unsupported version 2 (upgrade mailvault)`,
    );
    await expect(readAllEntries(repository, rootOfNewerPage)).rejects.toThrow(
      /listing page .*unsupported version 2/,
    );
    expect(await readAllEntries(repository, id)).toEqual([entry(1), entry(2)]);
  });

  it('refuses entries out of UID order', async () => {
    const { repository, remove } = await temporaryRepository();
    cleanup = remove;
    await expect(writeListing(repository.writer(), [entry(5), entry(3)])).rejects.toThrow(
      /sorted by UID/,
    );
  });
});
