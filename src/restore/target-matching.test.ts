import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageEntry } from '../mailbox/folder-listing.js';
import { storeMessage } from '../mailbox/message-store.js';
import { temporaryRepository } from '../mailbox/test-repository.test-helper.js';
import type { Repository } from '../repository/repository.js';
import { looseSha256 } from '../targets/imap/imap-target-reader.js';
import type { PresentMessage, RestoreTarget } from './restore-target.js';
import { findMissing } from './target-matching.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * A target folder holding these messages (with these flags), cutting headers as Dovecot does (at
 * the first blank line, else whole).
 */
function fakeTarget(
  messages: Buffer[],
  flags: string[][] = [],
): { target: RestoreTarget; present: PresentMessage[] } {
  const present = messages.map((raw, i) => {
    const end = raw.indexOf('\r\n\r\n');
    const header = end >= 0 ? raw.subarray(0, end + 4) : raw;
    return {
      uid: i + 1,
      size: raw.length,
      flags: flags[i] ?? [],
      headerSha256: sha256(header),
      headerLooseSha256: looseSha256(header),
      headerIsWhole: header.length === raw.length,
    };
  });
  const target = {
    bodyHashes: async (_path: string, uids: readonly number[]) =>
      new Map(
        uids.map((uid) => [
          uid,
          {
            sha256: sha256(messages[uid - 1] ?? Buffer.alloc(0)),
            looseSha256: looseSha256(messages[uid - 1] ?? Buffer.alloc(0)),
          },
        ]),
      ),
  } as unknown as RestoreTarget;
  return { target, present };
}

async function entries(
  repository: Repository,
  messages: Buffer[],
  flags: string[][] = [],
): Promise<MessageEntry[]> {
  const writer = repository.writer();
  const result: MessageEntry[] = [];
  for (const [i, raw] of messages.entries()) {
    const stored = await storeMessage(writer, repository.chunker, raw);
    result.push({
      uid: i + 1,
      flags: flags[i] ?? [],
      date: new Date(0).toISOString(),
      size: raw.length,
      sha256: stored.sha256,
      manifest: stored.manifest,
    });
  }
  await writer.flush();
  return result;
}

const message = (n: number): Buffer =>
  Buffer.from(`Message-ID: <${n}@example.com>\r\nSubject: number ${n}\r\n\r\nbody ${n}\r\n`);

