// The foundation's promise, on every real-world message of the shared corpora: back up an
// account, damage it in the ways mail gets lost (expunged, moved, re-flagged, a folder dropped,
// the whole account wiped), restore it at a date, and get back exactly what was there: bytes,
// flags, keywords, INTERNALDATE, folders, special-use and subscriptions; nothing duplicated,
// nothing that is there now deleted or re-flagged; a second restore adds nothing.
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusMessages, servedByDovecot } from '../support/corpus.js';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import {
  fillMailbox,
  readAccount,
  withImap,
  type AccountMessage,
  type AccountState,
  type FixtureMessage,
} from '../support/imap-fixture.js';
import { createWorkspace, type Workspace } from '../support/workspace.js';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Folders of the test account and what goes where; names exercise nesting and modified UTF-7. */
const FOLDERS = [
  'INBOX',
  'Sent',
  'Trash',
  'Drafts',
  'Archive/2023',
  'Archive/2024',
  'Résumé & Co',
  'Projects/Alpha/Notes',
];
const FLAG_SETS = [
  [],
  ['\\Seen'],
  ['\\Seen', '\\Answered'],
  ['\\Flagged'],
  ['\\Seen', '$Forwarded'],
  ['\\Draft', '$Label1', 'NonJunk'],
  ['\\Seen', '\\Deleted'],
];

interface RestoreJson {
  totals: { restored: number; alreadyPresent: number; failed: number; foldersCreated: number };
}

