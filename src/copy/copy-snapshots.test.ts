import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Repository } from '../repository/repository.js';
import { LocalStorage } from '../storage/local/local-storage.js';
import { copySnapshots } from './copy-snapshots.js';
import { createDestination, openDestination } from './destination.js';
import { selectSnapshots } from './select-snapshots.js';

const COST = 10;
let root: string;
let source: Repository;
let destination: Repository;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mailvault-copy-'));
  source = await Repository.init(new LocalStorage(join(root, 'source')), 'source pass', {
    scryptCost: COST,
  });
  const storage = new LocalStorage(join(root, 'copy'));
  expect(await openDestination(source, storage, 'copy pass')).toBeNull();
  destination = (
    await createDestination(source, storage, { passphrase: 'copy pass', scryptCost: COST })
  ).repository;
});

afterEach(async () => {
  // Local storage keeps pack files open for range reads until it is closed.
  await source.storage.close();
  await destination.storage.close();
  await rm(root, { recursive: true, force: true });
});

/**
 * A 'command' snapshot (the simplest kind the walk knows) whose output is `chunks`, stored
 * through one writer so that the snapshots of one call share packs. Returns their names.
 */
async function backUp(outputs: Buffer[][], extraChunk?: string): Promise<string[]> {
  const writer = source.writer({ workers: 0 });
  const trees: string[] = [];
  for (const [n, chunks] of outputs.entries()) {
    const ids: string[] = [];
    for (const chunk of chunks) ids.push((await writer.save('data', chunk)).id.toString('hex'));
    if (extraChunk) ids.push(extraChunk);
    const whole = Buffer.concat(chunks);
    const tree = {
      v: 1,
      command: `dump ${n}`,
      exitCode: 0,
      stream: {
        size: whole.length,
        sha256: createHash('sha256').update(whole).digest('hex'),
        chunks: ids,
      },
    };
    trees.push((await writer.save('tree', Buffer.from(JSON.stringify(tree)))).id.toString('hex'));
  }
  await writer.flush();
  await writer.close();
  const names: string[] = [];
  for (const [n, tree] of trees.entries())
    names.push(
      await source.saveSnapshot({
        version: 1,
        kind: 'command',
        source: 'commands',
        name: `db${n}`,
        time: new Date(Date.UTC(2026, 0, 1 + n)).toISOString(),
        run: 'test',
        tree,
        parent: null,
        hostname: 'test',
        program: 'test',
        summary: {},
      }),
    );
  return names;
}

const chunks = (count: number): Buffer[] => Array.from({ length: count }, () => randomBytes(5000));

async function copyAll(accounts: string[] = []) {
  const selection = await selectSnapshots(
    source,
    { storage: destination.storage, repository: destination },
    accounts,
  );
  return { selection, outcome: await copySnapshots(source, destination, selection.toCopy) };
}

/** Every object of the destination opens and hashes to its id. */
async function expectReadable(repository: Repository): Promise<void> {
  const reopened = await Repository.open(repository.storage, 'copy pass');
  await reopened.loadIndex();
  for (const [id] of reopened.index.entries())
    expect(reopened.objectId(await reopened.readObject(id)).equals(id)).toBe(true);
}

describe('copySnapshots', () => {
  it('copies whole packs, then nothing the second time', async () => {
    const names = await backUp([chunks(4), chunks(3)]);
    const { outcome } = await copyAll();
    expect(outcome.copied.sort()).toEqual([...names].sort());
    expect(outcome.stats.objects).toBe(source.index.size);
    expect(outcome.stats.wholePacks).toBe(outcome.stats.packs);
    for (const pack of destination.index.packs()) expect(source.index.packs()).toContain(pack);
    await expectReadable(destination);
    const again = await copyAll();
    expect(again.selection.skipped).toBe(2);
    expect(again.outcome.stats.objects).toBe(0);
  });

  it('takes what one account needs out of shared packs, by ranges', async () => {
    await backUp([chunks(5), chunks(5)]);
    const { selection, outcome } = await copyAll(['commands/db1']);
    expect(selection.toCopy.map((entry) => entry.snapshot.name)).toEqual(['db1']);
    expect(outcome.stats).toMatchObject({ objects: 6, wholePacks: 0 });
    await expectReadable(destination);
  });

  it('writes no snapshot that needs an object the source lacks, and copies the others', async () => {
    const [good] = await backUp([chunks(2)]);
    const [bad] = await backUp([chunks(2)], 'ab'.repeat(32));
    const { outcome } = await copyAll();
    expect(outcome.copied).toEqual([good]);
    expect(outcome.failed).toMatchObject([{ snapshot: bad, account: 'commands/db0' }]);
    expect(outcome.failed[0]?.error).toMatch(
      /object abab.* is not in the source repository's index/,
    );
  });

  it('names a damaged object of the source, and writes no snapshot of its batch', async () => {
    const [name] = await backUp([chunks(3)]);
    // A flipped byte inside an object: its pack no longer matches its name either, so even a
    // pack wanted whole is taken apart and each object authenticated.
    const found = [...source.index.entries()].find(([, at]) => at.type === 'data' && at.offset > 0);
    if (!found) throw new Error('no data object past the start of a pack');
    const [id, location] = found;
    const file = join(root, 'source', 'data', location.pack.slice(0, 2), location.pack);
    const bytes = await readFile(file);
    bytes[location.offset + 30] = (bytes[location.offset + 30] ?? 0) ^ 1;
    await writeFile(file, bytes);
    const { outcome } = await copyAll();
    expect(outcome.copied).toEqual([]);
    expect(outcome.failed).toMatchObject([{ snapshot: name }]);
    expect(outcome.failed[0]?.error).toContain(id.toString('hex'));
    expect(destination.index.has(id)).toBe(false);
  });
});

describe('openDestination', () => {
  it('opens a copy destination with its own passphrase, and refuses another master key', async () => {
    const opened = await openDestination(source, destination.storage, 'copy pass');
    expect(opened?.repository.config.id).toBe(source.config.id);
    const other = await Repository.init(new LocalStorage(join(root, 'other')), 'x', {
      scryptCost: COST,
    });
    await expect(openDestination(source, other.storage, 'x')).rejects.toThrow(/another master key/);
    await other.storage.close();
    await expect(openDestination(source, destination.storage, 'wrong')).rejects.toThrow(
      /wrong passphrase/,
    );
    await expect(openDestination(source, source.storage, 'source pass')).rejects.toThrow(
      /is the source repository itself/,
    );
  });
});