describe('what a target folder already holds', () => {
  it('counts identical copies: two in the backup need two on the target', async () => {
    const { repository, remove } = await temporaryRepository();
    cleanup = remove;
    const backup = await entries(repository, [message(1), message(1), message(2), message(3)]);
    const { target, present } = fakeTarget([message(1), message(3)]);
    const { missing, alreadyPresent } = await findMissing(
      repository,
      target,
      'INBOX',
      backup,
      present,
    );
    expect(alreadyPresent).toBe(2);
    expect(missing.map((entry) => entry.uid)).toEqual([2, 3]);
  });

  it('recognises a copy whose final CR the server dropped, and one with CR-only lines', async () => {
    const { repository, remove } = await temporaryRepository();
    cleanup = remove;
    const endsInCr = Buffer.concat([message(4), Buffer.from('\r')]);
    const crOnly = Buffer.from('From: a@example.com\rSubject: old Mac mail\r\rbody\rmore\r\r');
    const backup = await entries(repository, [endsInCr, crOnly, message(5)]);
    const { target, present } = fakeTarget([endsInCr.subarray(0, -1), crOnly.subarray(0, -1)]);
    const { missing, alreadyPresent } = await findMissing(
      repository,
      target,
      'INBOX',
      backup,
      present,
    );
    expect(alreadyPresent).toBe(2);
    expect(missing.map((entry) => entry.uid)).toEqual([3]);
  });

  it('does not take a different message of the same size and header for a copy', async () => {
    const { repository, remove } = await temporaryRepository();
    cleanup = remove;
    const original = Buffer.from('Subject: same\r\n\r\nbody A\r\n');
    const other = Buffer.from('Subject: same\r\n\r\nbody B\r\n');
    const backup = await entries(repository, [original]);
    const { target, present } = fakeTarget([other]);
    const { missing, alreadyPresent } = await findMissing(
      repository,
      target,
      'INBOX',
      backup,
      present,
    );
    // Same size and header hash, and a header without Message-ID, Date or Received: only the
    // whole-message hash tells them apart.
    expect(present[0]?.headerSha256).toBe(sha256(Buffer.from('Subject: same\r\n\r\n')));
    expect(alreadyPresent).toBe(0);
    expect(missing.map((entry) => entry.uid)).toEqual([1]);
  });

  it('of two identical messages, finds missing the one whose flags no copy on the target has', async () => {
    const { repository, remove } = await temporaryRepository();
    cleanup = remove;
    const backup = await entries(
      repository,
      [message(1), message(1)],
      [['\\Seen'], ['$Important', '\\Flagged']],
    );
    const { target, present } = fakeTarget([message(1)], [['$Important', '\\Flagged']]);
    const { missing, alreadyPresent } = await findMissing(
      repository,
      target,
      'INBOX',
      backup,
      present,
    );
    expect(alreadyPresent).toBe(1);
    expect(missing.map((entry) => entry.flags)).toEqual([['\\Seen']]);
  });

  it('still takes a copy whose flags changed since the backup for that message', async () => {
    const { repository, remove } = await temporaryRepository();
    cleanup = remove;
    const backup = await entries(repository, [message(1), message(2)], [['\\Seen'], []]);
    const { target, present } = fakeTarget(
      [message(1), message(2)],
      [['\\Answered', '\\Seen'], ['\\Deleted']],
    );
    const { missing, alreadyPresent } = await findMissing(
      repository,
      target,
      'INBOX',
      backup,
      present,
    );
    expect(alreadyPresent).toBe(2);
    expect(missing).toEqual([]);
  });

  it('recognises a copy with NUL bytes as a server without BINARY serves it (0x80 for NUL)', async () => {
    const { repository, remove } = await temporaryRepository();
    cleanup = remove;
    const withNul = Buffer.from('Subject: nul\r\n\r\nbefore\0after\r\n', 'latin1');
    const served = Buffer.from('Subject: nul\r\n\r\nbefore\x80after\r\n', 'latin1');
    const backup = await entries(repository, [withNul]);
    const { target, present } = fakeTarget([served]);
    const { missing, alreadyPresent } = await findMissing(
      repository,
      target,
      'INBOX',
      backup,
      present,
    );
    expect(alreadyPresent).toBe(1);
    expect(missing).toEqual([]);
  });
});

describe('what a target folder already holds, large messages hashed as they are read', () => {
  it('decides as the buffered comparison does: dropped CR, NUL as served, a different body', async () => {
    const { repository, remove } = await temporaryRepository();
    cleanup = remove;
    const endsInCr = Buffer.concat([message(4), Buffer.from('\r')]);
    const withNul = Buffer.from('Subject: nul\r\n\r\nbefore\0after\r\n', 'latin1');
    const served = Buffer.from('Subject: nul\r\n\r\nbefore\x80after\r\n', 'latin1');
    const original = Buffer.from('Subject: same\r\n\r\nbody A\r\n');
    const other = Buffer.from('Subject: same\r\n\r\nbody B\r\n');
    const backup = await entries(repository, [endsInCr, withNul, original]);
    const { target, present } = fakeTarget([endsInCr.subarray(0, -1), served, other]);
    for (const threshold of [undefined, 1]) {
      const { missing, alreadyPresent } = await findMissing(
        repository,
        target,
        'INBOX',
        backup,
        present,
        threshold,
      );
      expect(alreadyPresent).toBe(2);
      expect(missing.map((entry) => entry.uid)).toEqual([3]);
    }
  });
});
