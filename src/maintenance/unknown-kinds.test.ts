// The maintenance steps beside a snapshot of a kind a newer mailvault wrote: those that would
// decide what is unneeded refuse, check reports it and checks the rest. (The CLI and a committed
// fixture: test/integration/future-kinds.test.ts.)
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { temporaryRepository } from '../mailbox/test-repository.test-helper.js';
import type { Repository } from '../repository/repository.js';
import type { Snapshot } from '../repository/snapshot/snapshot.js';
import { UnknownSnapshotKindError } from '../repository/snapshot/snapshot-kind.js';
import { checkRepository } from './check.js';
import { planForget } from './forget.js';
import { planPrune } from './prune.js';
import { SnapshotWalker } from './snapshot-walk.js';

let repository: Repository;
let remove: () => void;
let archive: Snapshot;
let archiveId: string;

beforeEach(async () => {
  ({ repository, remove } = await temporaryRepository());
  await repository.loadIndex();
  const writer = repository.writer({ workers: 0 });
  const part = (await writer.save('data', Buffer.from('archived bytes'))).id.toString('hex');
  const tree = await writer.save('tree', Buffer.from(JSON.stringify({ v: 1, parts: [part] })));
  await writer.flush();
  await writer.close();
  archive = {
    version: 1,
    kind: 'mailbox-archive',
    source: 'mail1',
    name: 'alice@example.com',
    time: '2026-03-05T01:00:00.000Z',
    run: 'r1',
    tree: tree.id.toString('hex'),
    parent: null,
    hostname: 'test',
    program: 'mailvault 9.0.0',
    summary: {},
  };
  archiveId = await repository.saveSnapshot(archive);
});
afterEach(() => remove());

/** What a refusal must say: the command, the snapshot, its kind, and that a newer mailvault wrote it. */
async function refusal(command: string, work: Promise<unknown>): Promise<void> {
  const error = await work.then(
    () => null,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(UnknownSnapshotKindError);
  const { message } = error as Error;
  expect(message).toMatch(new RegExp(`^${command} refused: `));
  expect(message).toContain(archiveId.slice(0, 8));
  expect(message).toContain('"mailbox-archive"');
  expect(message).toContain('a newer mailvault (mailvault 9.0.0) wrote it');
}

describe('a snapshot of a kind this mailvault does not know', () => {
  it('is not passed over by the walk', async () => {
    const walker = new SnapshotWalker(repository, {
      object: () => undefined,
      unreadable: () => undefined,
    });
    await expect(walker.walk(archive)).rejects.toThrow(/"mailbox-archive", unknown/);
  });

  it('makes prune refuse instead of finding its packs unneeded', async () => {
    await refusal('prune', planPrune(repository, { graceMs: 0, now: new Date() }));
  });

  it('makes forget refuse', async () => {
    await refusal(
      'forget',
      planForget(repository, { keepLast: 1, legalHold: [] }, { now: new Date() }),
    );
  });

  it('makes check --repair refuse, and check report it while checking the rest', async () => {
    const log = pino({ level: 'silent' });
    await refusal(
      'check --repair',
      checkRepository(repository, { readData: true, log, repair: true }),
    );
    const report = await checkRepository(repository, { readData: true, log });
    expect(report.ok).toBe(false);
    expect(report.errors).toEqual([
      expect.stringMatching(
        new RegExp(`^snapshot ${archiveId.slice(0, 8)} .*"mailbox-archive".*was not checked$`),
      ),
    ]);
    expect(report.damagedObjects).toEqual([]);
  });
});
