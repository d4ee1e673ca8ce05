import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../catalog/catalog.js';
import { parseAt } from '../dates/at-spec.js';
import { UsageError } from './errors.js';
import { accountSnapshotAt, momentOf } from './snapshot-at.js';

// Snapshot ids as a catalog holds them, two of them sharing their first 12 characters.
const ALICE_1 = 'aaaa1111bbbb0001' + '0'.repeat(48);
const ALICE_2 = 'aaaa1111bbbb0002' + '0'.repeat(48);
const BOB_1 = 'b0b0b0b0b0b0b0b0' + '1'.repeat(48);

let dir: string;
let catalog: Catalog;
const alice = { id: 0, source: 'mail1', name: 'alice' };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailvault-snapshot-at-'));
  catalog = await Catalog.open(join(dir, 'catalog.sqlite'));
  const account = async (name: string): Promise<number> => {
    const row = await catalog.db
      .insertInto('accounts')
      .values({ source: 'mail1', name, first_seen: 0, last_seen: 0, gone_since: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  };
  alice.id = await account('alice');
  const bob = await account('bob');
  const snapshot = (id: string, accountId: number, time: number) => ({
    id,
    account_id: accountId,
    kind: 'mailbox',
    time,
    run: 'r',
    tree: 't',
    parent: null,
    items: 0,
    bytes: 0,
    new_items: 0,
    bytes_added: 0,
    run_file: null,
  });
  await catalog.db
    .insertInto('snapshots')
    .values([
      snapshot(ALICE_1, alice.id, Date.UTC(2026, 10, 20, 14, 30, 5, 250)),
      snapshot(ALICE_2, alice.id, Date.UTC(2026, 10, 21, 9, 0, 0, 0)),
      snapshot(BOB_1, bob, Date.UTC(2026, 10, 20, 14, 30, 5, 500)),
    ])
    .execute();
});

afterAll(async () => {
  await catalog?.close();
  await rm(dir, { recursive: true, force: true });
});

const at = (text: string) => accountSnapshotAt(catalog, alice, parseAt(text));

describe('--at with a snapshot id', () => {
  it('means exactly that snapshot, whole or by a prefix', async () => {
    expect((await at(ALICE_1))?.id).toBe(ALICE_1);
    expect((await at('aaaa1111bbbb0002'))?.id).toBe(ALICE_2);
    expect((await at('AAAA1111BBBB0001'))?.id).toBe(ALICE_1);
  });

  it('lists the candidates of an ambiguous prefix', async () => {
    const error = await at('aaaa1111bbbb').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(
      `--at aaaa1111bbbb: the ids of 2 snapshots begin so: ${ALICE_1} (mail1/alice, ${local(2026, 10, 20, 14, 30, 5)}), ` +
        `${ALICE_2} (mail1/alice, ${local(2026, 10, 21, 9, 0, 0)}); give more of the id`,
    );
  });

  it("refuses another account's snapshot, and an id no snapshot has", async () => {
    await expect(at('b0b0b0b0b0b0')).rejects.toThrow(
      '--at b0b0b0b0b0b0: that snapshot is of mail1/bob, not of mail1/alice',
    );
    await expect(at('cccccccccccc')).rejects.toThrow(
      '--at cccccccccccc: no snapshot has this id (mailvault snapshots lists them)',
    );
  });

  it('stands for its time where a moment is asked for', async () => {
    expect((await momentOf(catalog, parseAt('b0b0b0b0b0b0'), '--after')).toISOString()).toBe(
      '2026-11-20T14:30:05.500Z',
    );
  });
});

/** A UTC moment as the CLI prints it, in local time to the second. */
function local(...utc: [number, number, number, number, number, number]): string {
  const date = new Date(Date.UTC(...utc));
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}