describe.skipIf(!haveDovecot)('account backup and restore on the real-world corpora', () => {
  let server: DovecotServer;
  let ws: Workspace;
  /** sha256 of what Dovecot served at backup -> sha256 of what it serves after that is appended again. */
  const reServed = new Map<string, string>();
  let before: AccountState;
  let firstBackup: Date;

  beforeAll(async () => {
    server = await startDovecot();
    ws = await createWorkspace(server, { accounts: ['alice'] });
    const corpus = corpusMessages().filter((message) => servedByDovecot(message.raw) !== null);
    expect(corpus.length).toBeGreaterThan(1000);
    const folders: Record<string, FixtureMessage[]> = Object.fromEntries(
      FOLDERS.map((folder) => [folder, []]),
    );
    corpus.forEach((message, i) => {
      const served = servedByDovecot(message.raw) as Buffer;
      reServed.set(sha256(served), sha256(servedByDovecot(served) as Buffer));
      const folder = FOLDERS[i % FOLDERS.length] as string;
      folders[folder]?.push({
        raw: message.raw,
        flags: FLAG_SETS[i % FLAG_SETS.length],
        internalDate: new Date(
          Date.UTC(2015 + (i % 10), i % 12, 1 + (i % 28), i % 24, i % 60, i % 60),
        ),
      });
    });
    // The same message twice in one folder must come back twice, not once.
    folders.INBOX?.push({ raw: corpus[0]?.raw ?? Buffer.alloc(1), flags: ['\\Seen'] });
    await fillMailbox(server, 'alice', folders, {
      subscribe: ['Archive/2024', 'Résumé & Co', 'Projects/Alpha/Notes'],
    });
    before = await readAccount(server, 'alice');
    expect((await ws.run(['init', '--scrypt-cost', '12'])).code).toBe(0);
    const backup = await ws.run(['backup', '--json']);
    expect(backup.code, backup.stderr).toBe(0);
    firstBackup = new Date();
  });

  afterAll(async () => {
    await server?.stop();
    await ws?.remove();
  });

  /** What Dovecot should hold after restoring `state` into an empty account. */
  const restored = (state: AccountState): AccountState => ({
    folders: state.folders.map((folder) => ({
      ...folder,
      messages: sortMessages(
        folder.messages.map((message) => ({
          ...message,
          sha256: reServed.get(message.sha256) ?? message.sha256,
          size: -1,
        })),
      ),
    })),
  });
  const withoutSizes = (state: AccountState): AccountState => ({
    folders: state.folders.map((folder) => ({
      ...folder,
      messages: sortMessages(folder.messages.map((message) => ({ ...message, size: -1 }))),
    })),
  });

  it('merges back what was expunged, moved away, or dropped with a folder, and leaves the rest as it is now', async () => {
    await withImap(server, 'alice', async (client) => {
      await client.mailboxOpen('INBOX');
      const uids = (await client.search({ all: true }, { uid: true })) || [];
      await client.messageDelete(uids.slice(0, 30).join(','), { uid: true });
      await client.messageMove(uids.slice(30, 40).join(','), 'Archive/2024', { uid: true });
      await client.mailboxOpen('Sent');
      const sent = (await client.search({ all: true }, { uid: true })) || [];
      await client.messageFlagsAdd(sent.slice(0, 10).join(','), ['\\Flagged', '$Checked'], {
        uid: true,
      });
      await client.messageFlagsRemove(sent.slice(0, 10).join(','), ['\\Seen'], { uid: true });
      await client.mailboxDelete('Projects/Alpha/Notes');
      await client.mailboxUnsubscribe('Archive/2024');
    });
    const damaged = await readAccount(server, 'alice');
    // A second snapshot, of the damaged account: --at picks the first one.
    expect((await ws.run(['backup'])).code).toBe(0);
    const result = await ws.run([
      'restore',
      'account',
      'alice',
      '--at',
      firstBackup.toISOString(),
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const after = await readAccount(server, 'alice');

    // Expected: everything there now, plus each message of the backup that no longer is (by bytes,
    // counting copies), with the flags and date it had at the backup. Copies are paired with the
    // same flags first: of two identical messages, the missing one is the one whose flags are gone.
    const expected: AccountState = {
      folders: before.folders.map((folder) => {
        const now = damaged.folders.find((f) => f.path === folder.path)?.messages ?? [];
        const remaining = [...now];
        const added: AccountMessage[] = [];
        const sameFlags = (a: AccountMessage, b: AccountMessage): boolean =>
          a.flags.join(' ') === b.flags.join(' ');
        const unpaired = folder.messages.filter((message) => {
          const at = remaining.findIndex(
            (m) => m.sha256 === message.sha256 && sameFlags(m, message),
          );
          if (at >= 0) remaining.splice(at, 1);
          return at < 0;
        });
        for (const message of unpaired) {
          const at = remaining.findIndex((m) => m.sha256 === message.sha256);
          if (at >= 0) remaining.splice(at, 1);
          else added.push({ ...message, sha256: reServed.get(message.sha256) ?? message.sha256 });
        }
        return {
          ...folder,
          messages: sortMessages([...now, ...added].map((m) => ({ ...m, size: -1 }))),
        };
      }),
    };
    expect(withoutSizes(after)).toEqual(expected);
    const totals = result.json<RestoreJson>().totals;
    expect(totals.restored).toBe(
      30 +
        10 +
        (before.folders.find((f) => f.path === 'Projects/Alpha/Notes')?.messages.length ?? 0),
    );
    expect(totals.foldersCreated).toBe(1);

    const again = await ws.run([
      'restore',
      'account',
      'alice',
      '--at',
      firstBackup.toISOString(),
      '--json',
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json<RestoreJson>().totals.restored).toBe(0);
    expect(withoutSizes(await readAccount(server, 'alice'))).toEqual(expected);
  });

  it('rebuilds a wiped account exactly as it was at the date, from a later snapshot too', async () => {
    await wipe(server, 'alice');
    const result = await ws.run([
      'restore',
      'account',
      'alice',
      '--at',
      firstBackup.toISOString(),
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(withoutSizes(await readAccount(server, 'alice'))).toEqual(restored(before));
  });

  it('lists items as they were at a date, and the ones deleted since', async () => {
    const listed = async (
      args: string[],
    ): Promise<Array<{ key: string; subject: string; flags: string[] }>> => {
      const result = await ws.run(['ls', 'alice', ...args, '--json']);
      expect(result.code, result.stderr).toBe(0);
      return result.json<{ items: Array<{ key: string; subject: string; flags: string[] }> }>()
        .items;
    };
    const inboxBefore = before.folders.find((f) => f.path === 'INBOX')?.messages.length ?? 0;
    expect(await listed(['INBOX', '--at', firstBackup.toISOString()])).toHaveLength(inboxBefore);
    // The second snapshot saw INBOX after 30 were expunged and 10 moved away.
    const snapshots = (await ws.run(['snapshots', '--json'])).json<Array<{ time: string }>>();
    const second = snapshots[1]?.time ?? '';
    expect(await listed(['INBOX', '--at', second])).toHaveLength(inboxBefore - 40);
    expect(await listed(['INBOX', '--at', second, '--deleted'])).toHaveLength(40);

    const folders = (await ws.run(['ls', 'alice', '--at', second, '--json'])).json<{
      folders: Array<{ path: string; subscribed: boolean }>;
    }>().folders;
    expect(folders.map((f) => f.path)).not.toContain('Projects/Alpha/Notes');
    expect(folders.find((f) => f.path === 'Archive/2024')?.subscribed).toBe(false);

    const item = (await listed(['Sent', '--at', firstBackup.toISOString()]))[0];
    const sentSha =
      before.folders.find((f) => f.path === 'Sent')?.messages.map((m) => m.sha256) ?? [];
    expect(sentSha).toContain(sha256(await rawBytes(ws, item?.key ?? '')));
  });

  it('gives the same answers after the catalog is thrown away and rebuilt from the repository', async () => {
    const queries = [
      ['ls', 'alice', '--at', firstBackup.toISOString()],
      ['ls', 'alice', 'INBOX', '--at', firstBackup.toISOString()],
      ['ls', 'alice', 'Sent'],
      ['ls', 'alice', 'INBOX', '--deleted'],
      ['snapshots'],
      ['accounts'],
    ];
    const answers = async (): Promise<string[]> =>
      Promise.all(queries.map(async (q) => (await ws.run([...q, '--json'])).stdout));
    const original = await answers();
    await rm(ws.catalog);
    await rm(`${ws.catalog}-wal`, { force: true });
    await rm(`${ws.catalog}-shm`, { force: true });
    const rebuild = await ws.run(['catalog', 'rebuild']);
    expect(rebuild.code, rebuild.stderr).toBe(0);
    const rebuilt = await answers();
    expect(rebuilt).toEqual(original);

    await wipe(server, 'alice');
    const result = await ws.run(['restore', 'account', 'alice', '--at', firstBackup.toISOString()]);
    expect(result.code, result.stderr).toBe(0);
    expect(withoutSizes(await readAccount(server, 'alice'))).toEqual(restored(before));
  });

  it('verifies the repository, reading every object', async () => {
    const check = await ws.run(['check', '--read-data', '--json']);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    const report = check.json<{ ok: boolean; errors: string[]; stats: { snapshots: number } }>();
    expect(report.errors).toEqual([]);
    expect(report.stats.snapshots).toBe(2);
  });
});

function sortMessages(messages: AccountMessage[]): AccountMessage[] {
  return [...messages].sort(
    (a, b) =>
      a.sha256.localeCompare(b.sha256) ||
      a.flags.join(' ').localeCompare(b.flags.join(' ')) ||
      a.internalDate.localeCompare(b.internalDate),
  );
}

/** `show --raw` output as bytes (the exact message). */
async function rawBytes(ws: Workspace, key: string): Promise<Buffer> {
  const child = ws.spawn(['show', key, '--raw']);
  const chunks: Buffer[] = [];
  for await (const chunk of child.stdout ?? []) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Deletes every folder and empties INBOX: an account as a new one. */
async function wipe(server: DovecotServer, user: string): Promise<void> {
  await withImap(server, user, async (client) => {
    const folders = await client.list();
    for (const folder of folders.sort((a, b) => b.path.length - a.path.length)) {
      if (folder.path === 'INBOX') continue;
      await client.mailboxDelete(folder.path).catch(() => undefined);
    }
    await client.mailboxOpen('INBOX');
    await client.messageDelete('1:*').catch(() => undefined);
  });
}
