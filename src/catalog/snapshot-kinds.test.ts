// The catalog reads a snapshot's tree as the tree of its kind, and passes over kinds this
// mailvault does not know: it records them, so a sync does not read them again, and never takes
// one for the account's own snapshot.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dirEntry, writeDirectory, writeFilesRoot } from '../filesets/file-tree.js';
import { writeAccountTree } from '../mailbox/account-tree.js';
import { temporaryRepository } from '../mailbox/test-repository.test-helper.js';
import type { Repository } from '../repository/repository.js';
import type { Snapshot } from '../repository/snapshot/snapshot.js';
import { Catalog } from './catalog.js';

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

const snapshot = (
  fields: Pick<Snapshot, 'kind' | 'source' | 'name' | 'time' | 'tree'>,
): Snapshot => ({
  version: 1,
  run: fields.time,
  parent: null,
  hostname: 'test',
  program: 'mailvault 9.0.0',
  summary: {},
  ...fields,
});

describe('the catalog and snapshot kinds', () => {
  it("does not read a file set's trees as an account's when one of its snapshots goes", async () => {
    const writer = repository.writer({ workers: 0 });
    const meta = { name: '', mode: 0o755, uid: 0, gid: 0, user: 'root', group: null, mtime: '0' };
    const root = await writeFilesRoot(writer, {
      v: 1,
      include: ['/etc'],
      exclude: [],
      root: dirEntry(meta, await writeDirectory(writer, []), false),
    });
    await writer.flush();
    await writer.close();
    const set = { kind: 'files', source: 'files', name: 'etc', tree: root };
    const first = await repository.saveSnapshot(
      snapshot({ ...set, time: '2026-01-01T00:00:00.000Z' }),
    );
    await repository.saveSnapshot(snapshot({ ...set, time: '2026-01-02T00:00:00.000Z' }));
    expect(await catalog.sync(repository)).toEqual({ added: 2, damaged: [] });
    // As forget leaves it: the catalog replays the set's history without the forgotten one.
    await repository.storage.remove({ kind: 'snapshots', name: first });
    await expect(catalog.sync(repository)).resolves.toEqual({ added: 0, damaged: [] });
    expect(await catalog.snapshots({ source: 'files' })).toHaveLength(1);
  });

  it('records a kind it does not know once, and never takes it for the account’s snapshot', async () => {
    const writer = repository.writer({ workers: 0 });
    const tree = await writeAccountTree(writer, { v: 1, folders: [], orphanSubscriptions: [] });
    const archiveTree = (
      await writer.save('tree', Buffer.from(JSON.stringify({ v: 1, parts: [] })))
    ).id.toString('hex');
    await writer.flush();
    await writer.close();
    const alice = { source: 'mail1', name: 'alice@example.com' };
    const accountId = await repository.saveSnapshot(
      snapshot({ ...alice, kind: 'account', tree, time: '2026-03-04T01:00:00.000Z' }),
    );
    await repository.saveSnapshot(
      snapshot({
        ...alice,
        kind: 'mailbox-archive',
        tree: archiveTree,
        time: '2026-03-05T01:00:00.000Z',
      }),
    );
    expect(await catalog.sync(repository)).toEqual({ added: 2, damaged: [] });
    // Recorded: the next sync has nothing to read.
    expect(await catalog.sync(repository)).toEqual({ added: 0, damaged: [] });
    const [account] = await catalog.findAccounts(alice.name);
    expect((await catalog.snapshotAt(account?.id ?? 0, { kind: 'last' }))?.id).toBe(accountId);
    expect((await catalog.snapshots({ account: alice.name })).map((row) => row.id)).toEqual([
      accountId,
    ]);
    expect((await catalog.accounts()).map((row) => row.snapshots)).toEqual([1]);
    // An account snapshot older than the archive is applied as usual, not replayed through it.
    await repository.saveSnapshot(
      snapshot({ ...alice, kind: 'account', tree, time: '2026-03-04T12:00:00.000Z' }),
    );
    await expect(catalog.sync(repository)).resolves.toEqual({ added: 1, damaged: [] });
  });
});
