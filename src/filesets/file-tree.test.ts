import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { temporaryRepository } from '../mailbox/test-repository.test-helper.js';
import type { Repository } from '../repository/repository.js';
import { storeStream } from '../repository/stream-store.js';
import {
  readDirectory,
  readFilesRoot,
  writeDirectory,
  type EntryMeta,
  type FilesRoot,
} from './file-tree.js';
import { findStoredEntry, visitFileSetObjects, walkStoredTree } from './stored-tree.js';
import { FileTreeBuilder } from './tree-builder.js';

let repository: Repository;
let remove: () => void;

beforeEach(async () => {
  ({ repository, remove } = await temporaryRepository());
});
afterEach(() => remove());

const meta = (name: string, mtime = '1700000000123456789'): EntryMeta => ({
  name,
  mode: 0o644,
  uid: 0,
  gid: 0,
  user: 'root',
  group: null,
  mtime,
});

async function* bytes(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text);
}

/** Builds /etc/app/{a.conf,link,empty/} and /etc/app/b.conf (when given) as a walk would. */
async function build(
  parent: FilesRoot | null,
  files: Record<string, string>,
): Promise<{ root: string; read: string[] }> {
  const writer = repository.writer({ workers: 0 });
  const builder = new FileTreeBuilder(repository, writer, parent);
  const read: string[] = [];
  await builder.enter(meta(''), true);
  await builder.enter(meta('etc'), true);
  await builder.enter({ ...meta('app'), mode: 0o2755 }, false);
  for (const [name, text] of Object.entries(files)) {
    const identity = { size: Buffer.byteLength(text), ino: '42', ctime: '1700000000000000000' };
    const reused = builder.unchanged(meta(name), identity);
    if (reused) builder.addRecord(reused);
    else {
      read.push(name);
      builder.addFile(meta(name), await storeStream(repository, writer, bytes(text)), identity);
    }
  }
  builder.addSymlink(meta('link'), '../elsewhere');
  await builder.enter(meta('empty'), false);
  await builder.leave();
  await builder.leave();
  await builder.leave();
  await builder.leave();
  const root = await builder.finish(['/etc/app'], ['*.pem']);
  await writer.flush();
  await writer.close();
  return { root, read };
}

describe('file set trees', () => {
  it('round-trips: a root, one tree per directory, entries with their metadata', async () => {
    const { root } = await build(null, { 'a.conf': 'alpha', 'b.conf': 'beta' });
    const files = await readFilesRoot(repository, root);
    expect(files).toMatchObject({ v: 1, include: ['/etc/app'], exclude: ['*.pem'] });
    expect(files.root).toMatchObject({ type: 'dir', name: '', partial: true });
    const events = [];
    for await (const event of walkStoredTree(repository, files))
      events.push(`${event.type} ${event.path}`);
    expect(events).toEqual([
      'enter /',
      'enter /etc',
      'enter /etc/app',
      'item /etc/app/a.conf',
      'item /etc/app/b.conf',
      'enter /etc/app/empty',
      'leave /etc/app/empty',
      'item /etc/app/link',
      'leave /etc/app',
      'leave /etc',
      'leave /',
    ]);
    const app = await findStoredEntry(repository, files, '/etc/app');
    expect(app).toMatchObject({ type: 'dir', mode: 0o2755, mtime: '1700000000123456789' });
    expect(app && 'partial' in app).toBe(false);
    expect(await findStoredEntry(repository, files, '/etc/app/link')).toMatchObject({
      type: 'symlink',
      target: '../elsewhere',
    });
    expect(await findStoredEntry(repository, files, '/etc/app/a.conf')).toMatchObject({
      type: 'file',
      size: 5,
      user: 'root',
      group: null,
    });
    expect(await findStoredEntry(repository, files, '/etc/other')).toBeNull();
  });

  it('selects a path with everything below it, and the directories on the way', async () => {
    const files = await readFilesRoot(repository, (await build(null, { 'a.conf': 'a' })).root);
    const events = [];
    for await (const event of walkStoredTree(repository, files, ['/etc/app/empty/']))
      events.push(
        `${event.type} ${event.path}${'selected' in event && event.selected ? ' *' : ''}`,
      );
    expect(events).toEqual([
      'enter /',
      'enter /etc',
      'enter /etc/app',
      'enter /etc/app/empty *',
      'leave /etc/app/empty *',
      'leave /etc/app',
      'leave /etc',
      'leave /',
    ]);
  });

  it('reuses unchanged files and writes identical trees for unchanged directories', async () => {
    const first = await build(null, { 'a.conf': 'alpha', 'b.conf': 'beta' });
    expect(first.read).toEqual(['a.conf', 'b.conf']);
    const parent = await readFilesRoot(repository, first.root);
    const again = await build(parent, { 'a.conf': 'alpha', 'b.conf': 'beta' });
    expect(again.read).toEqual([]);
    expect(again.root).toBe(first.root);
    const changed = await build(parent, { 'a.conf': 'alpha', 'b.conf': 'beta, longer' });
    expect(changed.read).toEqual(['b.conf']);
    expect(changed.root).not.toBe(first.root);
  });

  it('lists every object a snapshot needs, for check', async () => {
    const { root } = await build(null, { 'a.conf': 'alpha' });
    const seen: string[] = [];
    await visitFileSetObjects(
      repository,
      root,
      (id, type) => seen.push(type),
      () => {
        throw new Error('unreadable');
      },
    );
    // root, /, /etc, /etc/app, /etc/app/empty; one chunk.
    expect(seen.filter((type) => type === 'tree')).toHaveLength(5);
    expect(seen.filter((type) => type === 'data')).toHaveLength(1);
  });

  it('refuses trees of another version and names that leave their directory', async () => {
    const writer = repository.writer({ workers: 0 });
    const newer = (
      await writer.save('tree', Buffer.from(JSON.stringify({ v: 2, entries: [] })))
    ).id.toString('hex');
    const evil = await writeDirectory(writer, [{ type: 'symlink', ...meta('..'), target: '/' }]);
    const slash = await writeDirectory(writer, [{ type: 'symlink', ...meta('a/b'), target: '/' }]);
    await writer.flush();
    await writer.close();
    await expect(readDirectory(repository, newer)).rejects.toThrow(/unsupported version 2/);
    await expect(readDirectory(repository, evil)).rejects.toThrow(/invalid entry name/);
    await expect(readDirectory(repository, slash)).rejects.toThrow(/invalid entry name/);
  });
});
